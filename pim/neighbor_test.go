package pim

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// TestNeighborLiveness walks the Neighbor Liveness Timer (4.3.1): expiry
// exactly at the Holdtime, refresh, Holdtime 0, 0xffff, the default.
func TestNeighborLiveness(t *testing.T) {
	type step struct {
		at   float64
		mods []func(*pimmsg.Hello) // a Hello from nbr1 when non-nil
		acts []string              // what the step emits (Hellos of ours filtered out)
		nbrs map[string]float64    // neighbors and time left after the step (-1: forever)
	}
	none := map[string]float64{}
	hello105 := []func(*pimmsg.Hello){}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"expires exactly at the holdtime", []step{
			{at: 0, mods: hello105, acts: []string{"nbr(2) fe80::1 up new"}, nbrs: map[string]float64{"fe80::1": 105}},
			{at: 104.999, nbrs: map[string]float64{"fe80::1": 0.001}},
			{at: 105, acts: []string{"nbr(2) fe80::1 down expired"}, nbrs: none},
		}},
		{"refresh pushes expiry", []step{
			{at: 0, mods: hello105, acts: []string{"nbr(2) fe80::1 up new"}},
			{at: 50, mods: hello105, nbrs: map[string]float64{"fe80::1": 105}},
			{at: 105, nbrs: map[string]float64{"fe80::1": 50}},
			{at: 155, acts: []string{"nbr(2) fe80::1 down expired"}, nbrs: none},
		}},
		{"shorter holdtime takes effect", []step{
			{at: 0, mods: hello105, acts: []string{"nbr(2) fe80::1 up new"}},
			{at: 10, mods: []func(*pimmsg.Hello){withHoldtime(20)}, nbrs: map[string]float64{"fe80::1": 20}},
			{at: 30, acts: []string{"nbr(2) fe80::1 down expired"}, nbrs: none},
		}},
		{"holdtime 0 removes at once", []step{
			{at: 0, mods: hello105, acts: []string{"nbr(2) fe80::1 up new"}},
			{at: 10, mods: []func(*pimmsg.Hello){withHoldtime(0)}, acts: []string{"nbr(2) fe80::1 down goodbye"}, nbrs: none},
		}},
		{"holdtime 0 from a stranger", []step{
			{at: 0, mods: []func(*pimmsg.Hello){withHoldtime(0)}, nbrs: none},
		}},
		{"0xffff never expires", []step{
			{at: 0, mods: []func(*pimmsg.Hello){withHoldtime(0xffff)}, acts: []string{"nbr(2) fe80::1 up new"}, nbrs: map[string]float64{"fe80::1": -1}},
			{at: 1e6, nbrs: map[string]float64{"fe80::1": -1}},
			{at: 1e6 + 1, mods: hello105, nbrs: map[string]float64{"fe80::1": 105}},
		}},
		{"no holdtime option: 105 s", []step{
			{at: 0, mods: []func(*pimmsg.Hello){noHoldtime}, acts: []string{"nbr(2) fe80::1 up new"}, nbrs: map[string]float64{"fe80::1": 105}},
			{at: 105, acts: []string{"nbr(2) fe80::1 down expired"}, nbrs: none},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t)
			for _, s := range tc.steps {
				var acts []Action
				if s.mods != nil {
					acts = hello(t, r, at(s.at), ifD, nbr1, s.mods...)
				}
				acts = append(acts, r.Expire(at(s.at))...)
				diff(t, "actions", s.acts, only(render(acts), "nbr"))
				if s.nbrs != nil {
					diff(t, "neighbors", s.nbrs, neighbors(r, at(s.at), ifD))
				}
			}
		})
	}
}

// TestNeighborOptions: every Hello replaces what the neighbor said; a new
// Generation ID is a restart.
func TestNeighborOptions(t *testing.T) {
	r := newRouter(t)
	hello(t, r, at(0), ifD, nbr1, withPrio(3), withAddrs(addr("2001:db8:5::1"), addr("fe80::5"), addr("ff0e::1")))
	n := ifaceState(r, at(0), ifD).Neighbors[0]
	diff(t, "options", NeighborState{
		Address: nbr1, Secondary: []netip.Addr{addr("2001:db8:5::1")}, UpSince: tR,
		Holdtime: 105e9, Timer: n.Timer, Expires: 105e9,
		GenerationID: u32(1), DRPriority: u32(3),
		LANPruneDelay: &pimmsg.LANPruneDelay{PropagationDelay: 500, OverrideInterval: 2500},
	}, n)
	hello(t, r, at(10), ifD, nbr1, noPrio, noLPD)
	n = ifaceState(r, at(10), ifD).Neighbors[0]
	if n.DRPriority != nil || n.LANPruneDelay != nil || n.Secondary != nil || n.UpSince != tR {
		t.Errorf("after a Hello without options: %+v", n)
	}
	diff(t, "restart", []string{"nbr(2) fe80::1 up restarted"}, only(render(hello(t, r, at(20), ifD, nbr1, withGenID(77))), "nbr"))
	n = ifaceState(r, at(20), ifD).Neighbors[0]
	if *n.GenerationID != 77 || n.UpSince != at(20) {
		t.Errorf("after restart: %+v", n)
	}
	// A Generation ID that appears is a change too.
	hello(t, r, at(30), ifD, nbr2, func(h *pimmsg.Hello) { h.GenerationID = nil })
	diff(t, "GenID appears", []string{"nbr(2) fe80::2 up restarted"}, only(render(hello(t, r, at(31), ifD, nbr2)), "nbr"))
}

// TestSecondaryAddressMoves: an address two neighbors claim belongs to the
// one that listed it last.
func TestSecondaryAddressMoves(t *testing.T) {
	r := newRouter(t)
	a := addr("2001:db8:5::1")
	hello(t, r, at(0), ifD, nbr1, withAddrs(a))
	hello(t, r, at(1), ifD, nbr2, withAddrs(a, addr("2001:db8:5::2")))
	ns := ifaceState(r, at(1), ifD).Neighbors
	diff(t, "nbr1", []netip.Addr(nil), ns[0].Secondary)
	diff(t, "nbr2", []netip.Addr{a, addr("2001:db8:5::2")}, ns[1].Secondary)
	if got := r.ifaces[ifD].nbrFor(a); got == nil || got.addr != nbr2 {
		t.Errorf("NBR(I, %v) = %v", a, got)
	}
	// nbr2 goes: the address has no owner.
	hello(t, r, at(2), ifD, nbr2, withHoldtime(0))
	if got := r.ifaces[ifD].nbrFor(a); got != nil {
		t.Errorf("NBR(I, %v) = %v after nbr2 left", a, got.addr)
	}
}

// TestMaxNeighbors: a new neighbor beyond MaxNeighbors is refused and
// counted; LimitHit once per episode.
func TestMaxNeighbors(t *testing.T) {
	cfg := testConfig(constRand(0))
	cfg.MaxNeighbors = 2
	r, _ := New(new(timerq.IDs), cfg)
	mustAdd(t, r, tR, ifD, selfD)
	r.Expire(tR)
	hello(t, r, at(0), ifD, nbr1)
	hello(t, r, at(50), ifD, nbr2)
	diff(t, "third", []string{"limit(2) neighbors 2"}, render(hello(t, r, at(60), ifD, nbr3)))
	diff(t, "fourth", []string(nil), render(hello(t, r, at(61), ifD, addr("fe80::4"))))
	diff(t, "refresh of a known one", []string(nil), only(render(hello(t, r, at(62), ifD, nbr2)), "nbr", "limit"))
	// nbr1 expires at 105: room for one.
	diff(t, "expiry", []string{"105 nbr(2) fe80::1 down expired"}, only(runUntil(r, at(62), at(105)), "105 nbr"))
	diff(t, "admitted", []string{"nbr(2) fe80::3 up new"}, only(render(hello(t, r, at(106), ifD, nbr3)), "nbr", "limit"))
	diff(t, "new episode", []string{"limit(2) neighbors 2"}, render(hello(t, r, at(107), ifD, addr("fe80::4"))))
	st := r.Stats(ifD)
	diff(t, "counts", map[string]uint64{DropNeighborLimit: 3}, st.Dropped)
	diff(t, "episodes", map[string]uint64{LimitNeighbors: 2}, st.LimitHits)
	if st.Neighbors != 2 {
		t.Errorf("Neighbors %d", st.Neighbors)
	}
}

// TestReceiveDrops: every refused message is counted under its reason.
func TestReceiveDrops(t *testing.T) {
	good := marshal(t, nbr1, nbrHello())
	badSum := append([]byte(nil), good...)
	badSum[2] ^= 0xff
	fix := func(b []byte, src netip.Addr) []byte {
		binary.BigEndian.PutUint16(b[2:], 0)
		binary.BigEndian.PutUint16(b[2:], pimmsg.Checksum(b, src, AllPIMRouters))
		return b
	}
	version3 := fix(append([]byte{0x30}, good[1:]...), nbr1)
	truncated := fix(append([]byte(nil), good[:len(good)-1]...), nbr1)
	assert := marshal(t, nbr1, &pimmsg.Assert{Group: pimmsg.Group{Addr: g1, MaskLen: 128}, Source: s1})
	bootstrap := marshal(t, nbr1, &pimmsg.Bootstrap{FragmentTag: 1, HashMaskLen: 126, BSR: addr("2001:db8::77")})
	unknown := fix([]byte{0x2c, 0, 0, 0, 1, 2, 3, 4}, nbr1) // type 12, unassigned
	global := addr("2001:db8::99")
	for _, tc := range []struct {
		name   string
		src    netip.Addr
		data   []byte
		reason string
	}{
		{"bad checksum", nbr1, badSum, DropChecksum},
		{"checksum for another source", nbr2, good, DropChecksum},
		{"version 3", nbr1, version3, DropVersion},
		{"truncated option", nbr1, truncated, DropOption},
		{"Hello from a global address", global, marshal(t, global, nbrHello()), DropNotLinkLocal},
		{"our own Hello", selfD, marshal(t, selfD, nbrHello()), DropOwn},
		{"Join/Prune from a global address", global, marshal(t, global, jpMsg(selfD, 210, join(g1, s1))), DropNotLinkLocal},
		{"Join/Prune from a non-neighbor", nbr3, marshal(t, nbr3, jpMsg(selfD, 210, join(g1, s1))), DropNoNeighbor},
		{"Assert from a non-neighbor", nbr1, assert, DropNoNeighbor},
		{"Bootstrap from a non-neighbor", nbr1, bootstrap, DropNoNeighbor},
		{"type 12", nbr1, unknown, DropUnknownType},
		{"empty", nbr1, nil, DropChecksum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t)
			hello(t, r, at(1), ifD, nbr2)
			before := r.Stats(ifD)
			acts := r.Receive(at(2), ifD, tc.src, AllPIMRouters, tc.data)
			diff(t, "actions", []string(nil), render(acts))
			st := r.Stats(ifD)
			diff(t, "dropped", map[string]uint64{tc.reason: 1}, st.Dropped)
			diff(t, "received", before.Received, st.Received)
			if route(r, at(2), s1, g1) != nil {
				t.Error("state created")
			}
		})
	}
}
