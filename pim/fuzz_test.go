package pim

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The fuzz universe is small so that messages collide: two interfaces
// (ifD, ifU, plus ifX that comes and goes), three neighbors per interface,
// three sources, two SSM groups and one ASM group; at most 2 neighbors per
// interface and 4 routes.
var (
	fuzzIfs     = []int{ifD, ifU, ifX}
	fuzzSelf    = map[int]netip.Addr{ifD: selfD, ifU: selfU, ifX: selfX}
	fuzzNbrs    = []netip.Addr{nbr1, nbr2, nbr3}
	fuzzSecs    = []netip.Addr{addr("2001:db8:9::1"), addr("2001:db8:9::2")}
	fuzzSources = []netip.Addr{s1, s2, addr("2001:db8::3")}
	fuzzGroups  = []netip.Addr{g1, g2, asmG}
)

const (
	fuzzMaxRoutes    = 4
	fuzzMaxNeighbors = 2
)

type fuzzer struct {
	t       *testing.T
	data    []byte
	r       *Router
	now     time.Time
	ifUp    map[int]bool
	watched map[netip.Addr]bool
	routes  map[[2]netip.Addr]Route // last Route per (S,G), deletes removed
}

func (f *fuzzer) byte() byte {
	if len(f.data) == 0 {
		return 0
	}
	b := f.data[0]
	f.data = f.data[1:]
	return b
}

func (f *fuzzer) pick(n int) int { return int(f.byte()) % n }

func (f *fuzzer) iface() int { return fuzzIfs[f.pick(len(fuzzIfs))] }

func (f *fuzzer) sources() []netip.Addr {
	m := f.byte()
	var out []netip.Addr
	for i, s := range fuzzSources {
		if m&(1<<i) != 0 {
			out = append(out, s)
		}
	}
	if m&0x80 != 0 {
		out = append(out, addr("fe80::7")) // not a valid source
	}
	return out
}

func (f *fuzzer) hello() *pimmsg.Hello {
	h := &pimmsg.Hello{}
	switch f.pick(7) {
	case 0:
		h.Holdtime = u16(0)
	case 1:
		h.Holdtime = u16(1)
	case 2:
		h.Holdtime = u16(5)
	case 3:
		h.Holdtime = u16(0xffff)
	case 4:
	default:
		h.Holdtime = u16(105)
	}
	if b := f.byte(); b&1 != 0 {
		h.GenerationID = u32(uint32(b >> 6))
	}
	if b := f.byte(); b&1 != 0 {
		h.DRPriority = u32(uint32(b >> 5))
	}
	if b := f.byte(); b&1 != 0 {
		h.LANPruneDelay = &pimmsg.LANPruneDelay{T: b&2 != 0, PropagationDelay: uint16(b>>2) * 100, OverrideInterval: uint16(f.byte()) * 20}
	}
	if b := f.byte(); b&1 != 0 {
		for i, a := range fuzzSecs {
			if b&(2<<i) != 0 {
				h.AddressList = append(h.AddressList, a)
			}
		}
		if b&8 != 0 {
			h.AddressList = append(h.AddressList, addr("fe80::9"), g1)
		}
	}
	return h
}

func (f *fuzzer) joinPrune(ifindex int) *pimmsg.JoinPrune {
	up := fuzzSelf[ifindex]
	switch f.pick(4) {
	case 1:
		up = fuzzNbrs[f.pick(len(fuzzNbrs))]
	case 2:
		up = fuzzSecs[f.pick(len(fuzzSecs))]
	}
	holdtimes := []uint16{0, 3, 210, 0xffff}
	jp := &pimmsg.JoinPrune{UpstreamNeighbor: up, Holdtime: holdtimes[f.pick(len(holdtimes))]}
	for range 1 + f.pick(2) {
		g := pimmsg.JoinPruneGroup{Group: pimmsg.Group{Addr: fuzzGroups[f.pick(len(fuzzGroups))], MaskLen: 128}}
		flags := f.byte()
		mk := func(as []netip.Addr) []pimmsg.Source {
			var out []pimmsg.Source
			for _, a := range as {
				out = append(out, pimmsg.Source{Addr: a, MaskLen: 128, Sparse: true, WildCard: flags&1 != 0, RPT: flags&2 != 0})
			}
			return out
		}
		g.Joins, g.Prunes = mk(f.sources()), mk(f.sources())
		jp.Groups = append(jp.Groups, g)
	}
	return jp
}

func (f *fuzzer) receive(ifindex int, from netip.Addr, m pimmsg.Message) []Action {
	b, err := pimmsg.Marshal(m, from, AllPIMRouters)
	if err != nil {
		f.t.Fatalf("marshal: %v", err)
	}
	return f.r.Receive(f.now, ifindex, from, AllPIMRouters, b)
}

func (f *fuzzer) step() {
	var acts []Action
	expired := false
	switch op := f.pick(11); op {
	case 0:
		f.now = f.now.Add(time.Duration(f.byte()) * 250 * time.Millisecond)
		acts, expired = f.r.Expire(f.now), true
	case 1:
		if d, ok := f.r.NextDeadline(); ok && d.After(f.now) {
			f.now = d
		}
		acts, expired = f.r.Expire(f.now), true
	case 2, 3:
		i := f.iface()
		acts = f.receive(i, fuzzNbrs[f.pick(len(fuzzNbrs))], f.hello())
	case 4, 5:
		i := f.iface()
		acts = f.receive(i, fuzzNbrs[f.pick(len(fuzzNbrs))], f.joinPrune(i))
	case 6: // raw bytes, with a good checksum half the time
		n := f.pick(64)
		b := make([]byte, 0, n)
		for range n {
			b = append(b, f.byte())
		}
		from := fuzzNbrs[f.pick(len(fuzzNbrs))]
		if len(b) >= 4 && b[0]&1 == 0 {
			b[0] = 0x20 | b[0]&0x0f
			binary.BigEndian.PutUint16(b[2:], pimmsg.Checksum(b, from, AllPIMRouters))
		}
		acts = f.r.Receive(f.now, f.iface(), from, AllPIMRouters, b)
	case 7:
		acts = f.r.SetListeners(f.now, ListenerInput{IfIndex: f.iface(), Group: fuzzGroups[f.pick(len(fuzzGroups))], Exclude: f.byte()&1 != 0, Sources: f.sources()})
	case 8:
		var us []RPFUpdate
		for range 1 + f.pick(3) {
			rpf := RPF{Valid: f.byte()&3 != 0, IfIndex: f.iface()}
			switch f.pick(4) {
			case 0:
			case 1:
				rpf.NextHop = fuzzSecs[f.pick(len(fuzzSecs))]
			default:
				rpf.NextHop = fuzzNbrs[f.pick(len(fuzzNbrs))]
			}
			us = append(us, RPFUpdate{fuzzSources[f.pick(len(fuzzSources))], rpf})
		}
		acts = f.r.SetRPFs(f.now, us)
	case 9:
		cfg := DefaultIfConfig()
		cfg.DRPriority = uint32(f.pick(3))
		if f.byte()&1 != 0 {
			cfg.JoinPrunePeriod, cfg.JoinPruneHoldtime = 5*time.Second, 17*time.Second
			cfg.HelloPeriod, cfg.HelloHoldtime = 3*time.Second, 10*time.Second
			cfg.TriggeredHelloDelay = time.Second
		}
		var err error
		if acts, err = f.r.SetInterfaceConfig(f.now, f.iface(), cfg); err != nil {
			f.t.Fatal(err)
		}
	case 10:
		i := f.iface()
		if f.ifUp[i] {
			acts = f.r.RemoveInterface(f.now, i)
			f.ifUp[i] = false
		} else if b := f.byte(); b&1 != 0 {
			self := fuzzSelf[i]
			if b&2 != 0 {
				self = addr(fmt.Sprintf("fe80::%x", b))
			}
			var err error
			if acts, err = f.r.AddInterface(f.now, i, "x", self, fuzzSecs[:f.pick(2)], DefaultIfConfig()); err != nil {
				f.t.Fatal(err)
			}
			f.ifUp[i] = true
		} else {
			acts = f.r.SetAddresses(f.now, i, fuzzSelf[i], fuzzSecs[:f.pick(3)])
		}
	}
	f.check(acts, expired)
}

// check verifies the actions of one step and the state after it.
func (f *fuzzer) check(acts []Action, expired bool) {
	t := f.t
	for _, a := range acts {
		switch a := a.(type) {
		case Route:
			if slices.Contains(a.OIFs, a.IIF) || !slices.IsSorted(a.OIFs) || len(slices.Compact(slices.Clone(a.OIFs))) != len(a.OIFs) {
				t.Fatalf("bad Route %+v", a)
			}
			if (a.IIF == 0) != (len(a.OIFs) == 0) {
				t.Fatalf("non-canonical Route %+v", a)
			}
			k := [2]netip.Addr{a.Source, a.Group}
			if a.Delete() {
				delete(f.routes, k)
			} else {
				f.routes[k] = a
			}
		case WatchRPF:
			if f.watched[a.Addr] {
				t.Fatalf("WatchRPF %v twice", a.Addr)
			}
			f.watched[a.Addr] = true
		case UnwatchRPF:
			if !f.watched[a.Addr] {
				t.Fatalf("UnwatchRPF %v not watched", a.Addr)
			}
			delete(f.watched, a.Addr)
		case SendPIM:
			if _, err := pimmsg.Marshal(a.Msg, a.Src, a.Dst); err != nil {
				t.Fatalf("unmarshallable %v: %v", a.Msg.Type(), err)
			}
			if jp, ok := a.Msg.(*pimmsg.JoinPrune); ok && pimmsg.Len(jp) > 1500-ipv6HeaderLen {
				t.Fatalf("Join/Prune of %d octets", pimmsg.Len(jp))
			}
		}
	}
	if expired {
		if d, ok := f.r.NextDeadline(); ok && !d.After(f.now) {
			t.Fatalf("deadline %v not after now %v after Expire", d, f.now)
		}
	}
	st := f.r.Snapshot(f.now)
	if len(st.Routes) > fuzzMaxRoutes {
		t.Fatalf("%d routes", len(st.Routes))
	}
	for _, is := range st.Interfaces {
		if len(is.Neighbors) > fuzzMaxNeighbors {
			t.Fatalf("%d neighbors on %d", len(is.Neighbors), is.IfIndex)
		}
		if f.r.Stats(is.IfIndex).Dropped[DropSendError] != 0 {
			t.Fatal("send error")
		}
	}
	sources := map[netip.Addr]bool{}
	for _, rs := range st.Routes {
		sources[rs.Source] = true
		k := [2]netip.Addr{rs.Source, rs.Group}
		last, ok := f.routes[k]
		if rs.IIF != last.IIF || !slices.Equal(rs.OIFs, last.OIFs) || !ok && rs.IIF != 0 {
			t.Fatalf("%v: state iif %d oifs %v, last Route %+v", k, rs.IIF, rs.OIFs, last)
		}
		for _, d := range rs.Downstream {
			switch {
			case d.State != Join && d.State != PrunePending:
				t.Fatalf("%v on %d: stored state %v", k, d.IfIndex, d.State)
			case d.State == PrunePending && d.PrunePendingTimer == 0:
				t.Fatalf("%v on %d: Prune-Pending without PPT", k, d.IfIndex)
			case d.State == Join && d.PrunePendingTimer != 0:
				t.Fatalf("%v on %d: Join with PPT", k, d.IfIndex)
			case d.Forever == (d.ExpiryTimer != 0):
				t.Fatalf("%v on %d: forever %v with ET %d", k, d.IfIndex, d.Forever, d.ExpiryTimer)
			case d.ExpiryLeft > 0xffff*time.Second:
				t.Fatalf("%v on %d: ET %v", k, d.IfIndex, d.ExpiryLeft)
			}
		}
		if (rs.Upstream == Joined) != rs.JoinDesired {
			t.Fatalf("%v: %v with JoinDesired %v", k, rs.Upstream, rs.JoinDesired)
		}
		if (rs.Upstream == Joined && rs.RPFNeighbor.IsValid()) != (rs.JoinTimer != 0) {
			t.Fatalf("%v: %v toward %v with Join Timer %d", k, rs.Upstream, rs.RPFNeighbor, rs.JoinTimer)
		}
		if rs.RPFNeighbor.IsValid() && rs.RPFNeighborIf != rs.RPF.IfIndex {
			t.Fatalf("%v: RPF' on %d, route on %d", k, rs.RPFNeighborIf, rs.RPF.IfIndex)
		}
		if len(rs.Downstream) == 0 && len(rs.LocalReceivers) == 0 && rs.Upstream == NotJoined && rs.IIF == 0 {
			t.Fatalf("%v: idle entry kept", k)
		}
	}
	for k := range f.routes {
		if route := st.Routes; !slices.ContainsFunc(route, func(rs RouteState) bool { return rs.Source == k[0] && rs.Group == k[1] }) {
			t.Fatalf("%v: Route %+v without an entry", k, f.routes[k])
		}
	}
	if len(sources) != len(f.watched) {
		t.Fatalf("watched %v, entries' sources %v", f.watched, sources)
	}
	for s := range sources {
		if !f.watched[s] {
			t.Fatalf("source %v not watched", s)
		}
	}
}

func FuzzRouter(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{2, 0, 0, 6, 1, 1, 1, 1, 4, 0, 0, 0, 2, 0, 1, 0, 8, 0, 1, 1, 0, 2, 1, 1})
	f.Add([]byte{7, 0, 0, 0, 1, 8, 0, 1, 0, 2, 1, 1, 3, 0, 1, 5, 1, 1, 1, 1, 1, 0, 255, 1, 0, 255})
	f.Add([]byte{2, 1, 0, 6, 1, 1, 1, 1, 2, 1, 1, 6, 1, 1, 1, 1, 4, 1, 1, 0, 2, 0, 1, 0, 7, 4, 0, 0, 4, 1, 1, 2, 0, 0, 0, 1, 0, 1, 1, 1})
	f.Fuzz(runFuzzOnce)
}

func runFuzzOnce(t *testing.T, data []byte) {
	{
		cfg := testConfig(func() uint32 { return uint32(len(data)) * 0x9e3779b9 })
		cfg.MaxRoutes, cfg.MaxNeighbors = fuzzMaxRoutes, fuzzMaxNeighbors
		r, err := New(new(timerq.IDs), cfg)
		if err != nil {
			t.Fatal(err)
		}
		fz := &fuzzer{t: t, data: data, r: r, now: tR, ifUp: map[int]bool{},
			watched: map[netip.Addr]bool{}, routes: map[[2]netip.Addr]Route{}}
		for _, i := range []int{ifD, ifU} {
			acts, err := r.AddInterface(tR, i, "x", fuzzSelf[i], nil, DefaultIfConfig())
			if err != nil {
				t.Fatal(err)
			}
			fz.ifUp[i] = true
			fz.check(acts, false)
		}
		for steps := 0; len(fz.data) > 0 && steps < 500; steps++ {
			fz.step()
		}
		fz.check(r.Shutdown(fz.now), false)
	}
}
