package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// watchViewNames lists what `pim6stat watch --interval` can refresh: the
// report and the focused views (state.go), by the same names.
func watchViewNames() string {
	n := []string{"report"}
	for _, v := range views {
		n = append(n, v.name)
	}
	slices.Sort(n)
	return strings.Join(n, ", ")
}

// report is the whole state in the report layout, as a view.
var reportView = view{name: "report", text: ctl.WriteReport, filters: []string{filterInterface, filterGroup, filterSource}}

func watchCommand() *cli.Command {
	return &cli.Command{
		Name:  "watch",
		Usage: "print the daemon's events as they happen, or refresh a view every --interval",
		Description: "Without --interval, pim6stat watch prints one line per event of the daemon:\n" +
			"PIM neighbors up and down, DR, MLD querier and BSR changes, routing entries\n" +
			"added and removed, limits reached (--json: the daemon's JSON lines as they\n" +
			"come). With --interval, it prints the report (or --view NAME) again on that\n" +
			"interval, clearing the screen on a terminal. Ctrl-C stops; if the daemon goes\n" +
			"away, pim6stat says so and exits 1.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "socket", Value: ctl.DefaultSocketPath, Usage: "the daemon's control socket `PATH`", TakesFile: true},
			&cli.BoolFlag{Name: "json", Usage: "print events (or, with --interval, snapshots) as JSON, one per line"},
			&cli.DurationFlag{Name: "interval", Aliases: []string{"n"}, Usage: "refresh a view every `DURATION` (for example 2s) instead of printing events"},
			&cli.StringFlag{Name: "view", Value: "report", Usage: "the view that --interval refreshes: `NAME` among " + watchViewNames()},
			&cli.IntFlag{Name: "count", Usage: "stop after `N` events (or refreshes); 0: until Ctrl-C"},
			filterFlags[filterInterface], filterFlags[filterGroup], filterFlags[filterSource],
		},
		Action: watchAction,
	}
}

func watchAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return cli.Exit(fmt.Sprintf("pim6stat watch: takes no argument (got %q)", c.Args().First()), 2)
	}
	if stringFlag(c, "file") != "" {
		return cli.Exit("pim6stat watch: -f prints a dump file; watch needs the daemon", 2)
	}
	v, ok := viewNamed(c.String("view"))
	if c.String("view") == reportView.name {
		v, ok = reportView, true
	}
	if !ok {
		return cli.Exit(fmt.Sprintf("pim6stat watch: no view %q (known: %s)", c.String("view"), watchViewNames()), 2)
	}
	interval := c.Duration("interval")
	if c.IsSet("view") && interval <= 0 {
		return cli.Exit("pim6stat watch: --view needs --interval", 2)
	}
	if c.IsSet("interval") && interval <= 0 {
		return cli.Exit("pim6stat watch: --interval must be positive", 2)
	}
	for _, f := range []string{filterInterface, filterGroup, filterSource} {
		if c.IsSet(f) && interval <= 0 {
			return cli.Exit("pim6stat watch: --"+f+" needs --interval (events are not filtered)", 2)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cl := &ctl.Client{Path: stringFlag(c, "socket")}
	if interval > 0 {
		return refresh(ctx, c, cl, interval, v)
	}
	return streamEvents(ctx, c, cl)
}

// streamEvents prints the daemon's events until ctx ends or the daemon
// goes away.
func streamEvents(ctx context.Context, c *cli.Context, cl *ctl.Client) error {
	w, err := cl.Watch(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return cli.Exit("pim6stat: "+err.Error(), 1)
	}
	defer w.Close()
	// Once the daemon has accepted: scripts (and tests) may wait for this
	// line to know that no event is missed from now on.
	fmt.Fprintf(c.App.ErrWriter, "pim6stat: watching the events of pim6sd at %s (Ctrl-C to stop)\n", cl.Path)
	asJSON := boolFlag(c, "json")
	count := c.Int("count")
	for n := 0; count <= 0 || n < count; n++ {
		ev, err := w.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil // Ctrl-C
			}
			return cli.Exit("pim6stat: "+err.Error(), 1)
		}
		var line string
		if asJSON {
			b, err := json.Marshal(ev)
			if err != nil {
				return cli.Exit("pim6stat: "+err.Error(), 1)
			}
			line = string(b)
		} else {
			line = ev.Text()
		}
		if _, err := fmt.Fprintln(c.App.Writer, line); err != nil {
			return cli.Exit("pim6stat: "+err.Error(), 1)
		}
	}
	return nil
}

// refresh prints view every interval until ctx ends or the daemon goes
// away.
func refresh(ctx context.Context, c *cli.Context, cl *ctl.Client, interval time.Duration, v view) error {
	q, err := query(c, "pim6stat watch --view "+v.name, v.parts, v.filters...)
	if err != nil {
		return err
	}
	out := c.App.Writer
	clear := isTerminal(out)
	asJSON := boolFlag(c, "json")
	count := c.Int("count")
	t := time.NewTicker(interval)
	defer t.Stop()
	for n := 0; count <= 0 || n < count; n++ {
		if n > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
		s, err := cl.SnapshotOf(ctx, q)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ue *ctl.UnreachableError
			if n > 0 && !errors.As(err, &ue) {
				return cli.Exit("pim6stat: pim6sd went away: "+err.Error(), 1)
			}
			if n > 0 {
				return cli.Exit(fmt.Sprintf("pim6stat: pim6sd at %s went away (%v)", cl.Path, ue.Err), 1)
			}
			return cli.Exit("pim6stat: "+err.Error(), 1)
		}
		s = v.trim(s, q)
		if asJSON {
			// The report's snapshot, or the view's part of it as
			// `pim6stat VIEW --json` prints it: one document per line.
			var doc any = s
			if v.keys != nil {
				if doc, err = part(s, v.keys...); err != nil {
					return cli.Exit("pim6stat: "+err.Error(), 1)
				}
			}
			b, err := json.Marshal(doc)
			if err != nil {
				return cli.Exit("pim6stat: "+err.Error(), 1)
			}
			fmt.Fprintln(out, string(b))
			continue
		}
		if clear {
			fmt.Fprint(out, "\x1b[H\x1b[2J")
		} else if n > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "Every %v: pim6stat %s    %s\n\n", interval, c.String("view"), time.Now().Format("2006-01-02 15:04:05"))
		if err := v.text(out, s); err != nil {
			return cli.Exit("pim6stat: "+err.Error(), 1)
		}
	}
	return nil
}

// isTerminal says whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
