package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// explainCommand is `pim6stat explain [SOURCE] GROUP`: the daemon walks
// why the flow does or does not reach its receivers (ctl.Explain).
func explainCommand() *cli.Command {
	return &cli.Command{
		Name:      "explain",
		Usage:     "why does the flow SOURCE GROUP (or (*,GROUP)) reach the receivers here, or not: group mode and RP, RPF, downstream, PIM state, kernel",
		ArgsUsage: "[SOURCE] GROUP",
		Description: "The daemon checks, in order: the group (SSM or ASM) and its RP; the routes toward the\n" +
			"source and the RP and the PIM neighbor upstream; every interface (DR, MLD listeners,\n" +
			"downstream Joins); the PIM entries; the kernel's forwarding entry and its counters.\n" +
			"Each check says ok, PROBLEM or info with a reason; the last line is the verdict.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "socket", Value: ctl.DefaultSocketPath, Usage: "the daemon's control socket `PATH`", TakesFile: true},
			&cli.BoolFlag{Name: "json", Usage: "print the answer as JSON (the ctl.Explain document)"},
		},
		Action: explainAction,
	}
}

// explainArgs splits the arguments into the flow and whether --json was
// given after them (flags stop at the first argument otherwise).
func explainArgs(args []string) (src, grp netip.Addr, jsonOut bool, err error) {
	var pos []string
	for _, a := range args {
		switch a {
		case "--json", "-json":
			jsonOut = true
		default:
			pos = append(pos, a)
		}
	}
	var source, group string
	switch len(pos) {
	case 1:
		group = pos[0]
	case 2:
		source, group = pos[0], pos[1]
	default:
		return src, grp, jsonOut, fmt.Errorf("give SOURCE GROUP, or GROUP alone for (*,G) (got %d arguments)", len(pos))
	}
	src, grp, err = ctl.ParseExplainArgs(source, group)
	return src, grp, jsonOut, err
}

func explainAction(c *cli.Context) error {
	if stringFlag(c, "file") != "" {
		return cli.Exit("pim6stat: -f prints a whole dump file; explain needs the daemon", 2)
	}
	src, grp, jsonAfter, err := explainArgs(c.Args().Slice())
	if err != nil {
		return cli.Exit("pim6stat explain: "+err.Error(), 2)
	}
	cl := &ctl.Client{Path: stringFlag(c, "socket")}
	e, err := cl.Explain(context.Background(), src, grp)
	if err != nil {
		return cli.Exit("pim6stat: "+err.Error(), 1)
	}
	if jsonAfter || boolFlag(c, "json") {
		return writeJSON(c.App.Writer, e)
	}
	return writeExplain(c.App.Writer, e)
}

var sectionTitles = []struct{ section, title string }{
	{ctl.SectionGroup, "GROUP"},
	{ctl.SectionUpstream, "UPSTREAM"},
	{ctl.SectionDownstream, "DOWNSTREAM"},
	{ctl.SectionPIM, "PIM STATE"},
	{ctl.SectionKernel, "KERNEL"},
}

func verdictWord(v ctl.Verdict) string {
	switch v {
	case ctl.VerdictProblem:
		return "PROBLEM"
	case ctl.VerdictOK:
		return "ok"
	}
	return string(v)
}

// writeExplain prints the walk: the checks by section, a table of the
// interfaces, and the verdict last.
func writeExplain(w io.Writer, e *ctl.Explain) error {
	flow := fmt.Sprintf("(*,%s)", e.Group)
	if e.Source.IsValid() {
		flow = fmt.Sprintf("(%s,%s)", e.Source, e.Group)
	}
	fmt.Fprintf(w, "explain %s: %s\n", flow, strings.ToUpper(e.Mode))
	for _, s := range sectionTitles {
		var steps []ctl.ExplainStep
		for _, st := range e.Steps {
			if st.Section == s.section {
				steps = append(steps, st)
			}
		}
		if len(steps) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", s.title)
		for _, st := range steps {
			reason := st.Reason
			if st.Interface != "" && !strings.Contains(reason, st.Interface) {
				reason = st.Interface + ": " + reason
			}
			fmt.Fprintf(w, "  %-8s %s\n", verdictWord(st.Verdict), reason)
		}
		if s.section == ctl.SectionDownstream && len(e.Interfaces) > 0 {
			fmt.Fprintln(w)
			tw := table(w)
			row(tw, "  INTERFACE", "MIF", "PIM", "DR", "LISTENERS", "JOINS", "STATE")
			for _, i := range e.Interfaces {
				dr := "-"
				switch {
				case i.DRSelf:
					dr = "us"
				case i.DR.IsValid():
					dr = i.DR.String()
				}
				ls := "-"
				if i.Listeners != "" {
					ls = i.Listeners
					if len(i.ListenerSources) > 0 {
						var srcs []string
						for _, a := range i.ListenerSources {
							srcs = append(srcs, a.String())
						}
						ls += " {" + strings.Join(srcs, ",") + "}"
					}
				}
				var joins []string
				for _, j := range i.Joins {
					joins = append(joins, j.Kind+" "+j.State)
				}
				js := "-"
				if len(joins) > 0 {
					js = strings.Join(joins, ", ")
				}
				row(tw, "  "+i.Name, strconv.Itoa(i.MIF), yes(i.PIM), dr, ls, js, i.State)
			}
			tw.Flush()
		}
	}
	fmt.Fprintf(w, "\nVERDICT: %s\n", e.Verdict.Summary)
	if e.Verdict.Forwarding && e.Verdict.Problems > 0 {
		fmt.Fprintf(w, "  (with %d problem(s) above)\n", e.Verdict.Problems)
	}
	return nil
}
