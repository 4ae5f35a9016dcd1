package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// stateFlags are the flags of the state report and of every view; top says
// whether they are the application's (with -f, which only the full report
// has).
func stateFlags(top bool) []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "socket", Value: ctl.DefaultSocketPath, Usage: "the daemon's control socket `PATH`", TakesFile: true},
		&cli.BoolFlag{Name: "json", Usage: "print the snapshot (or this view's part of it) as JSON"},
	}
	if top {
		flags = append(flags, &cli.StringFlag{
			Name: "file", Aliases: []string{"f"}, TakesFile: true,
			Usage: "print the dump file `FILE` (written by pim6sd on SIGUSR1, " + ctl.DefaultDumpPath + ") instead of asking the daemon",
		})
	}
	return flags
}

// The views repeat the application's flags so that both
// `pim6stat --json neighbors` and `pim6stat neighbors --json` work; a flag
// counts where it was given, the view's first.

func stringFlag(c *cli.Context, name string) string {
	for _, x := range c.Lineage() {
		if x.IsSet(name) {
			return x.String(name)
		}
	}
	return c.String(name)
}

func boolFlag(c *cli.Context, name string) bool {
	for _, x := range c.Lineage() {
		if x.IsSet(name) && x.Bool(name) {
			return true
		}
	}
	return false
}

// fetch asks the daemon for its state.
func fetch(c *cli.Context) (*ctl.Snapshot, error) {
	cl := &ctl.Client{Path: stringFlag(c, "socket")}
	s, err := cl.Snapshot(context.Background())
	if err != nil {
		// Unreachable, version mismatch, refused: all say what and where.
		return nil, cli.Exit("pim6stat: "+err.Error(), 1)
	}
	return s, nil
}

// reportAction prints the whole state in the report layout.
func reportAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return cli.Exit(fmt.Sprintf("pim6stat: unknown command %q (see pim6stat --help)", c.Args().First()), 2)
	}
	if file := c.String("file"); file != "" {
		if boolFlag(c, "json") {
			return cli.Exit("pim6stat: a dump file holds the report text only; --json needs the daemon (drop -f)", 2)
		}
		return printFile(c.App.Writer, file)
	}
	s, err := fetch(c)
	if err != nil {
		return err
	}
	if boolFlag(c, "json") {
		return writeJSON(c.App.Writer, s)
	}
	if err := ctl.WriteReport(c.App.Writer, s); err != nil {
		return cli.Exit("pim6stat: "+err.Error(), 1)
	}
	return nil
}

func printFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return cli.Exit("pim6stat: "+err.Error(), 1)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return cli.Exit(fmt.Sprintf("pim6stat: %s: %v", path, err), 1)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return cli.Exit("pim6stat: "+err.Error(), 1)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// part is the JSON of some top-level keys of s, with the schema version, as
// the whole snapshot spells them: `.neighbors[0].address` means the same
// in `pim6stat --json` and `pim6stat neighbors --json`.
func part(s *ctl.Snapshot, keys ...string) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{"schema_version": all["schema_version"]}
	for _, k := range keys {
		if v, ok := all[k]; ok { // optional parts (anycast_rp) may be absent
			out[k] = v
		}
	}
	return out, nil
}

// A view is one focused subcommand.
type view struct {
	name, usage string
	keys        []string // the snapshot's JSON keys it shows
	text        func(w io.Writer, s *ctl.Snapshot) error
}

func viewCommands() []*cli.Command {
	views := []view{
		{"interfaces", "the MIFs: addresses, flags, DR and its priority, querier, Hello and Query timers, counters, limits",
			[]string{"interfaces", "counters", "limits"}, interfacesView},
		{"neighbors", "PIM neighbors: DR priority, Generation ID, uptime, holdtime, time left, LAN Prune Delay, secondary addresses",
			[]string{"neighbors"}, neighborsView},
		{"mld", "MLD queriers and group records with their sources, modes and timers",
			[]string{"queriers", "groups"}, mldView},
		{"routes", "multicast routing entries: interfaces, upstream neighbor, timers, kernel packet counts",
			[]string{"routes", "cache_mirrors"}, routesView},
		{"rp", "BSR, candidate BSR and RP state, and the group-to-RP mappings",
			[]string{"rp_set", "anycast_rp"}, rpView},
	}
	var cmds []*cli.Command
	for _, v := range views {
		cmds = append(cmds, &cli.Command{
			Name:  v.name,
			Usage: v.usage,
			Flags: stateFlags(false),
			Action: func(c *cli.Context) error {
				if c.NArg() > 0 {
					return cli.Exit(fmt.Sprintf("pim6stat %s: takes no argument (got %q)", v.name, c.Args().First()), 2)
				}
				if stringFlag(c, "file") != "" {
					return cli.Exit("pim6stat: -f prints a whole dump file; the views need the daemon", 2)
				}
				s, err := fetch(c)
				if err != nil {
					return err
				}
				if boolFlag(c, "json") {
					p, err := part(s, v.keys...)
					if err != nil {
						return cli.Exit("pim6stat: "+err.Error(), 1)
					}
					return writeJSON(c.App.Writer, p)
				}
				return v.text(c.App.Writer, s)
			},
		})
	}
	return cmds
}
