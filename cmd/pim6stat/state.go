package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"

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
		flags = withFilters(flags, filterInterface, filterGroup, filterSource)
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

// fetch asks the daemon for the part of its state q says.
func fetch(c *cli.Context, q ctl.Query) (*ctl.Snapshot, error) {
	cl := &ctl.Client{Path: stringFlag(c, "socket")}
	s, err := cl.SnapshotOf(context.Background(), q)
	if err != nil {
		// Unreachable, version mismatch, refused: all say what and where.
		return nil, cli.Exit("pim6stat: "+err.Error(), 1)
	}
	return s, nil
}

// The filters of the report and the views: each view takes those that
// apply to what it shows.
const (
	filterInterface = "interface"
	filterGroup     = "group"
	filterSource    = "source"
)

var filterFlags = map[string]cli.Flag{
	filterInterface: &cli.StringFlag{Name: filterInterface, Usage: "only the state of the interface `NAME`"},
	filterGroup:     &cli.StringFlag{Name: filterGroup, Usage: "only the state of the group `GROUP` (an address, or a prefix such as ff0e::/16)"},
	filterSource:    &cli.StringFlag{Name: filterSource, Usage: "only the state of the source `ADDRESS`: its (S,G) entries, the MLD records that want it"},
}

func withFilters(flags []cli.Flag, names ...string) []cli.Flag {
	for _, n := range names {
		flags = append(flags, filterFlags[n])
	}
	return flags
}

// query is what cmd asks the daemon for: parts (all when none) and the
// filters given, of those it takes.
func query(c *cli.Context, cmd string, parts []string, filters ...string) (ctl.Query, error) {
	q := ctl.Query{Parts: parts}
	for _, f := range []string{filterInterface, filterGroup, filterSource} {
		set := false
		for _, x := range c.Lineage() {
			set = set || x.IsSet(f)
		}
		if !set {
			continue
		}
		if !slices.Contains(filters, f) {
			return q, cli.Exit(fmt.Sprintf("%s: takes no --%s", cmd, f), 2)
		}
		v := stringFlag(c, f)
		switch f {
		case filterInterface:
			if v == "" {
				return q, cli.Exit(cmd+": --interface needs a name", 2)
			}
			q.Interface = v
		case filterGroup:
			g, err := parseGroupFilter(v)
			if err != nil {
				return q, cli.Exit(fmt.Sprintf("%s: --group: %v", cmd, err), 2)
			}
			q.Group = g
		case filterSource:
			a, err := netip.ParseAddr(v)
			if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" || a.IsMulticast() {
				return q, cli.Exit(fmt.Sprintf("%s: --source: %q is not an IPv6 unicast address", cmd, v), 2)
			}
			q.Source = a
		}
	}
	return q, nil
}

// parseGroupFilter reads a group (a /128) or a group prefix.
func parseGroupFilter(v string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(v, "/") {
		var err error
		if p, err = netip.ParsePrefix(v); err != nil {
			return p, fmt.Errorf("%q is not an IPv6 group or prefix", v)
		}
		p = p.Masked()
	} else if a, err := netip.ParseAddr(v); err == nil {
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || !p.Addr().IsMulticast() || p.Addr().Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv6 multicast group or prefix (ff00::/8)", v)
	}
	return p, nil
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
		for _, f := range []string{filterInterface, filterGroup, filterSource} {
			if c.IsSet(f) {
				return cli.Exit("pim6stat: a dump file is printed whole; --"+f+" needs the daemon (drop -f)", 2)
			}
		}
		return printFile(c.App.Writer, file)
	}
	q, err := query(c, "pim6stat", nil, filterInterface, filterGroup, filterSource)
	if err != nil {
		return err
	}
	s, err := fetch(c, q)
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

// A view is one focused subcommand: what it shows, what it asks the
// daemon for, and the filters it takes.
type view struct {
	name, usage string
	keys        []string // the snapshot's JSON keys it shows
	parts       []string // what it asks for: keys and what it needs besides
	filters     []string
	text        func(w io.Writer, s *ctl.Snapshot) error
}

// views are the focused views, by name; `pim6stat watch --view` refreshes
// them too.
var views = []view{
	{"interfaces", "the MIFs: addresses, flags, DR and its priority, querier, Hello and Query timers, counters, limits",
		[]string{ctl.PartInterfaces, ctl.PartCounters, ctl.PartLimits},
		[]string{ctl.PartInterfaces, ctl.PartQueriers, ctl.PartCounters, ctl.PartLimits},
		[]string{filterInterface}, interfacesView},
	{"neighbors", "PIM neighbors: DR priority, Generation ID, uptime, holdtime, time left, LAN Prune Delay, secondary addresses",
		[]string{ctl.PartNeighbors},
		[]string{ctl.PartNeighbors, ctl.PartInterfaces},
		[]string{filterInterface}, neighborsView},
	{"mld", "MLD queriers and group records with their sources, modes and timers",
		[]string{ctl.PartQueriers, ctl.PartGroups},
		[]string{ctl.PartQueriers, ctl.PartGroups},
		[]string{filterInterface, filterGroup, filterSource}, mldView},
	{"routes", "multicast routing entries: interfaces, upstream neighbor, timers, kernel packet counts",
		[]string{ctl.PartRoutes, ctl.PartCacheMirrors},
		[]string{ctl.PartRoutes, ctl.PartCacheMirrors, ctl.PartInterfaces},
		[]string{filterInterface, filterGroup, filterSource}, routesView},
	{"rp", "BSR, candidate BSR and RP state, and the group-to-RP mappings",
		[]string{ctl.PartRPSet, ctl.PartAnycastRP},
		[]string{ctl.PartRPSet, ctl.PartAnycastRP},
		nil, rpView},
	{"kernel", "the kernel audit (what the kernel forwards against what pim6sd installed), a restart's takeover, the checkpoint, upcalls",
		[]string{"daemon", ctl.PartCounters},
		[]string{ctl.PartCounters},
		nil, kernelView},
}

func viewNamed(name string) (view, bool) {
	i := slices.IndexFunc(views, func(v view) bool { return v.name == name })
	if i < 0 {
		return view{}, false
	}
	return views[i], true
}

// fetchView asks the daemon for what v shows, with the filters given.
func fetchView(c *cli.Context, v view) (*ctl.Snapshot, error) {
	q, err := query(c, "pim6stat "+v.name, v.parts, v.filters...)
	if err != nil {
		return nil, err
	}
	s, err := fetch(c, q)
	if err != nil {
		return nil, err
	}
	return v.trim(s, q), nil
}

// trim cuts the interface table of the interfaces view to the interface
// asked for, if any: the daemon sends it whole, since other parts name
// interfaces by MIF.
func (v view) trim(s *ctl.Snapshot, q ctl.Query) *ctl.Snapshot {
	if v.name == "interfaces" && q.Interface != "" {
		s.Interfaces = slices.DeleteFunc(slices.Clone(s.Interfaces), func(i ctl.Interface) bool { return i.Name != q.Interface })
	}
	return s
}

func viewCommands() []*cli.Command {
	var cmds []*cli.Command
	for _, v := range views {
		cmds = append(cmds, &cli.Command{
			Name:  v.name,
			Usage: v.usage,
			Flags: withFilters(stateFlags(false), v.filters...),
			Action: func(c *cli.Context) error {
				if c.NArg() > 0 {
					return cli.Exit(fmt.Sprintf("pim6stat %s: takes no argument (got %q)", v.name, c.Args().First()), 2)
				}
				if stringFlag(c, "file") != "" {
					return cli.Exit("pim6stat: -f prints a whole dump file; the views need the daemon", 2)
				}
				s, err := fetchView(c, v)
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
