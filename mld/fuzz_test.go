package mld

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// The fuzz universe is small so that records collide: five ASM groups, one
// link-scope group, one SSM group, five sources, limits of 4 groups and 3
// sources.
var (
	fuzzGroups = []netip.Addr{
		addr("ff0e::1"), addr("ff0e::2"), addr("ff0e::3"), addr("ff05::4"), addr("ff0e::5"),
		addr("ff02::16"), addr("ff3e::8000:1"),
	}
	fuzzSources = srcs("1", "2", "3", "4", "5")
)

// fuzzer feeds a byte string to a Router as a sequence of operations and
// checks the invariants after each.
type fuzzer struct {
	t     *testing.T
	data  []byte
	r     *Router
	cfg   Config
	now   time.Time
	model map[netip.Addr]ListenerUpdate // the last update per group
}

func (f *fuzzer) byte() byte {
	if len(f.data) == 0 {
		return 0
	}
	b := f.data[0]
	f.data = f.data[1:]
	return b
}

func (f *fuzzer) sources() []netip.Addr {
	mask := f.byte()
	var out []netip.Addr
	for i, s := range fuzzSources {
		if mask&(1<<i) != 0 {
			out = append(out, s)
		}
	}
	if mask&0x80 != 0 && len(out) > 0 {
		out = append(out, out[0]) // a duplicate
	}
	return out
}

func (f *fuzzer) group() netip.Addr { return fuzzGroups[int(f.byte())%len(fuzzGroups)] }

func (f *fuzzer) step() {
	op := f.byte() % 9
	var acts []Action
	expired := false
	switch op {
	case 0: // time passes, timers fire
		f.now = f.now.Add(time.Duration(f.byte()) * 250 * time.Millisecond)
		acts, expired = f.r.Expire(f.now), true
	case 1: // to the next deadline
		if d, ok := f.r.NextDeadline(); ok && d.After(f.now) {
			f.now = d
		}
		acts, expired = f.r.Expire(f.now), true
	case 2: // MLDv2 Report
		n := 1 + int(f.byte()%3)
		recs := make([]mldmsg.Record, n)
		for i := range recs {
			recs[i] = mldmsg.Record{Type: mldmsg.RecordType(f.byte() % 8), Group: f.group(), Sources: f.sources()}
		}
		acts = f.r.Receive(f.now, ifx, report(f.t, recs...))
	case 3:
		acts = f.r.Receive(f.now, ifx, reportV1(f.t, f.group()))
	case 4:
		acts = f.r.Receive(f.now, ifx, done(f.t, f.group()))
	case 5, 6: // a Query from another router
		from := higher
		if op == 6 {
			from = lower
		}
		flags := f.byte()
		g := unspec
		if flags&1 != 0 {
			g = f.group()
		}
		var m mldmsg.Message
		if flags&2 != 0 {
			m = &mldmsg.QueryV1{MaxRespDelay: 1000, Group: g}
		} else {
			qv := &mldmsg.QueryV2{MaxRespCode: 1000, Group: g, SuppressRouterSide: flags&4 != 0, QRV: (flags >> 3) & 7, QQIC: f.byte() % 40}
			if !g.IsUnspecified() {
				qv.Sources = f.sources()
			}
			m = qv
		}
		acts = f.r.Receive(f.now, ifx, queryFrom(f.t, from, m))
	case 7: // any bytes, with a good checksum, from a host or from us
		n := int(f.byte()) % 64
		b := make([]byte, min(n, len(f.data)))
		copy(b, f.data)
		from := host
		if n%2 == 1 {
			from = self
		}
		p := withChecksum(Packet{Src: from, Dst: mldv2Dst, HopLimit: 1, RouterAlert: true}, b)
		acts = f.r.Receive(f.now, ifx, p)
	case 8: // reload: Version and SSM range change
		c := f.cfg
		c.Version = Version(1 + f.byte()%3)
		if f.byte()%2 == 0 {
			c.SSMRange = []netip.Prefix{netip.MustParsePrefix("ff05::/16")}
		}
		var err error
		if acts, err = f.r.SetConfig(f.now, ifx, c); err != nil {
			f.t.Fatal(err)
		}
	}
	f.check(acts, expired)
}

// check verifies the invariants after one operation.
func (f *fuzzer) check(acts []Action, expired bool) {
	t := f.t
	t.Helper()
	snap := f.r.Snapshot(f.now)
	if len(snap) != 1 {
		t.Fatalf("%d interfaces", len(snap))
	}
	st := snap[0]
	for _, a := range acts {
		switch a := a.(type) {
		case ListenerUpdate:
			if keyOf(a.Group).Scope() < 3 {
				t.Fatalf("update for link-scope group %v", a.Group)
			}
			old := f.model[a.Group]
			if old.Mode == a.Mode && slices.Equal(old.Sources, a.Sources) {
				t.Fatalf("update that changes nothing: %+v", a)
			}
			f.model[a.Group] = a
		case SendQuery:
			if !st.QuerierSelf {
				t.Fatalf("non-Querier sent %+v", a)
			}
		}
	}
	// The engine's record of listeners (Listener, Listeners) is what its
	// ListenerUpdates said last: the daemon keeps no copy.
	var want []ListenerUpdate
	for _, u := range f.model {
		if u.Mode == Exclude || len(u.Sources) > 0 {
			want = append(want, u)
		}
	}
	slices.SortFunc(want, func(a, b ListenerUpdate) int { return a.Group.Compare(b.Group) })
	got := f.r.Listeners(ifx)
	if len(got) != len(want) {
		t.Fatalf("Listeners %+v, updates say %+v", got, want)
	}
	for i := range got {
		if got[i].IfIndex != want[i].IfIndex || got[i].Group != want[i].Group || got[i].Mode != want[i].Mode || !slices.Equal(got[i].Sources, want[i].Sources) {
			t.Fatalf("Listeners %+v, updates say %+v", got, want)
		}
		if one, ok := f.r.Listener(ifx, got[i].Group); !ok || one.Mode != got[i].Mode || !slices.Equal(one.Sources, got[i].Sources) {
			t.Fatalf("Listener(%v) = %+v, %v; Listeners says %+v", got[i].Group, one, ok, got[i])
		}
	}
	if len(st.Groups) > f.cfg.MaxGroups {
		t.Fatalf("%d groups, limit %d", len(st.Groups), f.cfg.MaxGroups)
	}
	if n := f.r.Stats(ifx).Groups; n != len(st.Groups) {
		t.Fatalf("Stats says %d groups, Snapshot %d", n, len(st.Groups))
	}
	ids := map[timerq.ID]bool{}
	useID := func(id timerq.ID, what string) {
		if id == 0 {
			return
		}
		if ids[id] {
			t.Fatalf("timer ID %d used twice (%s)", id, what)
		}
		ids[id] = true
		if _, ok := f.r.q.When(id); !ok {
			t.Fatalf("timer %d (%s) not queued", id, what)
		}
	}
	useID(st.GeneralQueryTimer, "general query")
	useID(st.OtherQuerierPresentTimer, "other querier")
	useID(st.OlderVersionQuerierTimer, "older querier")
	if st.QuerierSelf == (st.GeneralQueryTimer == 0) || st.QuerierSelf != (st.OtherQuerierPresentTimer == 0) {
		t.Fatalf("querier %v with general query timer %d and other querier timer %d", st.QuerierSelf, st.GeneralQueryTimer, st.OtherQuerierPresentTimer)
	}
	seen := map[netip.Addr]bool{}
	for _, g := range st.Groups {
		seen[g.Group] = true
		what := g.Group.String()
		if len(g.Sources) > f.cfg.MaxSources {
			t.Fatalf("%s: %d sources, limit %d", what, len(g.Sources), f.cfg.MaxSources)
		}
		switch g.Mode {
		case Include:
			if g.FilterTimer != 0 || len(g.Sources) == 0 || g.QueriesLeft != 0 {
				t.Fatalf("%s: INCLUDE with Filter Timer %d, %d sources, %d Q(MA) left", what, g.FilterTimer, len(g.Sources), g.QueriesLeft)
			}
		case Exclude:
			if g.FilterTimer == 0 {
				t.Fatalf("%s: EXCLUDE without a Filter Timer", what)
			}
			if expired && g.FilterTimerLeft <= 0 {
				t.Fatalf("%s: Filter Timer overdue after Expire", what)
			}
		}
		if ssm := f.r.ifaces[ifx].cfg.isSSM(g.Group); ssm && (g.Mode == Exclude || g.Compat == V1) {
			t.Fatalf("%s: SSM group in %v mode, compatibility %v", what, g.Mode, g.Compat)
		}
		useID(g.FilterTimer, what+" filter")
		useID(g.CompatTimer, what+" compat")
		var fwd []netip.Addr
		for _, s := range g.Sources {
			useID(s.Timer, what+" source")
			if g.Mode == Include && s.Timer == 0 {
				t.Fatalf("%s: INCLUDE source %v without a timer", what, s.Source)
			}
			if expired && s.Timer != 0 && s.Left <= 0 {
				t.Fatalf("%s: source %v overdue after Expire", what, s.Source)
			}
			if g.Mode == Include || s.Timer == 0 {
				fwd = append(fwd, s.Source)
			}
		}
		if g.Routed {
			m := f.model[g.Group]
			if m.Mode != g.Mode || !slices.Equal(m.Sources, fwd) {
				t.Fatalf("%s: last update %v %v, state %v %v", what, m.Mode, m.Sources, g.Mode, fwd)
			}
		}
	}
	for g, m := range f.model {
		if !seen[g] && (m.Mode != Include || len(m.Sources) != 0) {
			t.Fatalf("%v: no record, but the last update was %v %v", g, m.Mode, m.Sources)
		}
	}
	// A lazy timer is queued at or before its true deadline.
	for _, g := range f.r.ifaces[ifx].groups {
		if g.filter != 0 {
			if w, _ := f.r.q.When(g.filter); w.After(f.r.abs(g.filterAt)) {
				t.Fatalf("%v: Filter Timer queued after its deadline", g.addr.Addr())
			}
		}
		for k, s := range g.sources {
			if s.id != 0 {
				if w, _ := f.r.q.When(s.id); w.After(f.r.abs(s.at)) {
					t.Fatalf("%v %v: source timer queued after its deadline", g.addr.Addr(), k.Addr())
				}
			}
			if s.mark {
				t.Fatalf("%v %v: mark left set", g.addr.Addr(), k.Addr())
			}
		}
	}
}

// FuzzRouter feeds random operations (reports of every kind, queries from
// higher and lower routers, time steps, garbage, reloads) into one
// interface and checks the invariants of (*fuzzer).check after each.
func FuzzRouter(f *testing.F) {
	f.Add([]byte{2, 0, 2, 0x03, 2, 1, 0x06, 0, 10})                    // IS_EX then TO_IN
	f.Add([]byte{3, 1, 2, 0, 5, 2, 0x01, 0, 4, 4, 1, 0, 8, 1, 1, 1})   // v1 report, BLOCK, Done
	f.Add([]byte{6, 0, 0, 2, 0, 4, 1, 0x03, 1, 1, 1})                  // lower querier, leave
	f.Add([]byte{2, 2, 1, 0, 0x1f, 1, 1, 0x0f, 1, 2, 0x1f, 0, 255, 1}) // limits
	f.Add([]byte{8, 2, 0, 2, 0, 2, 6, 0, 8, 0, 1})                     // reloads
	f.Add(binary.BigEndian.AppendUint64(nil, 0x0702030405060708))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := DefaultConfig()
		cfg.MaxGroups, cfg.MaxSources = 4, 3
		cfg.QueryInterval, cfg.QueryResponseInterval = 20*time.Second, 5*time.Second
		cfg.StartupQueryInterval = 5 * time.Second
		fz := &fuzzer{t: t, data: data, cfg: cfg, now: tR, model: map[netip.Addr]ListenerUpdate{}}
		fz.r = New(nil)
		acts, err := fz.r.AddInterface(tR, ifx, "eth0", self, cfg)
		if err != nil {
			t.Fatal(err)
		}
		fz.check(acts, false)
		for steps := 0; len(fz.data) > 0 && steps < 200; steps++ {
			fz.step()
		}
		// Long after everything: all state gone, nothing left to route.
		for range 100 {
			d, ok := fz.r.NextDeadline()
			if !ok {
				break
			}
			fz.now = d.Add(time.Hour)
			fz.check(fz.r.Expire(fz.now), true)
		}
		if g := fz.r.Stats(ifx).Groups; g != 0 {
			t.Fatalf("%d groups left with no reports for hours", g)
		}
	})
}
