package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/pim6sd/pim6sd/kernel"
)

// probeKernel is kernel.Probe; tests replace it to render made-up kernels.
var probeKernel = kernel.Probe

// kernelReport is check-kernel's result, also its --json form.
type kernelReport struct {
	Release      string              `json:"release"`
	OK           bool                `json:"ok"` // every capability the daemon uses is there
	Capabilities []kernel.Capability `json:"capabilities"`
}

// newKernelReport judges the capabilities. OK is strict on purpose: a
// kernel without a second table or without PIM-SM still runs pim6sd, but
// not all of it (mrt-table, any-source multicast), and check-kernel answers
// "can all of pim6sd work here"; the verdict says what is lost.
func newKernelReport(release string, caps []kernel.Capability) kernelReport {
	r := kernelReport{Release: release, OK: true, Capabilities: caps}
	for _, c := range caps {
		if c.NeededBy == kernel.NeedDaemon && c.Have != kernel.Yes {
			r.OK = false
		}
	}
	return r
}

// checkKernel is `pim6sd check-kernel`: the table of capabilities on
// stdout, and exit status 0 when the daemon has everything it uses, 1
// otherwise, with what is missing and the fix on stderr. Test-only
// capabilities are listed but do not change the exit status.
func checkKernel(c *cli.Context) error {
	if c.NArg() != 0 {
		return cli.Exit(fmt.Sprintf("pim6sd check-kernel: unexpected argument %q", c.Args().First()), 2)
	}
	r := newKernelReport(kernel.Release(), probeKernel())
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return cli.Exit("pim6sd check-kernel: "+err.Error(), 1)
		}
		if !r.OK {
			return cli.Exit("", 1)
		}
		return nil
	}
	writeKernelTable(c.App.Writer, r)
	msg := kernelVerdict(r)
	if !r.OK {
		return cli.Exit(msg, 1)
	}
	fmt.Fprintln(c.App.Writer, msg)
	return nil
}

// writeKernelTable writes the kernel release and one aligned row per
// capability.
func writeKernelTable(w io.Writer, r kernelReport) {
	rel := r.Release
	if rel == "" {
		rel = "(uname failed)"
	}
	fmt.Fprintf(w, "kernel %s\n\n", rel)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CAPABILITY\tKERNEL OPTION\tHAVE\tNEEDED BY\tDETAIL")
	for _, c := range r.Capabilities {
		opt := c.ConfigOption
		if opt == "" {
			opt = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, opt, c.Have, c.NeededBy, c.Detail)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// kernelVerdict says in a few lines whether pim6sd has what it uses; if
// not, what stops working and the one fix for all of it.
func kernelVerdict(r kernelReport) string {
	const p = "pim6sd check-kernel: "
	var lines, options, unknown, tests []string
	noMRT6 := false
	for _, c := range r.Capabilities {
		if c.Name == kernel.CapMRT6 && c.Have == kernel.No {
			noMRT6 = true
		}
	}
	for _, c := range r.Capabilities {
		switch {
		case c.Have == kernel.Yes:
		case c.NeededBy != kernel.NeedDaemon:
			if c.Have == kernel.No {
				tests = append(tests, c.Name)
			}
		case c.Have == kernel.Unknown:
			if !slices.Contains(unknown, c.Detail) {
				unknown = append(unknown, c.Detail)
			}
		default:
			options = append(options, c.ConfigOption)
			// Without multicast routing the others cannot be there
			// either (they depend on it); its line says it all.
			if !noMRT6 || c.Name == kernel.CapMRT6 {
				lines = append(lines, fmt.Sprintf("%sno %s (%s): %s", p, c.Name, c.ConfigOption, c.Impact))
			}
		}
	}
	if len(unknown) > 0 {
		lines = append(lines, p+"cannot tell whether pim6sd has what it uses: "+strings.Join(unknown, "; "))
	}
	if len(options) > 0 {
		fix := "boot a kernel built with " + strings.Join(options, "=y, ") + "=y, such as Debian's packaged linux-image-amd64"
		if len(options) == 1 && options[0] == "CONFIG_IPV6_MROUTE_MULTIPLE_TABLES" {
			fix = "keep mrt-table = 0 in [global] of the configuration (the default), or " + fix
		}
		lines = append(lines, p+"fix: "+fix)
	}
	if len(tests) > 0 {
		lines = append(lines, p+"missing for the tests only (no effect on the exit status): "+strings.Join(tests, ", "))
	}
	if r.OK {
		lines = append([]string{p + "ok: this kernel has everything pim6sd uses"}, lines...)
	}
	return strings.Join(lines, "\n")
}

// kernelStartError is what the user reads when the daemon cannot open the
// kernel's multicast routing. A kernel built without an option gets two
// lines: what is missing (with the option and the kernel release), and the
// fix; other errors keep their whole chain on one line.
func kernelStartError(err error, configPath string) error {
	var m *kernel.MissingOptionError
	if !errors.As(err, &m) {
		return fmt.Errorf("pim6sd: cannot open the kernel's multicast routing: %w", err)
	}
	rel := kernel.Release()
	if rel == "" {
		rel = "the running kernel"
	}
	fix := m.Fix
	if errors.Is(err, kernel.ErrNoMultipleTables) {
		// The kernel package does not know how the table was chosen.
		where := "the configuration"
		if configPath != "" {
			where = configPath
		}
		fix = fmt.Sprintf("use the default table (mrt-table = 0 in [global] of %s, or leave the key out), or boot a kernel built with %s=y, such as Debian's packaged linux-image-amd64", where, m.Option)
	}
	return &startError{
		msg: fmt.Sprintf("pim6sd: cannot start: this kernel (%s) has no %s: it was built without %s (%s on table %d: %v)\npim6sd: fix: %s; %s",
			rel, m.Missing, m.Option, m.Op, m.Table, m.Err, fix, kernel.CheckKernelHint),
		err: err,
	}
}

// startError is an error with its own text that still unwraps to its
// cause, for errors.Is.
type startError struct {
	msg string
	err error
}

func (e *startError) Error() string { return e.msg }
func (e *startError) Unwrap() error { return e.err }
