package ctl

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// WriteReport writes s in the layout of the KAME/USAGI pim6stat dump
// (shared/pim6stat/FORMAT.md): interfaces, PIM neighbors, MLD queriers, MLD
// groups, the routing table, the RP-set and the CallOut timer queue, with
// the original's column widths and trailing spaces.
//
// Rounding: times left are printed as whole seconds rounded up, so that a
// running timer never shows 0 (and the CallOut deltas never go negative);
// ages are rounded down, as the original's time(NULL) differences were.
//
// Order: interfaces, and the neighbors, queriers and groups of each MIF,
// are printed by MIF, keeping the snapshot's order within a MIF. Routing
// entries are grouped as the layout wants: groups by address, in each the
// (*,G) entry first, then the (S,G) entries by source; (*,*,RP) entries,
// RPs and their ranges keep the snapshot's order; timers are sorted by time
// left. s is not modified.
//
// One addition to the original: a MIF without an address (a link that
// lost its addresses) still gets its line, with the address and scope
// blank, so that its flags show; the original's MIFs always had one.
//
// The report is built in memory and written with one Write: a snapshot
// WriteReport cannot render (a route of unknown kind) writes nothing.
func WriteReport(w io.Writer, s *Snapshot) error {
	b, err := AppendReport(nil, s)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// AppendReport appends the report of s to b.
func AppendReport(b []byte, s *Snapshot) ([]byte, error) {
	if s == nil {
		return b, fmt.Errorf("ctl: no snapshot to report")
	}
	r := &report{b: b, s: s}
	r.ifs = slices.Clone(s.Interfaces)
	slices.SortStableFunc(r.ifs, func(a, b Interface) int { return cmp.Compare(a.MIF, b.MIF) })
	for _, ifc := range r.ifs {
		r.nmif = max(r.nmif, ifc.MIF+1)
	}
	r.interfaces()
	r.neighbors()
	r.queriers()
	r.groups()
	if err := r.routes(); err != nil {
		return b, err
	}
	r.rpSet()
	r.anycastRP()
	r.callOut()
	return r.b, nil
}

type report struct {
	b    []byte
	s    *Snapshot
	ifs  []Interface // by MIF
	nmif int         // the number of MIFs: one past the highest
}

// Layout primitives. Widths count bytes, as printf's did.

func (r *report) str(s string) { r.b = append(r.b, s...) }
func (r *report) nl()          { r.b = append(r.b, '\n') }

func (r *report) spaces(n int) {
	for range n {
		r.b = append(r.b, ' ')
	}
}

// left is L(s,n): s padded with spaces on the right to n bytes.
func (r *report) left(s string, n int) {
	r.str(s)
	r.spaces(n - len(s))
}

// right is R(s,n): s padded with spaces on the left to n bytes.
func (r *report) right(s string, n int) {
	r.spaces(n - len(s))
	r.str(s)
}

func itoa(n int) string { return strconv.Itoa(n) }

// mifName is the report's PhyIF of a MIF: "regist" for the register MIF,
// else the interface's name; fallback when the MIF is not in the table.
func (r *report) mifName(mif int, fallback string) string {
	for _, ifc := range r.ifs {
		if ifc.MIF == mif {
			return ifName(ifc)
		}
	}
	return fallback
}

func ifName(ifc Interface) string {
	if ifc.Register {
		return "regist"
	}
	return ifc.Name
}

// secsLeft is a time left in whole seconds, rounded up.
func secsLeft(d Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / Duration(time.Second))
	if d%Duration(time.Second) != 0 {
		s++
	}
	return s
}

// secsAge is an age in whole seconds, rounded down.
func secsAge(d Duration) int64 { return max(int64(d/Duration(time.Second)), 0) }

// MinSec formats a time left as the report's M:SS.
func MinSec(d Duration) string {
	s := secsLeft(d)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Age formats an age as the report's [Nd][Nh][Nm]Ns: a unit is printed
// once a larger one was, so 46s, 2m0s, 1h0m5s, 3d0h0m0s.
func Age(d Duration) string {
	t := secsAge(d)
	days, hours, mins, secs := t/86400, t/3600%24, t/60%60, t%60
	var b []byte
	some := false
	if days != 0 {
		b = fmt.Appendf(b, "%dd", days)
		some = true
	}
	if some || hours != 0 {
		b = fmt.Appendf(b, "%dh", hours)
		some = true
	}
	if some || mins != 0 {
		b = fmt.Appendf(b, "%dm", mins)
	}
	return string(fmt.Appendf(b, "%ds", secs))
}

func addrOr(a netip.Addr, none string) string {
	if !a.IsValid() {
		return none
	}
	return a.String()
}

func linkLocalFirst(as []Address) []Address {
	as = slices.Clone(as)
	slices.SortStableFunc(as, func(a, b Address) int {
		return -cmp.Compare(boolInt(a.Prefix.Addr().IsLinkLocalUnicast()), boolInt(b.Prefix.Addr().IsLinkLocalUnicast()))
	})
	return as
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// indent is the 13 spaces under the Mif and PhyIF columns of the
// interface table.
const indent = "             "

// Section 1.
func (r *report) interfaces() {
	r.str("\nMulticast Interface Table\n ")
	r.left("Mif", 4)
	r.str(" ")
	r.left(" PhyIF", 6)
	r.str(" ")
	r.left("Local-Address/Prefixlen", 43)
	r.str(" ")
	r.right("Scope", 5)
	r.str(" ")
	r.left("Flags", 14)
	r.nl()
	for _, ifc := range r.ifs {
		addrs := linkLocalFirst(ifc.Addresses)
		if len(addrs) == 0 {
			// The original's interfaces always had an address; ours can
			// lose theirs (a link going down), and a MIF must not vanish
			// from the table with its flags: one line, address blank.
			addrs = []Address{{}}
		}
		for i, a := range addrs {
			r.str("  ")
			if i == 0 {
				r.left(itoa(ifc.MIF), 3)
				r.str(" ")
				r.right(ifName(ifc), 6)
			} else {
				r.spaces(3 + 1 + 6)
			}
			pfx, scope := "", ""
			if a.Prefix.IsValid() {
				pfx, scope = a.Prefix.String(), itoa(a.ScopeID)
			}
			r.str(" ")
			r.left(pfx, 43)
			r.str(" ")
			r.left(scope, 5)
			if i == 0 {
				for _, f := range []struct {
					on   bool
					word string
				}{
					{ifc.Register, "REGISTER"}, {ifc.Disabled, "DISABLED"},
					{ifc.NoListener, "NOLISTENER"}, {ifc.Down, "DOWN"}, {ifc.DR, "DR"},
					{ifc.PIM, "PIM"}, {ifc.Querier, "QRY"}, {ifc.NoNeighbor, "NO-NBR"},
				} {
					if f.on {
						r.str(" " + f.word)
					}
				}
			}
			r.nl()
		}
		r.str(indent + "Timers: PIM hello = " + MinSec(ifc.HelloIn) + ", MLD query = " + MinSec(ifc.QueryIn) + "\n")
		r.str(indent + "possible MLD version = ")
		if slices.Contains(ifc.MLDVersions, 1) {
			r.str("1 ")
		}
		if slices.Contains(ifc.MLDVersions, 2) {
			r.str("2 ")
		}
		r.nl()
	}
	r.nl()
}

func byMIF[T any](s []T, mif func(T) int) []T {
	s = slices.Clone(s)
	slices.SortStableFunc(s, func(a, b T) int { return cmp.Compare(mif(a), mif(b)) })
	return s
}

// Section 2.
func (r *report) neighbors() {
	r.str("PIM Neighbor List\n ")
	r.left("Mif", 3)
	r.str(" ")
	r.right("PhyIF", 6)
	r.str(" ")
	r.left("Address", 40)
	r.str(" ")
	r.left("Timer", 5)
	r.nl()
	ns := byMIF(r.s.Neighbors, func(n Neighbor) int { return n.MIF })
	for i, n := range ns {
		r.str(" ")
		if i == 0 || ns[i-1].MIF != n.MIF {
			r.left(itoa(n.MIF), 3)
			r.str(" ")
			r.right(r.mifName(n.MIF, n.Interface), 6)
		} else {
			r.spaces(3 + 1 + 6)
		}
		r.str(" ")
		r.left(addrOr(n.Address, "::"), 40)
		r.str(" ")
		timer := strconv.FormatInt(secsLeft(n.Left), 10)
		if n.Forever {
			timer = "65535"
		}
		r.left(timer, 5)
		r.nl()
		for _, a := range n.Secondary {
			r.spaces(16)
			r.str(addrOr(a, "::"))
			r.nl()
		}
	}
	r.nl()
}

// Section 3.
func (r *report) queriers() {
	r.str("MLD Querier List\n ")
	r.left("Mif", 3)
	r.str(" ")
	r.right("PhyIF", 6)
	r.str(" ")
	r.left("Address", 40)
	r.str(" ")
	r.left("Timer", 5)
	r.str(" ")
	r.right("Last", 15)
	r.nl()
	for _, q := range byMIF(r.s.Queriers, func(q Querier) int { return q.MIF }) {
		timer := "255" // the original's al_timer of its own querier entry
		if !q.Self {
			timer = strconv.FormatInt(secsLeft(q.Left), 10)
		}
		r.str(" ")
		r.left(itoa(q.MIF), 3)
		r.str(" ")
		r.right(r.mifName(q.MIF, q.Interface), 6)
		r.str(" ")
		r.left(addrOr(q.Address, "::"), 40)
		r.str(" ")
		r.right(timer, 5)
		r.str(" ")
		r.right(Age(q.Age), 15)
		r.nl()
	}
	r.nl()
}

// Section 4.
func (r *report) groups() {
	r.str("Reported MLD Group\n ")
	r.left("Mif", 3)
	r.str(" ")
	r.right("PhyIF", 6)
	r.str(" Group(Group-Timer,MLD-ver(Filter-Mode,Compat-Timer))/Source(TimerID)\n")
	for _, g := range byMIF(r.s.Groups, func(g MLDGroup) int { return g.MIF }) {
		ver, mode := "v1", "IN"
		if g.Version == 2 {
			ver = "v2"
		}
		if g.Mode == Exclude {
			mode = "EX"
		}
		r.str(" ")
		r.left(itoa(g.MIF), 3)
		r.str(" ")
		r.right(r.mifName(g.MIF, g.Interface), 6)
		r.b = fmt.Appendf(r.b, " %s (#%d (%s %s #%d))\n", addrOr(g.Group, "::"), g.FilterTimerID, ver, mode, g.CompatTimerID)
		if len(g.Sources) == 0 {
			r.spaces(1 + 3 + 1 + 6)
			r.str("   (any source) (-)\n")
			continue
		}
		for _, src := range g.Sources {
			r.spaces(1 + 3 + 1 + 6)
			r.b = fmt.Appendf(r.b, "   %s (#%d)\n", addrOr(src.Address, "::"), src.TimerID)
		}
	}
	r.nl()
}

// Section 5.
func (r *report) routes() error {
	type group struct {
		addr  netip.Addr
		starG []*Route
		sg    []*Route
	}
	var groups []*group
	index := map[netip.Addr]*group{}
	var starRP []*Route
	for i := range r.s.Routes {
		rt := &r.s.Routes[i]
		switch rt.Kind {
		case StarG, SG:
			g := index[rt.Group]
			if g == nil {
				g = &group{addr: rt.Group}
				index[rt.Group] = g
				groups = append(groups, g)
			}
			if rt.Kind == StarG {
				g.starG = append(g.starG, rt)
			} else {
				g.sg = append(g.sg, rt)
			}
		case StarRP:
			starRP = append(starRP, rt)
		default:
			return fmt.Errorf("ctl: route %d: unknown kind %q", i, rt.Kind)
		}
	}
	slices.SortStableFunc(groups, func(a, b *group) int { return a.addr.Compare(b.addr) })

	r.str("Multicast Routing Table\n Source          Group           RP-addr         Flags\n")
	for _, g := range groups {
		slices.SortStableFunc(g.sg, func(a, b *Route) int { return a.Source.Compare(b.Source) })
		for _, rt := range g.starG {
			r.str("---------------------------(*,G)----------------------------\n")
			r.entry(rt)
		}
		for _, rt := range g.sg {
			r.str("---------------------------(S,G)----------------------------\n")
			r.entry(rt)
		}
	}
	r.str("--------------------------(*,*,RP)--------------------------\n")
	for _, rt := range starRP {
		r.entry(rt)
	}
	r.b = fmt.Appendf(r.b, "Number of Groups: %d\nNumber of Cache MIRRORs: %d\n\n", len(groups), r.s.CacheMirrors)
	return nil
}

// entry prints one routing entry after its separator.
func (r *report) entry(rt *Route) {
	if rt.Kind == StarRP {
		r.str(" RP = ")
		r.left(addrOr(rt.RP, "::"), 15)
		r.str(" ")
		r.left("IN6ADDR_ANY", 15)
	} else {
		src := "IN6ADDR_ANY"
		if rt.Kind == SG {
			src = addrOr(rt.Source, "IN6ADDR_ANY")
		}
		r.str(" ")
		r.left(src, 15)
		r.str(" ")
		r.left(addrOr(rt.Group, "::"), 15)
		r.str(" ")
		r.left(addrOr(rt.RP, "NULL"), 15)
	}
	for _, f := range OrderFlags(rt.Flags) {
		if f == "1ST" && rt.Kind != StarG {
			continue
		}
		r.str(" " + f)
	}
	r.nl()

	// One character per MIF; a route may name a MIF past the table (it
	// should not), which widens its strings rather than losing the bit.
	n := max(r.nmif, len(rt.OIFTimers), rt.Incoming+1)
	for _, set := range [][]int{rt.Joined, rt.Pruned, rt.Leaves, rt.Asserted, rt.Outgoing} {
		for _, m := range set {
			n = max(n, m+1)
		}
	}
	mifs := func(set []int, c byte) string {
		s := make([]byte, n)
		for i := range s {
			s[i] = '.'
		}
		for _, m := range set {
			if m >= 0 {
				s[m] = c
			}
		}
		return string(s)
	}
	var in []int
	if rt.Incoming >= 0 {
		in = []int{rt.Incoming}
	}
	for _, line := range []struct {
		label string
		set   []int
		c     byte
	}{
		{"Joined   oifs: ", rt.Joined, 'j'},
		{"Pruned   oifs: ", rt.Pruned, 'p'},
		{"Leaves   oifs: ", rt.Leaves, 'l'},
		{"Asserted oifs: ", rt.Asserted, 'a'},
		{"Outgoing oifs: ", rt.Outgoing, 'o'},
		{"Incoming     : ", in, 'I'},
	} {
		r.str(line.label)
		r.left(mifs(line.set, line.c), 20)
		r.nl()
	}
	if rt.Kind != StarRP {
		r.str("Upstream nbr: " + addrOr(rt.UpstreamNeighbor, "NONE") + "\n")
	}
	r.b = fmt.Appendf(r.b, "\nTIMERS: Entry=%d JP=%d RS=%d Assert=%d\n",
		secsLeft(rt.EntryTimer), secsLeft(rt.JPTimer), secsLeft(rt.RSTimer), secsLeft(rt.AssertTimer))
	r.str("  MIF   0   1   2   3   4   5   6   7   8   9\n")
	for row := 0; row*10 < n; row++ {
		r.right(itoa(row), 5)
		for m := row * 10; m < min(row*10+10, n); m++ {
			var t Duration
			if m < len(rt.OIFTimers) {
				t = rt.OIFTimers[m]
			}
			r.str(" ")
			r.right(strconv.FormatInt(secsLeft(t), 10), 3)
		}
		r.nl()
	}
}

// OrderFlags returns route flags in RouteFlags order (the report's),
// unknown words last in their own order, each once.
func OrderFlags(flags []string) []string {
	var out []string
	for _, f := range RouteFlags {
		if slices.Contains(flags, f) {
			out = append(out, f)
		}
	}
	for _, f := range flags {
		if !slices.Contains(RouteFlags, f) && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Section 6.
func (r *report) rpSet() {
	rs := &r.s.RPSet
	r.str("---------------------------RP-Set----------------------------\n")
	r.b = fmt.Appendf(r.b, "Current BSR address: %s Prio: %d Timeout: %d\n",
		addrOr(rs.BSR, "::"), rs.BSRPriority, secsLeft(rs.BSRTimeout))
	r.left("RP-address(Upstream)/Group prefix", 45)
	r.str(" Prio Hold Age\n")
	for _, rp := range rs.RPs {
		r.str(addrOr(rp.Address, "::"))
		switch {
		case rp.Upstream.IsValid():
			r.str("(" + rp.Upstream.String() + "%" + rp.UpstreamIf + ")\n")
		case rp.Myself:
			r.str("(myself)\n")
		default:
			r.str("(none)\n")
		}
		for _, g := range rp.Groups {
			r.str("     ")
			r.left(g.Prefix.String(), 40)
			r.str(" ")
			r.left(itoa(g.Priority), 4)
			r.str(" ")
			r.left(strconv.FormatInt(secsLeft(g.Holdtime), 10), 4)
			r.str(" ")
			r.left(strconv.FormatInt(secsLeft(g.Left), 10), 3)
			r.nl()
		}
	}
	r.nl()
}

// The Anycast-RP set (RFC 4610), after the RP-set, only on a member: not
// in the 2007 layout, which had no such thing.
func (r *report) anycastRP() {
	a := r.s.AnycastRP
	if a == nil {
		return
	}
	r.str("-------------------------Anycast-RP--------------------------\n")
	r.str("Anycast-RP address: " + addrOr(a.Address, "::"))
	if !a.Local {
		r.str(" (not ours: not the RP)")
	}
	r.str(" Self: " + addrOr(a.Self, "none") + "\n")
	r.left("Member", 40)
	r.str(" Reg-in Null-in Reg-out Null-out Stop-in Stop-out\n")
	for _, m := range a.Members {
		name := addrOr(m.Address, "::")
		if m.Self {
			r.str(name + " (self)\n")
			continue
		}
		r.left(name, 40)
		for _, c := range []struct {
			n uint64
			w int
		}{{m.RegistersIn, 6}, {m.NullRegistersIn, 7}, {m.RegistersOut, 7}, {m.NullRegistersOut, 8}, {m.RegisterStopsIn, 7}, {m.RegisterStopsOut, 8}} {
			r.str(" ")
			r.left(strconv.FormatUint(c.n, 10), c.w)
		}
		r.nl()
	}
	r.nl()
}

// Section 7: the pending timers as a delta list, each expiry counted from
// the previous one's.
func (r *report) callOut() {
	r.str("--------------------CallOut Timer Queue-----------------\nTimerID\tExpiry-Time[s]\n")
	ts := slices.Clone(r.s.Timers)
	slices.SortStableFunc(ts, func(a, b Timer) int {
		return cmp.Or(cmp.Compare(a.Left, b.Left), cmp.Compare(a.ID, b.ID))
	})
	var prev int64
	for _, t := range ts {
		s := secsLeft(t.Left)
		r.b = fmt.Appendf(r.b, "#%d\t%d\n", t.ID, s-prev)
		prev = s
	}
}
