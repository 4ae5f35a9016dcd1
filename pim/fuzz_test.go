package pim

import (
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The fuzz universe is small so that messages collide: two interfaces
// (ifD, ifU, plus ifX that comes and goes), three neighbors per interface,
// three sources, two SSM groups and two ASM groups, one with a remote RP
// and one whose RP may be us; at most 2 neighbors per interface and 6
// routes.
var (
	fuzzIfs      = []int{ifD, ifU, ifX}
	fuzzSelf     = map[int]netip.Addr{ifD: selfD, ifU: selfU, ifX: selfX}
	fuzzNbrs     = []netip.Addr{nbr1, nbr2, nbr3}
	fuzzSecs     = []netip.Addr{addr("2001:db8:9::1"), addr("2001:db8:9::2")}
	fuzzSources  = []netip.Addr{s1, s2, addr("2001:db8::3")}
	asmG2        = addr("ff05::2")
	fuzzEmbG     = addr("ff7e:0140:2001:db8:ff::1234") // embedded RP 2001:db8:ff::1, the remote RP
	fuzzSiteG    = addr("ff15::1")                     // in the scope zone ff15::/16 (zones.go)
	fuzzGroups   = []netip.Addr{g1, g2, asmG, asmG2, fuzzEmbG, fuzzSiteG}
	fuzzBSRs     = []netip.Addr{addr("2001:db8:b5::1"), addr("2001:db8:b5::2"), fuzzRPLocal}
	fuzzRPRemote = addr("2001:db8:ff::1")
	fuzzRPLocal  = addr("2001:db8:ff::99")
	fuzzRPs      = []netip.Addr{fuzzRPRemote, fuzzRPLocal}
	fuzzIIFs     = []int{ifD, ifU, ifX, RegisterIf, 9}
	// The Anycast-RP set of some variants: the shared address is the RP
	// that may be us, our unique address always ours.
	fuzzAnycastSelf = addr("2001:db8:ff::5")
	fuzzAnycastPeer = addr("2001:db8:aa::2")
	fuzzRegSources  = []netip.Addr{addr("2001:db8:77::1"), fuzzAnycastPeer}
)

const (
	fuzzMaxRoutes    = 6
	fuzzMaxNeighbors = 2
)

// fuzzConfig is the fuzz router's configuration: ff0e::/16 to the remote
// RP, ff05::/16 to the RP that may be us, small timers.
func fuzzConfig(rnd func() uint32, variant byte) Config {
	cfg := testConfig(rnd)
	cfg.MaxRoutes, cfg.MaxNeighbors = fuzzMaxRoutes, fuzzMaxNeighbors
	cfg.RPs = []StaticRP{
		{Addr: fuzzRPRemote, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}},
		{Addr: fuzzRPLocal, Groups: []netip.Prefix{netip.MustParsePrefix("ff05::/16")}},
	}
	switch variant % 5 {
	case 1:
		cfg.SPT = SPTPolicy{Never: true}
	case 2:
		cfg.SPT = SPTPolicy{Rate: 1000}
	case 3:
		cfg.RPs[0].Addr, cfg.RPs[1].Addr = fuzzRPLocal, fuzzRPRemote // swapped
	case 4:
		cfg.RPs = cfg.RPs[:1]
		cfg.SSMRange = append(cfg.SSMRange, netip.MustParsePrefix("ff05::/16"))
	}
	if variant&8 != 0 {
		cfg.KeepalivePeriod, cfg.ActivityInterval = 10*time.Second, 2*time.Second
		cfg.RegisterSuppressionTime, cfg.RegisterProbeTime = 6*time.Second, 2*time.Second
		cfg.AssertTime = 8 * time.Second
	}
	if variant&16 != 0 {
		cfg.MaxRegisterRate = 2
	}
	cfg.BootstrapPeriod, cfg.MaxRPSet, cfg.MaxEmbeddedRPGroups = 2*time.Second, 4, 1
	if variant&32 != 0 {
		cfg.CandidateBSR = &CandidateBSR{Addr: fuzzRPLocal, Priority: variant & 3, HashMaskLen: 126}
	}
	if variant&64 != 0 {
		cfg.CandidateRP = &CandidateRP{Addr: fuzzRPLocal, Priority: 1, Holdtime: 5 * time.Second, Interval: 2 * time.Second}
	}
	// An Anycast-RP set whose shared address is the RP that may be us,
	// in a third of the variants (the other bits are taken).
	if variant%3 == 2 {
		cfg.AnycastRP = &AnycastRP{Addr: fuzzRPLocal, Members: []netip.Addr{fuzzAnycastPeer, fuzzAnycastSelf}}
	}
	// Administrative scope zones: at most two known; with variant&128 the
	// router is in ff15::/16, whose border is eth4 (ifX), a candidate of
	// it with variant&32, and a Candidate-RP splits its ranges.
	cfg.MaxBSRZones = 2
	if variant&128 != 0 {
		z := BSRZone{Range: netip.MustParsePrefix("ff15::/16"), Border: []string{fuzzIfName(ifX)}}
		if variant&32 != 0 {
			z.CandidateBSR = &CandidateBSR{Addr: fuzzRPLocal, Priority: variant & 3, HashMaskLen: 126}
		}
		cfg.BSRZones = []BSRZone{z}
		if cfg.CandidateRP != nil {
			cfg.CandidateRP.Groups = []netip.Prefix{netip.MustParsePrefix("ff0e::/16"), netip.MustParsePrefix("ff15::/16")}
		}
	}
	return cfg
}

// fuzzIfName is the name of a fuzz interface: eth and its index.
func fuzzIfName(i int) string { return fmt.Sprintf("eth%d", i) }

// fuzzZoneRanges are the first ranges of the fuzz BSMs with the Z bit:
// the configured zone, two others (one too many), and a range that is no
// admin scope range.
var fuzzZoneRanges = []netip.Prefix{
	netip.MustParsePrefix("ff15::/16"), netip.MustParsePrefix("ff18::/16"),
	netip.MustParsePrefix("ff14::/16"), netip.MustParsePrefix("ff0e::/16"),
}

type fuzzer struct {
	t        *testing.T
	data     []byte
	r        *Router
	rand     func() uint32
	now      time.Time
	ifUp     map[int]bool
	watched  map[netip.Addr]bool
	routes   map[[2]netip.Addr]Route // last Route per (S,G), deletes removed
	counting map[[2]netip.Addr]bool  // WatchActivity in force
	counters map[[2]netip.Addr][2]uint64
	// self is each interface's primary address; heard whether every
	// neighbor there has had a Hello from it since it became ours or
	// the neighbor appeared or restarted (4.3.1: before any Join/Prune
	// or Assert).
	self  map[int]netip.Addr
	heard map[int]bool
	// relayed: the step delivered a Register, which an Anycast-RP member
	// sends on to the other members (checked in dataStep, not by the
	// DR's machine).
	relayed bool
}

// setSelf records the primary address an interface now has.
func (f *fuzzer) setSelf(i int, a netip.Addr) {
	if f.self[i] != a {
		f.self[i], f.heard[i] = a, false
	}
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
		if flags&4 != 0 { // a (*,G) entry naming an RP
			rp := pimmsg.Source{Addr: fuzzRPs[f.pick(len(fuzzRPs))], MaskLen: 128, Sparse: true, WildCard: true, RPT: true}
			if flags&8 != 0 {
				g.Joins = append([]pimmsg.Source{rp}, g.Joins...)
			} else {
				g.Prunes = append([]pimmsg.Source{rp}, g.Prunes...)
			}
		}
		jp.Groups = append(jp.Groups, g)
	}
	return jp
}

func (f *fuzzer) receive(ifindex int, from netip.Addr, m pimmsg.Message) []Action {
	return f.receiveTo(ifindex, from, AllPIMRouters, m)
}

func (f *fuzzer) receiveTo(ifindex int, from, to netip.Addr, m pimmsg.Message) []Action {
	b, err := pimmsg.Marshal(m, from, to)
	if err != nil {
		f.t.Fatalf("marshal: %v", err)
	}
	return f.r.Receive(f.now, ifindex, from, to, b)
}

func (f *fuzzer) sg() (netip.Addr, netip.Addr) {
	return fuzzSources[f.pick(len(fuzzSources))], fuzzGroups[f.pick(len(fuzzGroups))]
}

// dataStep is one of the data-plane inputs, or a unicast message.
func (f *fuzzer) dataStep() (acts []Action, registers bool) {
	src, grp := f.sg()
	switch f.pick(10) {
	case 8:
		bs := &pimmsg.Bootstrap{FragmentTag: uint16(f.pick(3)), HashMaskLen: uint8(f.pick(129)), Priority: uint8(f.pick(3)),
			BSR: fuzzBSRs[f.pick(len(fuzzBSRs))], NoForward: f.byte()&7 == 0}
		for range f.pick(3) {
			g := pimmsg.BootstrapGroup{Group: pimmsg.Group{Addr: addr("ff00::"), MaskLen: 8}}
			switch f.byte() & 3 {
			case 1:
				g.Group = pimmsg.Group{Addr: addr("ff0e::"), MaskLen: 16}
			case 2:
				g.Group = pimmsg.Group{Addr: addr("ff15::"), MaskLen: 16}
			}
			for range f.pick(3) {
				g.RPs = append(g.RPs, pimmsg.BootstrapRP{Addr: fuzzRPs[f.pick(len(fuzzRPs))], Holdtime: uint16(f.pick(4)) * 2, Priority: uint8(f.pick(2))})
			}
			g.RPCount = uint8(len(g.RPs) + f.pick(2))
			bs.Groups = append(bs.Groups, g)
		}
		if b := f.byte(); b&1 != 0 {
			// A BSM of a scope zone: its first range names it (Z bit).
			p := fuzzZoneRanges[int(b>>1)%len(fuzzZoneRanges)]
			z := pimmsg.BootstrapGroup{Group: pimmsg.Group{Addr: p.Addr(), MaskLen: uint8(p.Bits()), AdminScope: true}}
			if b&0x80 != 0 {
				z.RPs = []pimmsg.BootstrapRP{{Addr: fuzzRPs[f.pick(len(fuzzRPs))], Holdtime: uint16(f.pick(4)) * 2}}
				z.RPCount = 1
			}
			bs.Groups = append([]pimmsg.BootstrapGroup{z}, bs.Groups...)
		}
		i := f.iface()
		to := AllPIMRouters
		if f.byte()&3 == 0 {
			to = fuzzSelf[i]
		}
		// A BSM that skips the RPF check after BS_Period from start-up
		// (tR) is no start-up refresh (RFC 5059 3.1.3): it changes
		// nothing and goes nowhere.
		late := (to != AllPIMRouters || bs.NoForward) && f.now.Sub(tR) >= f.r.cfg.BootstrapPeriod
		before, beforeZones := f.r.BSR(f.now), f.r.BSRZones(f.now)
		acts := f.receiveTo(i, fuzzNbrs[f.pick(len(fuzzNbrs))], to, bs)
		if after, afterZones := f.r.BSR(f.now), f.r.BSRZones(f.now); late && (before.BSR != after.BSR || before.State != after.State ||
			!slices.Equal(before.RPSet, after.RPSet) || !sameZones(beforeZones, afterZones) || len(acts) != 0) {
			f.t.Fatalf("a late refresh BSM changed the BSR state or acted:\n%+v\n%+v\n%+v\n%+v\n%v", before, after, beforeZones, afterZones, acts)
		}
		return acts, false
	case 9:
		adv := &pimmsg.CandidateRPAdvertisement{RP: fuzzRPs[f.pick(len(fuzzRPs))], Priority: uint8(f.pick(2)), Holdtime: uint16(f.pick(4)) * 2}
		b := f.byte()
		if b&1 != 0 {
			adv.Groups = []pimmsg.Group{{Addr: addr("ff0e::"), MaskLen: 16}}
		}
		if b&2 != 0 {
			adv.Groups = append(adv.Groups, pimmsg.Group{Addr: addr("ff15::"), MaskLen: 16})
		}
		return f.receiveTo(fuzzIIFs[f.pick(len(fuzzIIFs))], addr("2001:db8:77::1"), fuzzRPLocal, adv), false
	case 0, 1:
		return f.r.NoCache(f.now, fuzzIIFs[f.pick(len(fuzzIIFs))], src, grp), false
	case 2:
		return f.r.WrongIIF(f.now, fuzzIIFs[f.pick(len(fuzzIIFs))], src, grp), false
	case 3:
		pkt := dataPacket(src, grp)
		if f.byte()&7 == 0 {
			pkt = pkt[:44] // shorter than its header says
		}
		return f.r.WholePacket(f.now, src, grp, pkt), true
	case 4:
		k := [2]netip.Addr{src, grp}
		c := f.counters[k]
		if b := f.byte(); b&3 != 0 {
			c[0] += uint64(b)
			c[1] += uint64(b) * uint64(f.byte()) * 8
		} else if b&4 != 0 {
			c = [2]uint64{} // reinstalled
		}
		f.counters[k] = c
		return f.r.DataActivity(f.now, src, grp, c[0], c[1]), false
	case 5:
		reg := &pimmsg.Register{Null: f.byte()&1 != 0, Packet: dataPacket(src, grp)}
		if reg.Null {
			reg.Packet = nullRegisterHeader(sgKey{keyOf(grp), keyOf(src)})
		}
		to := append(fuzzRPs, fuzzAnycastSelf)[f.pick(len(fuzzRPs)+1)]
		from := fuzzRegSources[f.pick(len(fuzzRegSources))]
		acts := f.receiveTo(fuzzIIFs[f.pick(len(fuzzIIFs))], from, to, reg)
		f.relayed = true
		for _, a := range acts {
			s, ok := a.(SendPIM)
			if !ok {
				continue
			}
			// Anycast-RP (RFC 4610): a member's Register is never sent on;
			// a DR's goes to the members only, from our unique address.
			if _, isReg := s.Msg.(*pimmsg.Register); isReg && (from == fuzzAnycastPeer || s.Dst != fuzzAnycastPeer || s.Src != fuzzAnycastSelf) {
				f.t.Fatalf("Register from %v to %v sent %v -> %v", from, to, s.Src, s.Dst)
			}
		}
		return acts, false
	case 6:
		rs := &pimmsg.RegisterStop{Group: pimmsg.Group{Addr: grp, MaskLen: 128}, Source: src}
		if f.byte()&1 != 0 {
			rs.Source = netip.IPv6Unspecified()
		}
		return f.receiveTo(ifU, fuzzRPs[f.pick(len(fuzzRPs))], addr("2001:db8:ff::5"), rs), false
	default:
		a := &pimmsg.Assert{Group: pimmsg.Group{Addr: grp, MaskLen: 128}, Source: src,
			MetricPreference: uint32(f.pick(3)), Metric: uint32(f.pick(3)) * 10}
		switch b := f.byte(); {
		case b&1 != 0:
			a.RPT = true
			if b&2 != 0 {
				a.Source = netip.IPv6Unspecified()
			}
		case b&4 != 0:
			a.RPT, a.MetricPreference, a.Metric = true, infPref, infMetric // AssertCancel
		case b&8 != 0:
			a.MetricPreference, a.Metric = infPref, infMetric // FRR's AssertCancel(S,G): RPT bit clear
		}
		i := f.iface()
		return f.receive(i, fuzzNbrs[f.pick(len(fuzzNbrs))], a), false
	}
}

func (f *fuzzer) step() {
	var acts []Action
	expired, registers := false, false
	switch op := f.pick(15); op {
	case 11, 12:
		acts, registers = f.dataStep()
	case 13:
		var addrs []netip.Addr
		if f.byte()&1 != 0 {
			addrs = append(addrs, fuzzRPLocal)
		}
		acts = f.r.SetLocalAddresses(f.now, append(addrs, addr("2001:db8:ff::5")))
	case 14:
		var err error
		if acts, err = f.r.SetConfig(f.now, fuzzConfig(f.rand, f.byte())); err != nil {
			f.t.Fatal(err)
		}
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
			rpf.Preference, rpf.Metric = uint32(f.pick(3)), uint32(f.pick(3))*10
			target := fuzzSources[f.pick(len(fuzzSources))]
			switch f.byte() & 7 {
			case 0, 1:
				target = fuzzRPs[f.pick(len(fuzzRPs))]
			case 2:
				target = fuzzBSRs[f.pick(len(fuzzBSRs))]
			}
			us = append(us, RPFUpdate{target, rpf})
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
			if acts, err = f.r.AddInterface(f.now, i, fuzzIfName(i), self, fuzzSecs[:f.pick(2)], DefaultIfConfig()); err != nil {
				f.t.Fatal(err)
			}
			f.ifUp[i] = true
			delete(f.self, i) // a new Generation ID: no Hello yet
			f.setSelf(i, self)
		} else {
			acts = f.r.SetAddresses(f.now, i, fuzzSelf[i], fuzzSecs[:f.pick(3)])
		}
	}
	acts = f.answer(acts)
	if fuzzTrace != nil {
		fuzzTrace(f.now, acts)
	}
	if fuzzDump != nil {
		fuzzDump(f.r, f.now)
	}
	f.check(acts, expired, registers)
	f.relayed = false
}

// fuzzRIB is how the fuzz daemon answers WatchRPF at once: S1 and the
// remote RP through nbr3 on ifU, S2 on ifD's link, the third source
// through nbr1 on ifD, the local RP nowhere; the first BSR through nbr3
// on ifU (so that its multicast BSMs can pass the RPF check), the others
// nowhere. SetRPFs steps change routes later.
var fuzzRIB = map[netip.Addr]RPF{
	s1:                  {Valid: true, IfIndex: ifU, NextHop: nbr3, Preference: 1, Metric: 10},
	s2:                  {Valid: true, IfIndex: ifD},
	addr("2001:db8::3"): {Valid: true, IfIndex: ifD, NextHop: nbr1, Preference: 1, Metric: 20},
	fuzzRPRemote:        {Valid: true, IfIndex: ifU, NextHop: nbr3, Preference: 1, Metric: 5},
	fuzzBSRs[0]:         {Valid: true, IfIndex: ifU, NextHop: nbr3, Preference: 1, Metric: 5},
}

// answer answers the WatchRPFs of acts, as the daemon does.
func (f *fuzzer) answer(acts []Action) []Action {
	var us []RPFUpdate
	for _, a := range acts {
		if w, ok := a.(WatchRPF); ok {
			us = append(us, RPFUpdate{w.Addr, fuzzRIB[w.Addr]})
		}
	}
	if us == nil {
		return acts
	}
	return append(acts, f.answer(f.r.SetRPFs(f.now, us))...)
}

// fuzzTrace, when set, sees every step's actions (for debugging a failing
// input).
var fuzzTrace func(time.Time, []Action)

// fuzzDump, when set, shows the entries before each check.
var fuzzDump func(*Router, time.Time)

// check verifies the actions of one step and the state after it.
func (f *fuzzer) check(acts []Action, expired, registers bool) {
	t := f.t
	for _, a := range acts {
		switch a := a.(type) {
		case Route:
			if slices.Contains(a.OIFs, a.IIF) || !slices.IsSorted(a.OIFs) || len(slices.Compact(slices.Clone(a.OIFs))) != len(a.OIFs) {
				t.Fatalf("bad Route %+v", a)
			}
			if a.IIF == 0 && len(a.OIFs) != 0 {
				t.Fatalf("non-canonical Route %+v", a)
			}
			if slices.Contains(a.OIFs, RegisterIf) && a.IIF <= 0 {
				t.Fatalf("register MIF out of an entry from %d: %+v", a.IIF, a)
			}
			if f.r.cfg.isSSM(a.Group) && (a.IIF != 0 && len(a.OIFs) == 0 || slices.Contains(a.OIFs, RegisterIf) || a.IIF == RegisterIf) {
				t.Fatalf("SSM Route %+v", a)
			}
			k := [2]netip.Addr{a.Source, a.Group}
			if a.Delete() {
				delete(f.routes, k)
			} else {
				f.routes[k] = a
			}
		case WatchActivity:
			k := [2]netip.Addr{a.Source, a.Group}
			if f.counting[k] {
				t.Fatalf("WatchActivity %v twice", k)
			}
			f.counting[k] = true
		case UnwatchActivity:
			k := [2]netip.Addr{a.Source, a.Group}
			if !f.counting[k] {
				t.Fatalf("UnwatchActivity %v not watched", k)
			}
			delete(f.counting, k)
			delete(f.counters, k)
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
		case NeighborChange:
			if a.Up && (a.Reason == NeighborNew || a.Reason == NeighborRestarted) {
				f.heard[a.IfIndex] = false
			}
		case SendPIM:
			if _, err := pimmsg.Marshal(a.Msg, a.Src, a.Dst); err != nil {
				t.Fatalf("unmarshallable %v: %v", a.Msg.Type(), err)
			}
			switch m := a.Msg.(type) {
			case *pimmsg.Hello:
				if a.Src == f.self[a.IfIndex] && (m.Holdtime == nil || *m.Holdtime != 0) {
					f.heard[a.IfIndex] = true
				}
			case *pimmsg.JoinPrune, *pimmsg.Assert:
				if !f.heard[a.IfIndex] {
					t.Fatalf("%v on %d before a Hello from %v", a.Msg.Type(), a.IfIndex, f.self[a.IfIndex])
				}
			}
			if jp, ok := a.Msg.(*pimmsg.JoinPrune); ok && pimmsg.Len(jp) > 1500-ipv6HeaderLen {
				t.Fatalf("Join/Prune of %d octets", pimmsg.Len(jp))
			}
			f.checkZoneSend(a)
			if (a.IfIndex == 0) != (a.Dst != AllPIMRouters && !isLinkLocal6(a.Dst)) {
				t.Fatalf("%v to %v on %d", a.Msg.Type(), a.Dst, a.IfIndex)
			}
			if reg, ok := a.Msg.(*pimmsg.Register); ok && !f.relayed {
				s, g := innerAddrs(reg.Packet)
				rs := route(f.r, f.now, s, g)
				switch {
				case (rs == nil || rs.Register == RegisterNoInfo) && reg.Null && expired:
					// A late Expire: the Register-Stop Timer fired,
					// then the Keepalive Timer, in one batch (the
					// entry gone, or kept by other state).
				case rs == nil:
					t.Fatalf("Register for %v,%v without an entry", s, g)
				case !reg.Null && (!registers || rs.Register != RegisterJoin):
					t.Fatalf("data Register for %v,%v in %v", s, g, rs.Register)
				case reg.Null && rs.Register != RegisterJoinPending:
					t.Fatalf("Null-Register for %v,%v in %v", s, g, rs.Register)
				}
			}
		}
	}
	if expired {
		if d, ok := f.r.NextDeadline(); ok && !d.After(f.now) {
			t.Fatalf("deadline %v not after now %v after Expire", d, f.now)
		}
	}
	// The engine's own records of what it watches agree with the actions
	// it emitted: the daemon relies on them (WatchedRPF, WatchedActivity).
	if got := f.r.WatchedRPF(); len(got) != len(f.watched) || !slices.IsSortedFunc(got, netip.Addr.Compare) {
		t.Fatalf("WatchedRPF %v, actions say %v", got, f.watched)
	} else {
		for _, a := range got {
			if !f.watched[a] {
				t.Fatalf("WatchedRPF has %v, never watched", a)
			}
		}
	}
	if got := f.r.WatchedActivity(); len(got) != len(f.counting) || f.r.WatchingActivity() != (len(f.counting) > 0) {
		t.Fatalf("WatchedActivity %v, actions say %v", got, f.counting)
	} else {
		for _, w := range got {
			if !f.counting[[2]netip.Addr{w.Source, w.Group}] {
				t.Fatalf("WatchedActivity has %v, never watched", w)
			}
		}
	}
	st := f.r.Snapshot(f.now)
	f.checkBorderState(st)
	if n := len(st.Routes) + len(st.StarG); n > fuzzMaxRoutes {
		t.Fatalf("%d entries", n)
	}
	for _, is := range st.Interfaces {
		if len(is.Neighbors) > fuzzMaxNeighbors {
			t.Fatalf("%d neighbors on %d", len(is.Neighbors), is.IfIndex)
		}
		if f.r.Stats(is.IfIndex).Dropped[DropSendError] != 0 {
			t.Fatal("send error")
		}
	}
	watched := map[netip.Addr]bool{}
	joined := map[netip.Addr]bool{}
	for _, sg := range st.StarG {
		if sg.RP.IsValid() {
			watched[sg.RP] = true
		}
		joined[sg.Group] = sg.Upstream == Joined
		checkDownstream(t, sg.Group.String(), sg.Downstream)
		checkAsserts(t, sg.Group.String(), sg.Asserts)
		// The machine waits while the route to a new RP is unknown.
		settled := sg.RPFKnown || sg.IAmRP || !sg.RP.IsValid()
		if (sg.Upstream == Joined) != sg.JoinDesired && settled {
			t.Fatalf("(*,%v): %v with JoinDesired %v", sg.Group, sg.Upstream, sg.JoinDesired)
		}
		if (sg.Upstream == Joined && sg.RPFNeighbor.IsValid()) != (sg.JoinTimer != 0) && settled {
			t.Fatalf("(*,%v): %v toward %v with Join Timer %d", sg.Group, sg.Upstream, sg.RPFNeighbor, sg.JoinTimer)
		}
		if len(sg.Downstream) == 0 && len(sg.LocalReceivers) == 0 && sg.Upstream == NotJoined && len(sg.Asserts) == 0 {
			t.Fatalf("(*,%v): idle entry kept", sg.Group)
		}
	}
	for _, rs := range st.Routes {
		k := [2]netip.Addr{rs.Source, rs.Group}
		watched[rs.Source] = true
		if rs.RP.IsValid() {
			watched[rs.RP] = true
		}
		last, ok := f.routes[k]
		if rs.IIF != last.IIF || !slices.Equal(rs.OIFs, last.OIFs) || !ok && rs.IIF != 0 {
			t.Fatalf("%v: state iif %d oifs %v, last Route %+v", k, rs.IIF, rs.OIFs, last)
		}
		if want := !rs.SSM && rs.IIF != 0; f.counting[k] != want {
			t.Fatalf("%v: counted %v, installed non-SSM %v", k, f.counting[k], want)
		}
		checkDownstream(t, fmt.Sprint(k), rs.Downstream)
		checkAsserts(t, fmt.Sprint(k), rs.Asserts)
		for _, d := range rs.RPTDownstream {
			switch {
			case d.State != RPTPrune && d.State != RPTPrunePending:
				t.Fatalf("%v rpt on %d: state %v after an event", k, d.IfIndex, d.State)
			case (d.State == RPTPrunePending) != (d.PrunePendingTimer != 0):
				t.Fatalf("%v rpt on %d: %v with PPT %d", k, d.IfIndex, d.State, d.PrunePendingTimer)
			case d.Forever == (d.ExpiryTimer != 0):
				t.Fatalf("%v rpt on %d: forever %v with ET %d", k, d.IfIndex, d.Forever, d.ExpiryTimer)
			}
		}
		if (rs.Upstream == Joined) != rs.JoinDesired {
			t.Fatalf("%v: %v with JoinDesired %v", k, rs.Upstream, rs.JoinDesired)
		}
		// SPTbit(S,G) is set while JoinDesired(S,G) (Update_SPTbit) or
		// Joined (the Assert's A6), and cleared on leaving Joined (4.5.5).
		if !rs.SSM && rs.SPTBit && rs.Upstream != Joined {
			t.Fatalf("%v: SPT bit while %v", k, rs.Upstream)
		}
		if (rs.Upstream == Joined && rs.RPFNeighbor.IsValid()) != (rs.JoinTimer != 0) {
			t.Fatalf("%v: %v toward %v with Join Timer %d", k, rs.Upstream, rs.RPFNeighbor, rs.JoinTimer)
		}
		if rs.RPFNeighbor.IsValid() && rs.RPFNeighborIf != rs.RPF.IfIndex {
			t.Fatalf("%v: RPF' on %d, route on %d", k, rs.RPFNeighborIf, rs.RPF.IfIndex)
		}
		if rs.SSM && (rs.KeepaliveTimer != 0 || rs.Register != RegisterNoInfo || rs.HasRPTState || rs.Cache) {
			t.Fatalf("%v: SSM entry with ASM state %+v", k, rs)
		}
		if rs.RPT != RPTNotJoined && !joined[rs.Group] {
			t.Fatalf("%v: (S,G,rpt) %v without a joined (*,G)", k, rs.RPT)
		}
		if (rs.Register == RegisterJoin && rs.IIF > 0) != slices.Contains(rs.OIFs, RegisterIf) {
			t.Fatalf("%v: Register %v, OIFs %v", k, rs.Register, rs.OIFs)
		}
		if (rs.Register == RegisterPrune || rs.Register == RegisterJoinPending) != (rs.RegisterStopTimer != 0) {
			t.Fatalf("%v: Register %v with RST %d", k, rs.Register, rs.RegisterStopTimer)
		}
		f.checkLost(&rs, st)
		if len(rs.Downstream) == 0 && len(rs.LocalReceivers) == 0 && rs.Upstream == NotJoined && rs.IIF == 0 &&
			len(rs.RPTDownstream) == 0 && len(rs.ExcludedOn) == 0 && rs.OverrideTimer == 0 && rs.KeepaliveTimer == 0 &&
			rs.Register == RegisterNoInfo && !rs.Cache && len(rs.Asserts) == 0 {
			t.Fatalf("%v: idle entry kept", k)
		}
	}
	for k := range f.routes {
		if route := st.Routes; !slices.ContainsFunc(route, func(rs RouteState) bool { return rs.Source == k[0] && rs.Group == k[1] }) {
			t.Fatalf("%v: Route %+v without an entry", k, f.routes[k])
		}
	}
	nAsserts := 0
	for _, sg := range st.StarG {
		nAsserts += len(sg.Asserts)
	}
	for _, rs := range st.Routes {
		nAsserts += len(rs.Asserts)
	}
	if nAsserts != f.r.nAsserts {
		t.Fatalf("%d Assert machines, counted %d", nAsserts, f.r.nAsserts)
	}
	// Each zone's BSR address is watched too (the current BSR's, or one
	// whose BSM waits for its route), and only while it has such a use;
	// a source counts the zones that watch it.
	refs := map[addrKey]int{}
	for _, z := range f.r.zones {
		if z.src == nil {
			continue
		}
		refs[z.src.key]++
		watched[z.src.key.Addr()] = true
		b, has := z.zone.BSR()
		if len(z.held) == 0 && (!has || keyOf(b) != z.src.key || z.zone.State() == BSRElected) {
			t.Fatalf("zone %v: BSR watch on %v: held %d, BSR %v %v state %v", z.rng, z.src.key.Addr(), len(z.held), b, has, z.zone.State())
		}
	}
	for k, s := range f.r.sources {
		if s.bsrRefs != refs[k] {
			t.Fatalf("source %v watched by %d zones, counts %d", k.Addr(), refs[k], s.bsrRefs)
		}
	}
	if !maps.Equal(watched, f.watched) {
		t.Fatalf("watched %v, entries' sources, RPs and BSR %v", f.watched, watched)
	}
	// Each zone's RP-set pair count is right and bounded (package bsr's
	// own fuzz test checks its ranges).
	for _, z := range f.r.zones {
		if info := z.zone.Info(f.now); len(info.RPSet) != info.Pairs || info.Pairs > f.r.cfg.MaxRPSet {
			t.Fatalf("zone %v: RP-set: %d pairs, counted %d, limit %d", z.rng, len(info.RPSet), info.Pairs, f.r.cfg.MaxRPSet)
		}
	}
	f.checkZones()
	if n := len(f.r.BSR(f.now).Embedded); n != f.r.nEmbedded || n > f.r.cfg.MaxEmbeddedRPGroups {
		t.Fatalf("%d embedded groups, counted %d, limit %d", n, f.r.nEmbedded, f.r.cfg.MaxEmbeddedRPGroups)
	}
}

// checkLost: no outgoing interface is one where we lost the Assert that
// counts for the route (lost_assert(S,G,I) on an SPT route,
// lost_assert(*,G,I) or (S,G) on an RP-tree route).
func (f *fuzzer) checkLost(rs *RouteState, st State) {
	if rs.IIF == 0 {
		return
	}
	spt := rs.IIF == rs.RPF.IfIndex
	var star []AssertInfo
	for _, sg := range st.StarG {
		if sg.Group == rs.Group {
			star = sg.Asserts
		}
	}
	for _, o := range rs.OIFs {
		for _, a := range rs.Asserts {
			if a.IfIndex != o || a.State != AssertLoser {
				continue
			}
			ours := assertMetric{pref: infPref, metric: infMetric, addr: keyOf(fuzzSelf[o])}
			if rs.RPF.Valid {
				ours.pref, ours.metric = min(rs.RPF.Preference, infPref), rs.RPF.Metric
			}
			if w := (assertMetric{a.RPT, a.Preference, a.Metric, keyOf(a.Winner)}); !spt || w.better(ours) {
				f.t.Fatalf("%v,%v: forwards on %d where it lost %+v", rs.Source, rs.Group, o, a)
			}
		}
		for _, a := range star {
			if !spt && a.IfIndex == o && a.State == AssertLoser {
				f.t.Fatalf("%v,%v: RP tree forwards on %d where (*,G) lost %+v", rs.Source, rs.Group, o, a)
			}
		}
	}
}

func checkDownstream(t *testing.T, k string, ds []DownstreamState) {
	for _, d := range ds {
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
}

func checkAsserts(t *testing.T, k string, as []AssertInfo) {
	for _, a := range as {
		if a.State != AssertWinner && a.State != AssertLoser || a.Timer == 0 {
			t.Fatalf("%v: assert %+v", k, a)
		}
		// An AssertCancel is never acceptable nor preferred (4.6.1): no
		// winner we lost to has an infinite metric.
		if a.State == AssertLoser && a.Preference == infPref && a.Metric == infMetric {
			t.Fatalf("%v: lost to an infinite metric: %+v", k, a)
		}
	}
}

func FuzzRouter(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{2, 0, 0, 6, 1, 1, 1, 1, 4, 0, 0, 0, 2, 0, 1, 0, 8, 0, 1, 1, 0, 2, 1, 1})
	f.Add([]byte{7, 0, 0, 0, 1, 8, 0, 1, 0, 2, 1, 1, 3, 0, 1, 5, 1, 1, 1, 1, 1, 0, 255, 1, 0, 255})
	f.Add([]byte{2, 1, 0, 6, 1, 1, 1, 1, 2, 1, 1, 6, 1, 1, 1, 1, 4, 1, 1, 0, 2, 0, 1, 0, 7, 4, 0, 0, 4, 1, 1, 2, 0, 0, 0, 1, 0, 1, 1, 1})
	// ASM: a neighbor upstream, an EXCLUDE listener, data from a source.
	f.Add([]byte{0, 2, 1, 1, 6, 1, 1, 1, 1, 7, 0, 2, 1, 0, 8, 0, 1, 0, 1, 0, 11, 0, 0, 0, 2, 12, 4, 0, 2, 9, 9, 0, 1, 50})
	f.Add([]byte{8, 7, 0, 3, 1, 0, 11, 0, 0, 2, 3, 11, 5, 0, 3, 1, 1, 12, 3, 0, 3, 0, 11, 7, 0, 3, 1, 1, 2, 2, 0, 40})
	// A first-hop DR: S2 on ifD sends to the remote RP's group; Registers,
	// a Register-Stop, the Register-Stop Timer.
	f.Add([]byte{11, 1, 2, 0, 0, 12, 1, 2, 3, 1, 12, 1, 2, 3, 1, 11, 1, 2, 6, 0, 0, 0, 255, 12, 1, 2, 3, 1, 0, 255, 0, 40, 12, 1, 2, 3, 1})
	// The RP: a Register for ff05::2 (our RP), a (*,G) Join, another
	// Register, data on the SPT.
	f.Add([]byte{11, 0, 3, 5, 0, 1, 0, 4, 0, 0, 5, 0, 1, 3, 0, 11, 0, 3, 5, 0, 1, 0, 11, 0, 3, 2, 1, 0, 10, 11, 0, 3, 5, 1, 1, 0})
	// Found by the fuzzer: an Override Timer that was all that kept an
	// entry.
	f.Add([]byte("C1702b000100001C0710Y071Z0"))
	// Join(S1,G) on ifD, then FRR's AssertCancel(S1,G) (RPT bit clear)
	// from the RPF neighbor on ifU, where our metric is infinite: it must
	// not make us a loser.
	f.Add([]byte{4, 0, 0, 0, 2, 0, 2, 0, 1, 0, 11, 0, 2, 7, 0, 0, 8, 1, 2})
	// Scope zones (zones.go). In ff15::/16 with its border on eth4: a BSM
	// of the zone from the RPF neighbor, forwarded on eth2 only.
	f.Add([]byte{135, 4, 11, 0, 0, 8, 0, 126, 1, 0, 1, 1, 2, 1, 0, 3, 0, 0, 129, 0, 3, 1, 1, 2, 0, 8})
	// The same zone: eth4 comes up with a neighbor; the zone's BSM from
	// the RPF neighbor on eth3 is not forwarded there.
	f.Add([]byte{135, 4, 10, 2, 1, 0, 2, 2, 0, 3, 0, 0, 0, 0,
		11, 0, 0, 8, 0, 126, 1, 0, 1, 1, 2, 1, 0, 3, 0, 0, 129, 0, 3, 1, 1, 2, 0, 8})
	// The same zone: eth4 comes up with a neighbor, whose Join(S1,ff15::1)
	// and BSM of the zone are dropped at the border.
	f.Add([]byte{135, 4, 10, 2, 1, 0, 2, 2, 0, 3, 0, 0, 0, 0, 4, 2, 0, 0, 2, 0, 5, 0, 1, 0,
		11, 0, 0, 8, 0, 126, 1, 0, 1, 1, 2, 1, 0, 3, 0, 0, 129, 0, 3, 2, 1, 0})
	// No zone configured: BSMs of ff18::/16, ff14::/16 and ff15::/16
	// are learned, the third beyond MaxBSRZones; then time passes.
	f.Add([]byte{0, 4, 11, 0, 0, 8, 0, 126, 1, 0, 1, 1, 2, 1, 0, 3, 0, 0, 0x83, 0, 3, 1, 1, 2,
		11, 0, 0, 8, 1, 126, 1, 0, 1, 0, 0x85, 1, 1, 2,
		11, 0, 0, 8, 2, 126, 1, 0, 1, 0, 0x81, 1, 1, 2, 0, 200, 0, 200})
	// Candidate-BSR of the global zone and of ff15::/16, Candidate-RP of
	// ff0e::/16 and ff15::/16: elected in both; a C-RP-Adv with a range
	// of each is split between them.
	f.Add([]byte{225, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 11, 0, 0, 9, 0, 0, 3, 3, 0, 1, 1, 1, 1})
	f.Fuzz(runFuzzOnce)
}

func runFuzzOnce(t *testing.T, data []byte) {
	{
		rnd := func() uint32 { return uint32(len(data)) * 0x9e3779b9 }
		var variant byte
		if len(data) > 0 {
			variant = data[0]
		}
		r, err := New(new(timerq.IDs), fuzzConfig(rnd, variant))
		if err != nil {
			t.Fatal(err)
		}
		fz := &fuzzer{t: t, data: data, r: r, rand: rnd, now: tR, ifUp: map[int]bool{},
			watched: map[netip.Addr]bool{}, routes: map[[2]netip.Addr]Route{},
			counting: map[[2]netip.Addr]bool{}, counters: map[[2]netip.Addr][2]uint64{},
			self: map[int]netip.Addr{}, heard: map[int]bool{}}
		for _, i := range []int{ifD, ifU} {
			acts, err := r.AddInterface(tR, i, fuzzIfName(i), fuzzSelf[i], nil, DefaultIfConfig())
			if err != nil {
				t.Fatal(err)
			}
			fz.ifUp[i] = true
			fz.setSelf(i, fuzzSelf[i])
			fz.check(acts, false, false)
		}
		fz.check(r.SetLocalAddresses(tR, []netip.Addr{fuzzRPLocal, addr("2001:db8:ff::5")}), false, false)
		// Two neighbors that stay (Holdtime 0xffff): the fuzzer need
		// not find Hellos before the rest can happen.
		for _, n := range []struct {
			i    int
			from netip.Addr
		}{{ifD, nbr1}, {ifU, nbr3}} {
			fz.check(fz.receive(n.i, n.from, &pimmsg.Hello{Holdtime: u16(0xffff), GenerationID: u32(1)}), false, false)
		}
		for steps := 0; len(fz.data) > 0 && steps < 500; steps++ {
			fz.step()
		}
		fz.check(r.Shutdown(fz.now), false, false)
	}
}

// checkZones checks the BSR zones: the global one first, then the scope
// zones most specific first, each an admin scope range, at most
// MaxBSRZones; the configured ones are there with their border, the
// others are learned (no border) and still have something (pruneZones);
// RP(G) of every group with a BSR RP comes from its zone.
func (f *fuzzer) checkZones() {
	t, r := f.t, f.r
	if r.zones[0].rng.IsValid() {
		t.Fatalf("first zone %v, want the global zone", r.zones[0].rng)
	}
	sc := r.scoped()
	if len(sc) > max(r.cfg.MaxBSRZones, len(r.cfg.BSRZones)) {
		t.Fatalf("%d scope zones, limit %d", len(sc), r.cfg.MaxBSRZones)
	}
	for i, z := range sc {
		if !adminScopeRange(z.rng) || i > 0 && zoneOrder(sc[i-1], z) >= 0 {
			t.Fatalf("scope zones %v: %v bad or out of order", zoneRanges(sc), z.rng)
		}
		zc := r.cfg.bsrZone(z.rng)
		if z.configured != (zc != nil) || zc != nil && !slices.Equal(z.border, zc.Border) || zc == nil && len(z.border) > 0 {
			t.Fatalf("zone %v: configured %v border %v, config %+v", z.rng, z.configured, z.border, zc)
		}
		if _, _, timed := z.zone.Next(); !z.configured && len(z.held) == 0 && !timed &&
			(z.zone.State() == BSRNoInfo || z.zone.State() == BSRAcceptAny) {
			t.Fatalf("learned zone %v kept with nothing left", z.rng)
		}
	}
	for _, zc := range r.cfg.BSRZones {
		if r.findZone(zc.Range) == nil {
			t.Fatalf("configured zone %v missing", zc.Range)
		}
	}
	for k, g := range r.groups {
		ga := k.Addr()
		if rp, origin, ok := r.rpLookup(ga); ok && origin == OriginBSR {
			if want, _ := r.zoneOf(ga).zone.Lookup(ga); want != rp.Addr() {
				t.Fatalf("RP(%v) = %v, its zone %v says %v", ga, rp.Addr(), r.zoneOf(ga).rng, want)
			}
			if g.hasRP && g.rp != rp && !g.embedded {
				t.Fatalf("group %v keeps RP %v, RP(G) is %v", ga, g.rp.Addr(), rp.Addr())
			}
		}
	}
}

func zoneRanges(zs []*bsrZone) []netip.Prefix {
	out := make([]netip.Prefix, len(zs))
	for i, z := range zs {
		out[i] = z.rng
	}
	return out
}

// sameZones reports whether two views of the scope zones are the same
// (their times left aside).
func sameZones(a, b []BSRZoneInfo) bool {
	return slices.EqualFunc(a, b, func(x, y BSRZoneInfo) bool {
		return x.Range == y.Range && x.BSR == y.BSR && x.State == y.State && x.Configured == y.Configured &&
			slices.EqualFunc(x.RPSet, y.RPSet, func(p, q RPSetEntry) bool { return p.Prefix == q.Prefix && p.RP == q.RP && p.Priority == q.Priority })
	})
}

// checkZoneSend checks a message sent for the scope zones: a zone's BSM
// never on an interface at its border, and ours only with the zone's
// ranges; a Candidate-RP-Advertisement carries the ranges of one zone
// only (the zone's BSR hears those).
func (f *fuzzer) checkZoneSend(a SendPIM) {
	t, r := f.t, f.r
	switch m := a.Msg.(type) {
	case *pimmsg.Bootstrap:
		if len(m.Groups) == 0 || !m.Groups[0].Group.AdminScope {
			return
		}
		z := r.findZone(m.Groups[0].Group.Prefix())
		if z == nil {
			// A learned zone (no border) that went later in the event:
			// it sent its last BSM to a new neighbor, then its BSR timed
			// out with its RP-set.
			if r.cfg.bsrZone(m.Groups[0].Group.Prefix()) != nil {
				t.Fatalf("BSM of configured zone %v sent, the zone is gone", m.Groups[0].Group)
			}
			return
		}
		if ifc := r.ifaces[a.IfIndex]; ifc != nil && z.atBorder(ifc) {
			t.Fatalf("BSM of zone %v sent on %s, at its border", z.rng, ifc.name)
		}
		// Ours carries only the zone's ranges (one received is forwarded
		// as it came).
		for _, g := range m.Groups {
			if r.isCandidateBSR(keyOf(m.BSR)) && !within(g.Group.Prefix(), z.rng) {
				t.Fatalf("our BSM of zone %v carries %v", z.rng, g.Group)
			}
		}
	case *pimmsg.CandidateRPAdvertisement:
		var zone netip.Prefix
		for i, g := range m.Groups {
			z := netip.Prefix{}
			for _, zc := range r.cfg.BSRZones {
				if within(g.Prefix(), zc.Range) {
					z = zc.Range
				}
			}
			if i > 0 && z != zone {
				t.Fatalf("C-RP-Adv to %v mixes the ranges of zones %v and %v: %+v", a.Dst, zone, z, m.Groups)
			}
			zone = z
		}
	}
}

// checkBorderState: no Join/Prune state and no local receivers of a
// zone's group on an interface at the zone's border.
func (f *fuzzer) checkBorderState(st State) {
	t, r := f.t, f.r
	at := func(i int, g netip.Addr) bool {
		ifc := r.ifaces[i]
		return ifc != nil && r.scopeBorder(ifc, g)
	}
	for _, sg := range st.StarG {
		for _, d := range sg.Downstream {
			if at(d.IfIndex, sg.Group) {
				t.Fatalf("(*,%v) Join state at the border %d", sg.Group, d.IfIndex)
			}
		}
	}
	for _, rs := range st.Routes {
		for _, d := range rs.Downstream {
			if at(d.IfIndex, rs.Group) {
				t.Fatalf("(%v,%v) Join state at the border %d", rs.Source, rs.Group, d.IfIndex)
			}
		}
		for _, i := range rs.LocalReceivers {
			if at(i, rs.Group) {
				t.Fatalf("(%v,%v) local receivers at the border %d", rs.Source, rs.Group, i)
			}
		}
	}
}
