package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// The focused views: one table (or a few) per part of the state, with what
// the report layout cannot show. Times left are rounded up to the second
// and ages down, as in the report, and written as the report writes ages
// (90s, 2m5s, 1d0h0m3s).

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0) }

func row(tw io.Writer, cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")) }

// left is a time left, rounded up.
func left(d ctl.Duration) string {
	s := time.Duration(d)
	if s <= 0 {
		return "0s"
	}
	return ctl.Age(ctl.Duration(((s + time.Second - 1) / time.Second) * time.Second))
}

// timer is a timer by ID with its time left, "-" when not running.
func timer(id uint32, d ctl.Duration) string {
	if id == 0 {
		return "-"
	}
	return fmt.Sprintf("#%d %s", id, left(d))
}

func addrOr(a netip.Addr, none string) string {
	if !a.IsValid() {
		return none
	}
	return a.String()
}

func optU32(p *uint32, format string) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf(format, *p)
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func ints(xs []int) string {
	var s []string
	for _, x := range xs {
		s = append(s, strconv.Itoa(x))
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

// flagWords are the report's interface flags.
func flagWords(i ctl.Interface) string {
	var w []string
	for _, f := range []struct {
		on   bool
		word string
	}{
		{i.Register, "REGISTER"}, {i.Disabled, "DISABLED"}, {i.NoListener, "NOLISTENER"}, {i.Down, "DOWN"},
		{i.DR, "DR"}, {i.PIM, "PIM"}, {i.Querier, "QRY"}, {i.NoNeighbor, "NO-NBR"},
	} {
		if f.on {
			w = append(w, f.word)
		}
	}
	if len(w) == 0 {
		return "-"
	}
	return strings.Join(w, " ")
}

// names maps MIFs to interface names.
type names map[int]string

func mifNames(s *ctl.Snapshot) names {
	n := names{}
	for _, i := range s.Interfaces {
		n[i.MIF] = i.Name
	}
	return n
}

func (n names) of(mif int) string {
	if name, ok := n[mif]; ok {
		return name
	}
	return "mif" + strconv.Itoa(mif)
}

func interfacesView(w io.Writer, s *ctl.Snapshot) error {
	if len(s.Interfaces) == 0 {
		fmt.Fprintln(w, "no interfaces")
	} else {
		querier := map[int]ctl.Querier{}
		for _, q := range s.Queriers {
			querier[q.MIF] = q
		}
		tw := table(w)
		row(tw, "MIF", "INTERFACE", "IFINDEX", "FLAGS", "DR", "DR-PRIO", "PRIO", "GENID", "HELLO-IN", "QUERIER", "QUERY-IN", "MLD", "NBRS", "GROUPS")
		for _, i := range s.Interfaces {
			dr := addrOr(i.DRAddress, "-")
			switch {
			case i.DR && i.DRAddress.IsValid():
				dr += " (us)"
			case i.DR:
				dr = "us"
			}
			q := "-"
			if qq, ok := querier[i.MIF]; ok {
				q = addrOr(qq.Address, "-")
				if qq.Self {
					q += " (us)"
				}
			}
			mld := "off"
			if !i.NoListener {
				mld = "v" + strings.ReplaceAll(ints(i.MLDVersions), ",", "+v")
			}
			row(tw, strconv.Itoa(i.MIF), i.Name, strconv.Itoa(i.IfIndex), flagWords(i), dr, optU32(i.DRPriority, "%d"),
				strconv.FormatUint(uint64(i.Priority), 10), fmt.Sprintf("0x%08x", i.GenerationID),
				ctl.MinSec(i.HelloIn), q, ctl.MinSec(i.QueryIn), mld, strconv.Itoa(i.PIMNeighbors), strconv.Itoa(i.MLDGroups))
		}
		tw.Flush()

		fmt.Fprintln(w, "\nADDRESSES")
		tw = table(w)
		for _, i := range s.Interfaces {
			for k, a := range i.Addresses {
				name := ""
				if k == 0 {
					name = i.Name
				}
				scope := "global"
				if a.ScopeID != 0 {
					scope = "scope " + strconv.Itoa(a.ScopeID)
				}
				row(tw, name, a.Prefix.String(), scope)
			}
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nCOUNTERS")
	if len(s.Counters) == 0 {
		fmt.Fprintln(w, "none")
	} else {
		tw := table(w)
		row(tw, "SCOPE", "COUNTER", "COUNT")
		for _, scope := range slices.Sorted(maps.Keys(s.Counters)) {
			for _, reason := range slices.Sorted(maps.Keys(s.Counters[scope])) {
				row(tw, scope, reason, strconv.FormatUint(s.Counters[scope][reason], 10))
			}
		}
		tw.Flush()
	}

	if len(s.Limits) > 0 {
		fmt.Fprintln(w, "\nLIMITS")
		tw := table(w)
		row(tw, "LIMIT", "INTERFACE", "USED", "MAX", "REFUSED")
		for _, l := range s.Limits {
			row(tw, l.Name, cmp.Or(l.Interface, "-"), strconv.FormatUint(l.Used, 10), strconv.FormatUint(l.Max, 10), strconv.FormatUint(l.Refused, 10))
		}
		tw.Flush()
	}
	return nil
}

func neighborsView(w io.Writer, s *ctl.Snapshot) error {
	if len(s.Neighbors) == 0 {
		fmt.Fprintln(w, "no PIM neighbors")
		return nil
	}
	dr := map[int]netip.Addr{}
	for _, i := range s.Interfaces {
		dr[i.MIF] = i.DRAddress
	}
	tw := table(w)
	row(tw, "MIF", "INTERFACE", "ADDRESS", "DR", "DR-PRIO", "GENID", "UPTIME", "EXPIRES", "HOLDTIME", "LAN-PRUNE-DELAY", "SECONDARY")
	ns := slices.Clone(s.Neighbors)
	slices.SortStableFunc(ns, func(a, b ctl.Neighbor) int { return cmp.Compare(a.MIF, b.MIF) })
	for _, n := range ns {
		lpd := "-"
		if d := n.LANPruneDelay; d != nil {
			lpd = fmt.Sprintf("%v/%v", time.Duration(d.PropagationDelay), time.Duration(d.OverrideInterval))
			if d.JoinSuppressionOff {
				lpd += " T"
			}
		}
		sec := "-"
		if len(n.Secondary) > 0 {
			sec = n.Secondary[0].String()
		}
		isDR := n.Address.IsValid() && dr[n.MIF] == n.Address
		hold, expires := left(n.Holdtime), left(n.Left)
		if n.Forever {
			hold, expires = "forever", "never"
		}
		row(tw, strconv.Itoa(n.MIF), n.Interface, addrOr(n.Address, "-"), map[bool]string{true: "DR", false: ""}[isDR],
			optU32(n.DRPriority, "%d"), optU32(n.GenerationID, "0x%08x"), ctl.Age(n.Uptime), expires, hold, lpd, sec)
		for _, a := range n.Secondary[min(1, len(n.Secondary)):] {
			row(tw, "", "", "", "", "", "", "", "", "", "", a.String())
		}
	}
	return tw.Flush()
}

func mldView(w io.Writer, s *ctl.Snapshot) error {
	fmt.Fprintln(w, "QUERIERS")
	if len(s.Queriers) == 0 {
		fmt.Fprintln(w, "none")
	} else {
		tw := table(w)
		row(tw, "MIF", "INTERFACE", "QUERIER", "US", "VERSION", "EXPIRES", "ELECTED", "ROBUSTNESS", "QUERY-INTERVAL", "OLDER-VERSION-QUERIER")
		for _, q := range s.Queriers {
			expires := left(q.Left)
			if q.Self {
				expires = "-"
			}
			older := "-"
			if q.OlderVersionQuerier.IsValid() {
				older = q.OlderVersionQuerier.String() + " (" + left(q.OlderVersionLeft) + ")"
			}
			row(tw, strconv.Itoa(q.MIF), q.Interface, addrOr(q.Address, "-"), yes(q.Self), "v"+strconv.Itoa(q.Version),
				expires, ctl.Age(q.Age)+" ago", strconv.Itoa(q.Robustness), left(q.QueryInterval), older)
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nGROUPS")
	if len(s.Groups) == 0 {
		fmt.Fprintln(w, "none")
		return nil
	}
	tw := table(w)
	row(tw, "MIF", "INTERFACE", "GROUP", "MODE", "COMPAT", "FILTER-TIMER", "COMPAT-TIMER", "ROUTED", "SOURCE", "SOURCE-TIMER")
	for _, g := range s.Groups {
		mode := "INCLUDE"
		if g.Mode == ctl.Exclude {
			mode = "EXCLUDE"
		}
		cells := []string{strconv.Itoa(g.MIF), g.Interface, addrOr(g.Group, "-"), mode, "v" + strconv.Itoa(g.Version),
			timer(g.FilterTimerID, g.FilterTimerLeft), timer(g.CompatTimerID, g.CompatTimerLeft), yes(g.Routed)}
		if len(g.Sources) == 0 {
			row(tw, append(cells, "(any)", "-")...)
			continue
		}
		for k, src := range g.Sources {
			st := timer(src.TimerID, src.Left)
			if src.TimerID == 0 && g.Mode == ctl.Exclude {
				st = "excluded"
			}
			if k > 0 {
				cells = make([]string, len(cells))
			}
			row(tw, append(cells, src.Address.String(), st)...)
		}
	}
	return tw.Flush()
}

// oifs lists the MIFs a route involves, each with the report's letters of
// its states: eth1[lo] has local listeners and forwards.
func oifs(r ctl.Route, n names) string {
	state := map[int][]byte{}
	for _, set := range []struct {
		mifs []int
		c    byte
	}{{r.Joined, 'j'}, {r.Pruned, 'p'}, {r.Leaves, 'l'}, {r.Asserted, 'a'}, {r.Outgoing, 'o'}} {
		for _, m := range set.mifs {
			state[m] = append(state[m], set.c)
		}
	}
	if len(state) == 0 {
		return "-"
	}
	var out []string
	for _, m := range slices.Sorted(maps.Keys(state)) {
		out = append(out, n.of(m)+"["+string(state[m])+"]")
	}
	return strings.Join(out, " ")
}

func routesView(w io.Writer, s *ctl.Snapshot) error {
	if len(s.Routes) == 0 {
		fmt.Fprintf(w, "no routing entries (%d installed in the kernel)\n", s.CacheMirrors)
		return nil
	}
	n := mifNames(s)
	tw := table(w)
	row(tw, "KIND", "SOURCE", "GROUP", "RP", "FLAGS", "IIF", "UPSTREAM", "UP-STATE", "OIFS", "ENTRY", "JP", "RS", "ASSERT", "PACKETS", "BYTES", "WRONG-IF", "DOWNSTREAM")
	for _, r := range s.Routes {
		iif := "-"
		if r.Incoming >= 0 {
			iif = n.of(r.Incoming)
		}
		flags := "-"
		if len(r.Flags) > 0 {
			flags = strings.Join(ctl.OrderFlags(r.Flags), ",")
		}
		src, grp := addrOr(r.Source, "*"), addrOr(r.Group, "*")
		up := cmp.Or(r.UpstreamState, "-")
		if r.JoinDesired {
			up += " (JoinDesired)"
		}
		var down []string
		for _, d := range r.Downstream {
			t := left(d.ExpiryLeft)
			if d.Forever {
				t = "forever"
			}
			if d.State == "PrunePending" {
				t += ", prune in " + left(d.PrunePendingLeft)
			}
			down = append(down, n.of(d.MIF)+" "+d.State+" ("+t+")")
		}
		row(tw, string(r.Kind), src, grp, addrOr(r.RP, "-"), flags, iif, addrOr(r.UpstreamNeighbor, "-"), up, oifs(r, n),
			left(r.EntryTimer), left(r.JPTimer), left(r.RSTimer), left(r.AssertTimer),
			strconv.FormatUint(r.Packets, 10), strconv.FormatUint(r.Bytes, 10), strconv.FormatUint(r.WrongIf, 10),
			cmp.Or(strings.Join(down, ", "), "-"))
	}
	tw.Flush()
	entries := "entries"
	if len(s.Routes) == 1 {
		entries = "entry"
	}
	fmt.Fprintf(w, "\n%d %s, %d installed in the kernel\n", len(s.Routes), entries, s.CacheMirrors)
	fmt.Fprintln(w, "OIFS letters: j joined, p pruned, l local listeners, a lost assert, o forwarding")
	return nil
}

func rpView(w io.Writer, s *ctl.Snapshot) error {
	rs := s.RPSet
	tw := table(w)
	if rs.BSR.IsValid() {
		row(tw, "BSR", rs.BSR.String(), fmt.Sprintf("priority %d, hash mask length %d, expires in %s", rs.BSRPriority, rs.BSRHashMaskLen, left(rs.BSRTimeout)))
	} else {
		row(tw, "BSR", "none")
	}
	if c := rs.CandidateBSR; c != nil {
		row(tw, "candidate BSR", addrOr(c.Address, "-"), fmt.Sprintf("priority %d, hash mask length %d, %s", c.Priority, c.HashMaskLen, c.State))
	} else {
		row(tw, "candidate BSR", "not configured")
	}
	if c := rs.CandidateRP; c != nil {
		var gs []string
		for _, g := range c.Groups {
			gs = append(gs, g.String())
		}
		row(tw, "candidate RP", addrOr(c.Address, "-"), fmt.Sprintf("priority %d, holdtime %s, groups %s, next advertisement in %s",
			c.Priority, left(c.Holdtime), strings.Join(gs, " "), left(c.NextAdvertisement)))
	} else {
		row(tw, "candidate RP", "not configured")
	}
	tw.Flush()

	fmt.Fprintln(w)
	if len(rs.RPs) == 0 {
		fmt.Fprintln(w, "no RP mappings")
	} else if err := rpTable(w, rs.RPs); err != nil {
		return err
	}
	for _, z := range rs.Zones {
		if err := zoneView(w, z); err != nil {
			return err
		}
	}
	return anycastView(w, s.AnycastRP)
}

// zoneView shows one administrative scope zone: its range and border, its
// BSR, this router's candidacy there and its RP-set.
func zoneView(w io.Writer, z ctl.RPSetZone) error {
	fmt.Fprintln(w)
	tw := table(w)
	about := "no border here"
	if len(z.Border) > 0 {
		about = "border " + strings.Join(z.Border, " ")
	}
	if z.Learned {
		about += ", learned from Bootstrap messages"
	}
	row(tw, "scope zone", z.Range.String(), about)
	if z.BSR.IsValid() {
		row(tw, "BSR", z.BSR.String(), fmt.Sprintf("priority %d, hash mask length %d, expires in %s, %s", z.BSRPriority, z.BSRHashMaskLen, left(z.BSRTimeout), z.State))
	} else {
		row(tw, "BSR", "none", z.State)
	}
	if c := z.CandidateBSR; c != nil {
		row(tw, "candidate BSR", addrOr(c.Address, "-"), fmt.Sprintf("priority %d, hash mask length %d, %s", c.Priority, c.HashMaskLen, c.State))
	} else {
		row(tw, "candidate BSR", "not configured")
	}
	tw.Flush()
	fmt.Fprintln(w)
	if len(z.RPs) == 0 {
		fmt.Fprintln(w, "no RP mappings in the zone")
		return nil
	}
	return rpTable(w, z.RPs)
}

// rpTable lists RPs with their group ranges.
func rpTable(w io.Writer, rps []ctl.RP) error {
	tw := table(w)
	row(tw, "RP", "ORIGIN", "REACHED", "GROUP", "PRIO", "HOLDTIME", "EXPIRES")
	for _, rp := range rps {
		via := "unreachable"
		switch {
		case rp.Upstream.IsValid():
			via = "via " + rp.Upstream.String() + "%" + rp.UpstreamIf
		case rp.Myself:
			via = "this router"
		}
		cells := []string{addrOr(rp.Address, "-"), cmp.Or(rp.Origin, "-"), via}
		if len(rp.Groups) == 0 {
			row(tw, append(cells, "-", "-", "-", "-")...)
		}
		for k, g := range rp.Groups {
			if k > 0 {
				cells = []string{"", "", ""}
			}
			row(tw, append(cells, g.Prefix.String(), strconv.Itoa(g.Priority), left(g.Holdtime), left(g.Left))...)
		}
	}
	return tw.Flush()
}

// anycastView is the Anycast-RP set with the Registers exchanged with each
// member; nothing when the router is no member.
func anycastView(w io.Writer, a *ctl.AnycastRP) error {
	if a == nil {
		return nil
	}
	fmt.Fprintln(w)
	shared := a.Address.String()
	if !a.Local {
		shared += " (not an address of this router: it is not the RP)"
	}
	fmt.Fprintf(w, "anycast RP %s, this router %s\n", shared, addrOr(a.Self, "none of the members"))
	tw := table(w)
	row(tw, "MEMBER", "REGISTERS IN", "NULL IN", "REGISTERS OUT", "NULL OUT", "STOPS IN", "STOPS OUT")
	for _, m := range a.Members {
		if m.Self {
			row(tw, m.Address.String()+" (this router)", "-", "-", "-", "-", "-", "-")
			continue
		}
		row(tw, m.Address.String(), u64(m.RegistersIn), u64(m.NullRegistersIn), u64(m.RegistersOut), u64(m.NullRegistersOut),
			u64(m.RegisterStopsIn), u64(m.RegisterStopsOut))
	}
	return tw.Flush()
}

func u64(n uint64) string { return strconv.FormatUint(n, 10) }

// kernelView shows the kernel audit, a restart's takeover of the routing
// table, and the kernel's and the checkpoint's counters.
func kernelView(w io.Writer, s *ctl.Snapshot) error {
	a := s.Daemon.Audit
	tw := table(w)
	row(tw, "Kernel audit")
	if a.Last.IsZero() {
		row(tw, "  last", "none yet")
	} else {
		row(tw, "  last", ctl.Age(ctl.Duration(s.Daemon.Now.Sub(a.Last)))+" ago", fmt.Sprintf("found %s", findings(a.LastFound)))
	}
	if !a.Next.IsZero() {
		row(tw, "  next", "in "+left(ctl.Duration(a.Next.Sub(s.Daemon.Now))))
	}
	row(tw, "  runs", strconv.FormatUint(a.Runs, 10), fmt.Sprintf("repaired in all: %s; errors %d", findings(a.Found), a.Errors))
	if r := s.Daemon.Restart; r != nil {
		row(tw, "Restart")
		row(tw, "  took over", fmt.Sprintf("%d MIFs, %d entries", r.MIFs, r.Entries))
		if r.GraceLeft > 0 {
			row(tw, "  kept", fmt.Sprintf("%d entries nothing asked for again, for %s more", r.Kept, left(r.GraceLeft)))
		} else {
			row(tw, "  swept", fmt.Sprintf("%d entries at the end of the grace", r.Swept))
		}
	}
	for _, scope := range []string{"kernel", "checkpoint"} {
		m := s.Counters[scope]
		if len(m) == 0 {
			continue
		}
		row(tw, map[string]string{"kernel": "Upcalls", "checkpoint": "Checkpoint"}[scope])
		for _, k := range slices.Sorted(maps.Keys(m)) {
			row(tw, "  "+k, strconv.FormatUint(m[k], 10))
		}
	}
	return tw.Flush()
}

func findings(f ctl.AuditFindings) string {
	if f.Repairs() == 0 {
		return "nothing"
	}
	return fmt.Sprintf("%d missing, %d changed, %d extra, %d MIFs", f.Missing, f.Changed, f.Extra, f.MIFs)
}
