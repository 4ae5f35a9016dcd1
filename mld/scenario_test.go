package mld

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// A tiny link: every router's Queries reach the other routers that are up,
// from the sender's address, at the same instant. Times are seconds after tR.

type node struct {
	name string
	self netip.Addr
	r    *Router
	up   bool
}

type link struct {
	t      *testing.T
	ids    timerq.IDs
	now    time.Time
	nodes  []*node
	events []string // QuerierChange and General Queries sent, in order
	logs   map[string]*actlog
}

func newLink(t *testing.T) *link {
	return &link{t: t, now: tR, logs: map[string]*actlog{}}
}

func (l *link) at() float64 { return l.now.Sub(tR).Seconds() }

// start adds (or restarts) a router on the link at the current time.
func (l *link) start(name string, self netip.Addr, cfg Config) *node {
	var n *node
	for _, x := range l.nodes {
		if x.name == name {
			n = x
		}
	}
	if n == nil {
		n = &node{name: name, self: self}
		l.nodes = append(l.nodes, n)
	}
	n.r, n.up = New(&l.ids), true
	acts, err := n.r.AddInterface(l.now, ifx, "eth0", self, cfg)
	if err != nil {
		l.t.Fatal(err)
	}
	l.handle(n, acts)
	return n
}

// stop takes a router off the link: it sends and hears nothing more.
func (l *link) stop(n *node) { n.up = false }

// handle records a router's actions and delivers its Queries.
func (l *link) handle(from *node, acts []Action) {
	if l.logs[from.name] == nil {
		l.logs[from.name] = new(actlog)
	}
	l.logs[from.name].add(l.now, acts)
	for _, a := range acts {
		switch a := a.(type) {
		case QuerierChange:
			l.events = append(l.events, fmt.Sprintf("%g %s: querier %s", l.at(), from.name, l.nameOf(a.Querier)))
		case SendQuery:
			if a.Dst == allNodes {
				l.events = append(l.events, fmt.Sprintf("%g %s: general query", l.at(), from.name))
			}
			p := packet(l.t, from.self, a.Dst, a.Msg)
			for _, n := range l.nodes {
				if n != from && n.up {
					l.handle(n, n.r.Receive(l.now, ifx, p))
				}
			}
		}
	}
}

func (l *link) nameOf(a netip.Addr) string {
	for _, n := range l.nodes {
		if n.self == a {
			return n.name
		}
	}
	return a.String()
}

// host sends a packet from a listener to every router that is up.
func (l *link) host(p Packet) {
	for _, n := range l.nodes {
		if n.up {
			l.handle(n, n.r.Receive(l.now, ifx, p))
		}
	}
}

// run fires every timer of the routers that are up, in time order, until
// `end` seconds after tR.
func (l *link) run(end float64) {
	for {
		var next *node
		var when time.Time
		for _, n := range l.nodes {
			if !n.up {
				continue
			}
			if d, ok := n.r.NextDeadline(); ok && (next == nil || d.Before(when)) {
				next, when = n, d
			}
		}
		if next == nil || when.After(at(end)) {
			l.now = at(end)
			return
		}
		l.now = when
		l.handle(next, next.r.Expire(when))
	}
}

func (l *link) querier(n *node) (string, bool) {
	st := n.r.Snapshot(l.now)[0]
	return l.nameOf(st.Querier), st.QuerierSelf
}

func (l *link) take() []string {
	e := l.events
	l.events = nil
	return e
}

var (
	rtrA = addr("fe80::1")
	rtrB = addr("fe80::2")
	rtrC = addr("fe80::3")
)

// TestTwoRouters: the lower address wins the election at start-up, and the
// other stays quiet while it hears the Querier (RFC 3810 section 7.6.2).
func TestTwoRouters(t *testing.T) {
	l := newLink(t)
	b := l.start("B", rtrB, DefaultConfig())
	a := l.start("A", rtrA, DefaultConfig())
	l.run(300)
	diff(t, "events", []string{
		"0 B: querier B", "0 B: general query",
		"0 A: querier A", "0 A: general query", "0 B: querier A",
		"31.25 A: general query", "156.25 A: general query", "281.25 A: general query",
	}, l.take())
	q, self := l.querier(b)
	diff(t, "B's querier", []any{"A", false}, []any{q, self})
	q, self = l.querier(a)
	diff(t, "A's querier", []any{"A", true}, []any{q, self})
}

// TestThreeRoutersQuerierLoss: the Querier goes; after the Other Querier
// Present Interval (255 s) from its last Query the next lowest takes over;
// when the lowest comes back, it wins again at once.
func TestThreeRoutersQuerierLoss(t *testing.T) {
	l := newLink(t)
	a := l.start("A", rtrA, DefaultConfig())
	b := l.start("B", rtrB, DefaultConfig())
	c := l.start("C", rtrC, DefaultConfig())
	l.run(300)
	l.take()
	for _, n := range []*node{a, b, c} {
		q, _ := l.querier(n)
		diff(t, n.name+"'s querier", "A", q)
	}
	l.stop(a) // last Query of A: 281.25
	l.run(600)
	diff(t, "take-over", []string{
		"536.25 B: querier B", "536.25 B: general query", "536.25 C: querier B",
	}, l.take())
	q, _ := l.querier(c)
	diff(t, "C's querier", "B", q)
	// C's Other Querier Present timer was reset by B's Query.
	if st := c.r.Snapshot(l.now)[0]; st.OtherQuerierPresent != 536.25e9+255e9-600e9 {
		t.Errorf("C's Other Querier Present time left = %v", st.OtherQuerierPresent)
	}
	l.now = at(700)
	l.start("A", rtrA, DefaultConfig())
	l.run(800)
	diff(t, "A back", []string{
		"700 A: querier A", "700 A: general query", "700 B: querier A", "700 C: querier A",
		"731.25 A: general query",
	}, l.take())
}

// TestQuerierValuesAdopted: a non-Querier uses the Querier's QRV and QQIC
// (5.1.8, 5.1.9) for its timers, so it takes over after the Querier's
// OQPI, then queries at its own Query Interval.
func TestQuerierValuesAdopted(t *testing.T) {
	l := newLink(t)
	fast := DefaultConfig()
	fast.Robustness, fast.QueryInterval, fast.StartupQueryInterval = 3, 60*time.Second, 15*time.Second
	fast.StartupQueryCount, fast.LastListenerQueryCount = 3, 3
	a := l.start("A", rtrA, fast)
	b := l.start("B", rtrB, DefaultConfig())
	l.run(100) // A's Queries: 0, 15, 30, 90
	st := b.r.Snapshot(l.now)[0]
	diff(t, "B adopted", []any{3, 60 * time.Second}, []any{st.Robustness, st.QueryInterval})
	l.stop(a)
	l.take()
	l.run(400)
	// 90 + OQPI (3*60 + 5) = 275; then B's own 125 s.
	diff(t, "take-over", []string{"275 B: querier B", "275 B: general query", "400 B: general query"}, l.take())
	st = b.r.Snapshot(l.now)[0]
	diff(t, "B's own", []any{2, 125 * time.Second}, []any{st.Robustness, st.QueryInterval})
}

// TestNonQuerierFollowsLeave: a listener leaves a source; the Querier's
// source-specific Query (S clear) makes the non-Querier lower its timer
// too, so both routers withdraw the source at the same time (7.6.1).
func TestNonQuerierFollowsLeave(t *testing.T) {
	l := newLink(t)
	l.start("B", rtrB, DefaultConfig())
	l.start("A", rtrA, DefaultConfig()) // B hears A's first Query
	l.run(10)
	l.host(report(t, rec(mldmsg.ModeIsInclude, grp, "a", "b")))
	l.now = at(20)
	l.logs = map[string]*actlog{}
	l.host(report(t, rec(mldmsg.BlockOldSources, grp, "a")))
	l.run(30)
	g := grp.String()
	for _, name := range []string{"A", "B"} {
		got := *l.logs[name]
		got.Queries = specific(got.Queries)
		want := actlog{Updates: []upd{{22, g, Include, []string{"b"}}}}
		if name == "A" {
			want.Queries = []q{{At: 20, Group: g, Sources: []string{"a"}}, {At: 21, Group: g, Sources: []string{"a"}}}
		}
		diff(t, name+" actions", want, got)
	}
	for _, n := range l.nodes {
		diff(t, n.name+" state", inc(src4{"b": 240}), view(n.r, at(30), grp))
	}
}
