package mld

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// Test conventions: the interface is ifx with our address `self`; hosts
// report from `host`; sources are named by their last hex digits
// (src("a") is 2001:db8::a); times are seconds after tR. With the default
// configuration MALI is 260 s, LLQI 1 s, LLQT 2 s, OQPI 255 s.

const ifx = 2

var (
	t0       = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tR       = t0.Add(1000 * time.Second)
	self     = addr("fe80::10")
	host     = addr("fe80::100")
	lower    = addr("fe80::1")  // a router that wins the election against us
	higher   = addr("fe80::20") // a router that loses it
	grp      = addr("ff0e::100")
	mldv2Dst = addr("ff02::16")
	unspec   = netip.IPv6Unspecified()
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func src(name string) netip.Addr { return addr("2001:db8::" + name) }

func srcs(names ...string) []netip.Addr {
	var out []netip.Addr
	for _, n := range names {
		out = append(out, src(n))
	}
	return out
}

func name(a netip.Addr) string { return strings.TrimPrefix(a.String(), "2001:db8::") }

func names(as []netip.Addr) []string {
	var out []string
	for _, a := range as {
		out = append(out, name(a))
	}
	return out
}

// at returns tR plus s seconds.
func at(s float64) time.Time { return tR.Add(secs(s)) }

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func rec(t mldmsg.RecordType, g netip.Addr, sources ...string) mldmsg.Record {
	return mldmsg.Record{Type: t, Group: g, Sources: srcs(sources...)}
}

// packet marshals m from `from` to dst as a valid MLD packet.
func packet(t testing.TB, from, dst netip.Addr, m mldmsg.Message) Packet {
	t.Helper()
	b, err := mldmsg.Marshal(m, from, dst)
	if err != nil {
		t.Fatal(err)
	}
	return Packet{Src: from, Dst: dst, HopLimit: 1, RouterAlert: true, Data: b}
}

func report(t testing.TB, recs ...mldmsg.Record) Packet {
	return packet(t, host, mldv2Dst, &mldmsg.ReportV2{Records: recs})
}

func reportV1(t testing.TB, g netip.Addr) Packet {
	return packet(t, host, g, &mldmsg.ReportV1{Group: g})
}

func done(t testing.TB, g netip.Addr) Packet {
	return packet(t, host, addr("ff02::2"), &mldmsg.Done{Group: g})
}

// queryFrom is a Query from another router.
func queryFrom(t testing.TB, from netip.Addr, m mldmsg.Message) Packet {
	dst := allNodes
	switch m := m.(type) {
	case *mldmsg.QueryV1:
		if !m.Group.IsUnspecified() {
			dst = m.Group
		}
	case *mldmsg.QueryV2:
		if !m.Group.IsUnspecified() {
			dst = m.Group
		}
	}
	return packet(t, from, dst, m)
}

// generalV2 is a General Query as a default-configured router sends it.
func generalV2() *mldmsg.QueryV2 {
	return &mldmsg.QueryV2{MaxRespCode: 10000, Group: unspec, QRV: 2, QQIC: 125}
}

// newRouter returns a Router with one interface, added at `now` with cfg;
// the start-up actions are dropped.
func newRouter(t testing.TB, now time.Time, cfg Config) *Router {
	t.Helper()
	r := New(new(timerq.IDs))
	if _, err := r.AddInterface(now, ifx, "eth0", self, cfg); err != nil {
		t.Fatal(err)
	}
	return r
}

// seed gives a group the state of a table row's first column directly: mode,
// Filter Timer and source timers as seconds left at `now` (0: Exclude List).
type seed struct {
	mode    FilterMode
	filter  float64
	sources map[string]float64
}

func seedGroup(r *Router, now time.Time, g netip.Addr, s seed) {
	n := r.begin(now)
	ifc := r.ifaces[ifx]
	gr := r.newGroup(ifc, keyOf(g))
	if s.mode == Exclude {
		r.setMode(gr, Exclude)
		r.setFilter(gr, n+int64(secs(s.filter)))
	}
	for nm, left := range s.sources {
		if left == 0 {
			r.zeroSource(gr, keyOf(src(nm)))
		} else {
			r.setSource(gr, keyOf(src(nm)), n+int64(secs(left)))
		}
	}
	r.finish()
}

// gview is a group's state in test terms: times left in seconds.
type gview struct {
	Mode    FilterMode
	Filter  float64            // Filter Timer, 0 when not running
	Compat  Version            // compatibility mode
	Sources map[string]float64 // source timers; 0 is the Exclude List
}

// view returns the group's state from Snapshot, nil when there is no record.
func view(r *Router, now time.Time, g netip.Addr) *gview {
	for _, st := range r.Snapshot(now) {
		if st.IfIndex != ifx {
			continue
		}
		for _, gs := range st.Groups {
			if gs.Group != g {
				continue
			}
			v := &gview{Mode: gs.Mode, Filter: gs.FilterTimerLeft.Seconds(), Compat: gs.Compat}
			for _, s := range gs.Sources {
				if v.Sources == nil {
					v.Sources = map[string]float64{}
				}
				v.Sources[name(s.Source)] = s.Left.Seconds()
			}
			return v
		}
	}
	return nil
}

// q is a sent Query in test terms.
type q struct {
	At      float64 // seconds after tR
	V1      bool
	Group   string // "" for a General Query
	S       bool
	Sources []string
}

// upd is a ListenerUpdate in test terms.
type upd struct {
	At      float64
	Group   string
	Mode    FilterMode
	Sources []string
}

// other is any other action.
type other struct {
	At float64
	A  Action
}

// actlog collects actions by kind, with their times.
type actlog struct {
	Queries []q
	Updates []upd
	Others  []other
}

func (l *actlog) add(now time.Time, acts []Action) {
	s := now.Sub(tR).Seconds()
	for _, a := range acts {
		switch a := a.(type) {
		case SendQuery:
			l.Queries = append(l.Queries, toQ(s, a))
		case ListenerUpdate:
			l.Updates = append(l.Updates, upd{At: s, Group: a.Group.String(), Mode: a.Mode, Sources: names(a.Sources)})
		default:
			l.Others = append(l.Others, other{At: s, A: a})
		}
	}
}

func toQ(at float64, a SendQuery) q {
	switch m := a.Msg.(type) {
	case *mldmsg.QueryV1:
		out := q{At: at, V1: true}
		if !m.Group.IsUnspecified() {
			out.Group = m.Group.String()
		}
		return out
	case *mldmsg.QueryV2:
		out := q{At: at, S: m.SuppressRouterSide, Sources: names(m.Sources)}
		if !m.Group.IsUnspecified() {
			out.Group = m.Group.String()
		}
		return out
	}
	return q{At: at, Group: "?"}
}

// specific drops the General Queries of a query list.
func specific(qs []q) []q {
	out := slices.DeleteFunc(slices.Clone(qs), func(x q) bool { return x.Group == "" })
	if len(out) == 0 {
		return nil
	}
	return out
}

func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}
