package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pim6sd/pim6sd/internal/daemon"
	"github.com/pim6sd/pim6sd/internal/netns"
	"github.com/pim6sd/pim6sd/kernel"
)

// check-kernel on the kernel this test runs on: its exit status and its
// MRT6 row agree with the kernel's /proc (and, where the test can read the
// build configuration, with the two other options the daemon uses), so it
// passes on kernels with and without multicast routing and fails if
// check-kernel says anything else.
func TestCheckKernel(t *testing.T) {
	netns.RequireRoot(t)
	mrt6 := netns.HaveMRT6()
	wantOK := mrt6
	// Without a configuration to read, a kernel with multicast routing is
	// taken to have these too (every kernel here does).
	if cfg, _ := netns.KernelConfig(t); cfg != nil {
		for _, opt := range []string{"CONFIG_IPV6_MROUTE_MULTIPLE_TABLES", "CONFIG_IPV6_PIMSM_V2"} {
			if v := cfg[opt]; v != "y" && v != "m" {
				wantOK = false
			}
		}
	}
	wantCode, wantHave := 1, "no"
	if wantOK {
		wantCode = 0
	}
	if mrt6 {
		wantHave = "yes"
	}

	code, out, errOut := runMain("check-kernel")
	t.Logf("exit %d\n%s%s", code, out, errOut)
	if code != wantCode {
		t.Errorf("exit %d, want %d (/proc/net/ip6_mr_vif exists: %v)", code, wantCode, mrt6)
	}
	if !strings.HasPrefix(out, "kernel "+kernel.Release()+"\n") {
		t.Errorf("output does not start with the kernel release %q", kernel.Release())
	}
	row := regexp.MustCompile(`(?m)^MRT6 +CONFIG_IPV6_MROUTE +(\S+) +daemon +\S`).FindStringSubmatch(out)
	if row == nil || row[1] != wantHave {
		t.Errorf("MRT6 row %q, want have %q", row, wantHave)
	}
	if !mrt6 {
		for _, want := range []string{"no MRT6 (CONFIG_IPV6_MROUTE): pim6sd cannot start", "fix: boot a kernel built with CONFIG_IPV6_MROUTE=y"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q", want)
			}
		}
	}

	code, out, errOut = runMain("check-kernel", "--json")
	var r struct {
		Release      string
		OK           bool
		Capabilities []struct{ Name, ConfigOption, Have, NeededBy string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json: %v: %s", err, out)
	}
	if code != wantCode || r.OK != wantOK || errOut != "" || r.Release != kernel.Release() {
		t.Errorf("--json: exit %d ok %v release %q stderr %q; want exit %d ok %v release %q and nothing on stderr",
			code, r.OK, r.Release, errOut, wantCode, wantOK, kernel.Release())
	}
	if len(r.Capabilities) == 0 || r.Capabilities[0].Name != kernel.CapMRT6 || r.Capabilities[0].Have != wantHave {
		t.Errorf("--json: first capability %+v, want MRT6 %s", r.Capabilities, wantHave)
	}
}

// mockKernel is a kernel that has every capability but those named.
func mockKernel(have map[string]kernel.Have) func() []kernel.Capability {
	return func() []kernel.Capability {
		caps := []kernel.Capability{
			{Name: kernel.CapMRT6, ConfigOption: "CONFIG_IPV6_MROUTE", NeededBy: kernel.NeedDaemon, Impact: "pim6sd cannot start", Fix: "fix mroute"},
			{Name: kernel.CapMultipleTables, ConfigOption: "CONFIG_IPV6_MROUTE_MULTIPLE_TABLES", NeededBy: kernel.NeedDaemon, Impact: "only table 0", Fix: "fix tables"},
			{Name: kernel.CapPIMRegister, ConfigOption: "CONFIG_IPV6_PIMSM_V2", NeededBy: kernel.NeedDaemon, Impact: "no ASM", Fix: "fix pimsm"},
			{Name: kernel.CapWrongMIFWhole, NeededBy: kernel.NeedTests, Impact: "tests"},
			{Name: kernel.CapDummy, ConfigOption: "CONFIG_DUMMY", NeededBy: kernel.NeedTests, Impact: "tests"},
		}
		for i := range caps {
			caps[i].Have, caps[i].Detail = kernel.Yes, "probed"
			if h, ok := have[caps[i].Name]; ok {
				caps[i].Have, caps[i].Detail = h, "probed: "+h.String()
			}
		}
		return caps
	}
}

// What check-kernel says and its exit status, for kernels this machine is
// not: every combination the verdict handles.
func TestCheckKernelVerdict(t *testing.T) {
	defer func(p func() []kernel.Capability) { probeKernel = p }(probeKernel)
	cases := []struct {
		name   string
		have   map[string]kernel.Have
		code   int
		want   []string // on stdout (exit 0) or stderr (exit 1)
		reject []string
	}{
		{"everything", nil, 0,
			[]string{"ok: this kernel has everything pim6sd uses"},
			[]string{"fix:", "tests only"}},
		{"test items missing", map[string]kernel.Have{kernel.CapDummy: kernel.No, kernel.CapWrongMIFWhole: kernel.No}, 0,
			[]string{"ok: this kernel has everything pim6sd uses", "missing for the tests only (no effect on the exit status): WRMIFWHOLE upcalls, dummy"},
			[]string{"fix:"}},
		{"no multicast routing", map[string]kernel.Have{kernel.CapMRT6: kernel.No, kernel.CapMultipleTables: kernel.No, kernel.CapPIMRegister: kernel.No}, 1,
			[]string{"no MRT6 (CONFIG_IPV6_MROUTE): pim6sd cannot start",
				"fix: boot a kernel built with CONFIG_IPV6_MROUTE=y, CONFIG_IPV6_MROUTE_MULTIPLE_TABLES=y, CONFIG_IPV6_PIMSM_V2=y, such as Debian's packaged linux-image-amd64"},
			// The others follow from the first; one line says it.
			[]string{"no PIM register MIF", "no multiple tables", "ok:"}},
		{"no PIM-SM", map[string]kernel.Have{kernel.CapPIMRegister: kernel.No}, 1,
			[]string{"no PIM register MIF (CONFIG_IPV6_PIMSM_V2): no ASM", "fix: boot a kernel built with CONFIG_IPV6_PIMSM_V2=y"},
			[]string{"CONFIG_IPV6_MROUTE=", "ok:"}},
		{"one table only", map[string]kernel.Have{kernel.CapMultipleTables: kernel.No}, 1,
			[]string{"no multiple tables (CONFIG_IPV6_MROUTE_MULTIPLE_TABLES): only table 0",
				"fix: keep mrt-table = 0 in [global] of the configuration (the default), or boot a kernel built with CONFIG_IPV6_MROUTE_MULTIPLE_TABLES=y"},
			[]string{"ok:"}},
		{"not root", map[string]kernel.Have{kernel.CapMRT6: kernel.Unknown, kernel.CapMultipleTables: kernel.Unknown, kernel.CapPIMRegister: kernel.Unknown}, 1,
			[]string{"cannot tell whether pim6sd has what it uses: probed: unknown"},
			[]string{"ok:", "fix:", "no MRT6"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			probeKernel = mockKernel(c.have)
			code, out, errOut := runMain("check-kernel")
			if code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
			verdict := out
			if c.code != 0 {
				verdict = errOut
			}
			for _, w := range c.want {
				if !strings.Contains(verdict, w) {
					t.Errorf("verdict lacks %q:\n%s", w, verdict)
				}
			}
			for _, r := range c.reject {
				if strings.Contains(verdict, r) {
					t.Errorf("verdict has %q:\n%s", r, verdict)
				}
			}
			// The table: a header and one aligned row a capability, the
			// HAVE column where the header puts it.
			lines := strings.Split(out, "\n")
			hdr := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "CAPABILITY ") })
			if hdr < 0 || len(lines) < hdr+6 {
				t.Fatalf("no table:\n%s", out)
			}
			col := strings.Index(lines[hdr], "HAVE")
			for _, row := range lines[hdr+1 : hdr+6] {
				if len(row) <= col || !regexp.MustCompile(`^(yes|no|unknown) `).MatchString(row[col:]) {
					t.Errorf("row %q: no HAVE value in column %d", row, col)
				}
			}
			if code, _, _ := runMain("check-kernel", "extra"); code != 2 {
				t.Errorf("check-kernel extra: exit %d, want 2", code)
			}
		})
	}
}

// startupLines checks what pim6sd --foreground printed for a kernel that
// lacks option: one line that names it, one with the fix, and each of
// want somewhere.
func startupLines(t *testing.T, code int, errOut, option string, want ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if code != 1 || len(lines) != 2 {
		t.Fatalf("exit %d, %d lines; want exit 1 and two lines:\n%s", code, len(lines), errOut)
	}
	if !strings.HasPrefix(lines[0], "pim6sd: cannot start: this kernel (") || !strings.Contains(lines[0], "built without "+option+" (") {
		t.Errorf("first line does not name %s: %s", option, lines[0])
	}
	if !strings.HasPrefix(lines[1], "pim6sd: fix: ") || !strings.HasSuffix(lines[1], "; `pim6sd check-kernel` lists what this kernel has") {
		t.Errorf("second line is not the fix: %s", lines[1])
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			t.Errorf("lacks %q:\n%s", w, errOut)
		}
	}
}

// The daemon's start-up error on a kernel without multicast routing names
// CONFIG_IPV6_MROUTE and the fix. Where the kernel lacks it this is the
// real daemon on the real kernel (inside a namespace); where it has it, the
// daemon gets the error OpenMRT makes of MRT6_INIT's ENOPROTOOPT
// (kernel.ExplainMRTError, whose table test covers the translation).
func TestStartupNamesMissingMRT6(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--foreground", "--pidfile", "", "--socket", dir + "/ctl.sock"}
	fix := "boot a kernel built with CONFIG_IPV6_MROUTE=y, such as Debian's packaged linux-image-amd64"
	if netns.HaveMRT6() {
		t.Log("this kernel has multicast routing: the daemon gets the error of one that has not")
		defer func(o func(uint32, *daemon.Handover, *slog.Logger) (*daemon.Linux, error)) { openKernel = o }(openKernel)
		openKernel = func(uint32, *daemon.Handover, *slog.Logger) (*daemon.Linux, error) {
			return nil, kernel.ExplainMRTError(254, kernel.OpInit, unix.ENOPROTOOPT)
		}
		code, _, errOut := runMain(args...)
		startupLines(t, code, errOut, "CONFIG_IPV6_MROUTE", fix, "MRT6_INIT on table 254: protocol not available")
		return
	}
	netns.RequireRoot(t)
	ns := netns.New(t, "nomrt6")
	tables := write(t, "[global]\nmrt-table = 10\n")
	for _, c := range []struct {
		name string
		args []string
		op   string
	}{
		{"default table", args, "MRT6_INIT on table 254: protocol not available"},
		// MRT6_TABLE fails first; the daemon still finds the real cause.
		{"table 10", append([]string{"--config", tables}, args...), "on table 10: protocol not available"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var code int
			var errOut string
			if err := ns.Do(func() error {
				code, _, errOut = runMain(c.args...)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			startupLines(t, code, errOut, "CONFIG_IPV6_MROUTE", fix, c.op)
			if strings.Contains(errOut, "MULTIPLE_TABLES") {
				t.Errorf("blames the second table, not multicast routing:\n%s", errOut)
			}
		})
	}
}

// What the user reads for each kernel error at start-up.
func TestKernelStartError(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		option string // "" for an error that is not a missing option
		want   []string
	}{
		{"no multicast routing", kernel.ExplainMRTError(254, kernel.OpInit, unix.ENOPROTOOPT), "CONFIG_IPV6_MROUTE",
			[]string{"has no IPv6 multicast routing", "MRT6_INIT on table 254: protocol not available", "CONFIG_IPV6_MROUTE=y"}},
		{"no second table", kernel.ExplainMRTError(10, kernel.OpTable, unix.ENOPROTOOPT), "CONFIG_IPV6_MROUTE_MULTIPLE_TABLES",
			[]string{"MRT6_TABLE on table 10", "use the default table (mrt-table = 0 in [global] of /etc/p.toml, or leave the key out), or boot a kernel built with CONFIG_IPV6_MROUTE_MULTIPLE_TABLES=y"}},
		{"table in use", kernel.ExplainMRTError(254, kernel.OpInit, unix.EADDRINUSE), "",
			[]string{"pim6sd: cannot open the kernel's multicast routing: ", "mrt table 254: MRT6_INIT: multicast routing table in use by another socket: address already in use"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := kernelStartError(fmt.Errorf("wrapped: %w", c.err), "/etc/p.toml")
			msg := err.Error()
			if !errors.Is(err, c.err) {
				t.Errorf("errors.Is(the start error, the kernel's) is false")
			}
			if c.option != "" && (!errors.Is(err, unix.ENOPROTOOPT) || errors.Is(err, kernel.ErrNoMultipleTables) != (c.option == "CONFIG_IPV6_MROUTE_MULTIPLE_TABLES")) {
				t.Errorf("errors.Is does not see the errno or the sentinel through the start error")
			}
			if c.option != "" {
				startupLines(t, 1, msg, c.option)
			} else if strings.Contains(msg, "\n") {
				t.Errorf("more than one line: %s", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}
