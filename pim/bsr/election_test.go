package bsr

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The outputs of an accepted BSM, in order: received, the route to
// watch, forwarded, the new BSR, the RP-set changed.
func TestBSMAccepted(t *testing.T) {
	z := newZone(t, nil)
	m := bsm(bsrA, 100, 7, bsGroup("ff0e::/16", bsRP(rpA, 10, 150)))
	out := z.Bootstrap(at(3), ifU, m, Multicast)
	want := []Output{
		Received{},
		WatchBSR{BSR: bsrA},
		Forward{In: ifU, Msg: m},
		Change{BSR: bsrA, Priority: 100, State: AcceptPreferred},
		RPSetChanged{},
	}
	if d := diffOutputs(want, out); d != "" {
		t.Errorf("outputs (-want +got):\n%s", d)
	}
	// The same BSM again: forwarded again, but no Change, no RP-set
	// change; the RP's holdtime starts again.
	out = z.Bootstrap(at(4), ifU, m, Multicast)
	if d := diffOutputs([]Output{Received{}, WatchBSR{BSR: bsrA}, Forward{In: ifU, Msg: m}}, out); d != "" {
		t.Errorf("outputs of a repeated BSM (-want +got):\n%s", d)
	}
	info := z.Info(at(4))
	if info.State != AcceptPreferred || info.BSR != bsrA || info.Priority != 100 || info.HashMaskLen != 126 ||
		info.Timeout != 130*time.Second || info.Pairs != 1 || len(info.RPSet) != 1 {
		t.Errorf("info: %+v", info)
	}
	if e := info.RPSet[0]; e.Prefix != netip.MustParsePrefix("ff0e::/16") || e.RP != rpA || e.Priority != 10 ||
		e.Holdtime != 150*time.Second || e.Left != 150*time.Second {
		t.Errorf("RP-set entry: %+v", e)
	}
	// The Bootstrap Timer runs out: Accept Any; the set stays until the
	// RP's holdtime ends.
	out = runUntil(z, at(4), at(134))
	if d := diffOutputs([]Output{Change{BSR: bsrA, Priority: 100, State: AcceptAny}}, out); d != "" {
		t.Errorf("at BS_Timeout (-want +got):\n%s", d)
	}
	if got := rpOf(z, gA); got != rpA {
		t.Errorf("RP after BS_Timeout: %v", got)
	}
	out = runUntil(z, at(134), at(154))
	if d := diffOutputs([]Output{RPSetChanged{}}, out); d != "" {
		t.Errorf("at the RP's expiry (-want +got):\n%s", d)
	}
	if _, ok := z.Lookup(gA); ok {
		t.Error("RP after its holdtime")
	}
}

// The non-candidate machine: a less preferred BSR is ignored while the
// BSR lives, a better one is taken at once.
func TestBSMPreference(t *testing.T) {
	z := newZone(t, nil)
	z.Bootstrap(at(3), ifU, bsm(bsrB, 100, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150))), Multicast)
	out := z.Bootstrap(at(4), ifU, bsm(bsrA, 100, 2, bsGroup("ff00::/8", bsRP(rpB, 1, 150))), Multicast)
	if b, _ := z.BSR(); b != bsrB {
		t.Fatalf("a lower address won: %v", b)
	}
	if d := diffOutputs([]Output{Received{}, Dropped{Reason: NotPreferred}}, out); d != "" {
		t.Errorf("outputs of a less preferred BSM (-want +got):\n%s", d)
	}
	z.Bootstrap(at(5), ifU, bsm(bsrA, 101, 3, bsGroup("ff00::/8", bsRP(rpC, 1, 150))), Multicast)
	if b := z.Info(at(5)); b.BSR != bsrA || b.Priority != 101 {
		t.Fatalf("a higher priority did not win: %+v", b)
	}
	// Ranges of the previous BSM that the new one did not carry go when
	// the next BSM begins; here the same range came with a new RP.
	if got := rpOf(z, gA); got != rpC {
		t.Errorf("RP = %v, want %v", got, rpC)
	}
}

// Fragments: a range whose RPs are split over two fragments is used once
// both are in; a range the previous BSM did not carry goes.
func TestBSMFragments(t *testing.T) {
	z := newZone(t, nil)
	g := bsGroup("ff0e::/16", bsRP(rpA, 1, 150), bsRP(rpB, 1, 150))
	f1 := bsm(bsrA, 1, 9, pimmsg.BootstrapGroup{Group: g.Group, RPCount: 2, RPs: g.RPs[:1]}, bsGroup("ff05::/16", bsRP(rpC, 1, 150)))
	f2 := bsm(bsrA, 1, 9, pimmsg.BootstrapGroup{Group: g.Group, RPCount: 2, RPs: g.RPs[1:]})
	z.Bootstrap(at(3), ifU, f1, Multicast)
	if got := rpOf(z, gA); got.IsValid() {
		t.Errorf("RP from half a range: %v", got)
	}
	if got := rpOf(z, addr("ff05::1")); got != rpC {
		t.Errorf("complete range of the first fragment: %v", got)
	}
	z.Bootstrap(at(3.1), ifU, f2, Multicast)
	var n int
	for _, e := range z.Info(at(4)).RPSet {
		if e.Prefix == netip.MustParsePrefix("ff0e::/16") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("ff0e::/16 has %d RPs after both fragments: %+v", n, z.Info(at(4)).RPSet)
	}
	// Both fragments go to a new neighbor.
	if us := of[Unicast](z.NewNeighbor(ifD, addr("fe80::9"), true)); len(us) != 2 || us[0].Msg != f1 || us[1].Msg != f2 {
		t.Errorf("BSM to a new neighbor: %+v", us)
	}
	// The next BSMs carry only ff0e::/16: ff05::/16 stays while only one
	// whole BSM left it out (it may have been a lost fragment), and goes
	// when a second one begins after another that left it out.
	z.Bootstrap(at(60), ifU, bsm(bsrA, 1, 10, g), Multicast)
	z.Bootstrap(at(120), ifU, bsm(bsrA, 1, 11, g), Multicast)
	if got := rpOf(z, addr("ff05::1")); got != rpC {
		t.Errorf("ff05::/16 dropped after one BSM without it: %v", got)
	}
	z.Bootstrap(at(125), ifU, bsm(bsrA, 1, 12, g, bsGroup("ff05::/16", bsRP(rpC, 1, 150))), Multicast)
	z.Bootstrap(at(130), ifU, bsm(bsrA, 1, 13, g), Multicast)
	z.Bootstrap(at(135), ifU, bsm(bsrA, 1, 14, g), Multicast)
	if got := rpOf(z, addr("ff05::1")); got != rpC {
		t.Errorf("ff05::/16 dropped after one BSM without it (again): %v", got)
	}
	out := z.Bootstrap(at(140), ifU, bsm(bsrA, 1, 15, g), Multicast)
	if got := rpOf(z, addr("ff05::1")); got.IsValid() {
		t.Errorf("ff05::/16 still mapped to %v after two whole BSMs without it", got)
	}
	if len(of[RPSetChanged](out)) != 1 {
		t.Errorf("no RPSetChanged when ff05::/16 went: %+v", out)
	}
	// A range sent with no RP goes at once.
	z.Bootstrap(at(141), ifU, bsm(bsrA, 1, 16, pimmsg.BootstrapGroup{Group: g.Group}), Multicast)
	if got := rpOf(z, gA); got.IsValid() {
		t.Errorf("ff0e::/16 still mapped to %v after a BSM with RP count 0", got)
	}
}

// The RP-set holds at most MaxRPSet pairs: what does not fit is dropped
// (on the router's counters) with one LimitHit per episode.
func TestRPSetLimit(t *testing.T) {
	z := newZone(t, func(c *Config) { c.MaxRPSet = 2 })
	m := bsm(bsrA, 1, 1, bsGroup("ff0e::/16", bsRP(rpA, 1, 150), bsRP(rpB, 1, 150)), bsGroup("ff05::/16", bsRP(rpC, 1, 150)),
		bsGroup("ff06::/16", bsRP(rpC, 1, 150)), bsGroup("fe00::/16", bsRP(rpC, 1, 150)))
	out := z.Bootstrap(at(3), ifU, m, Multicast)
	want := []Dropped{{Reason: SetLimit, Router: true}, {Reason: SetLimit, Router: true}, {Reason: BadGroup, Router: true}}
	if d := diffOutputs(toOutputs(want), toOutputs(of[Dropped](out))); d != "" {
		t.Errorf("drops (-want +got):\n%s", d)
	}
	if hits := of[LimitHit](out); len(hits) != 1 || hits[0].Limit != 2 {
		t.Errorf("LimitHit: %+v", hits)
	}
	if info := z.Info(at(3)); info.Pairs != 2 {
		t.Errorf("pairs: %d", info.Pairs)
	}
	if hits := of[LimitHit](z.Bootstrap(at(4), ifU, m, Multicast)); len(hits) != 0 {
		t.Errorf("LimitHit again in the same episode: %+v", hits)
	}
}

func toOutputs[T Output](ts []T) []Output {
	out := make([]Output, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

// The Candidate-BSR machine against other candidates.
func TestCandidateBSRMachine(t *testing.T) {
	mk := func() *Zone { return newZone(t, candidate(10)) }
	// A better BSR: Candidate; its loss: Pending after BS_Timeout, then
	// Elected after rand_override.
	z := mk()
	z.Bootstrap(at(3), ifU, bsm(bsrA, 20, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150))), Multicast)
	if b := z.Info(at(3)); b.State != Candidate || b.BSR != bsrA {
		t.Fatalf("after a better BSM: %+v", b)
	}
	runUntil(z, at(3), at(133.5))
	b := z.Info(at(133.5))
	if b.State != Pending {
		t.Fatalf("after BS_Timeout: %+v", b)
	}
	// rand_override: 5 + 2*log2(1+20-10) + 2 - addr/2^127 s.
	// Pending since 133 s: 0.5 s of it gone.
	if b.Timeout < 13*time.Second || b.Timeout > 13400*time.Millisecond {
		t.Errorf("rand_override left = %v, want 5+6.92+1.75-0.5 s", b.Timeout)
	}
	out := runUntil(z, at(133.5), at(150))
	if b := z.Info(at(150)); b.State != Elected {
		t.Fatalf("after rand_override: %+v", b)
	}
	if ws := of[WatchBSR](out); len(ws) != 1 || ws[0].BSR.IsValid() {
		t.Errorf("the elected BSR still watches a route: %+v", ws)
	}
	// The new BSR starts from the learned set.
	if got := rpOf(z, gA); got != rpA {
		t.Errorf("RP(G) at the new BSR: %v", got)
	}
	// A worse BSM at the elected BSR: it answers with its own BSM at once.
	out = z.Bootstrap(at(151), ifU, bsm(bsrB, 5, 2), Multicast)
	if os := of[Originate](out); len(os) != 1 || os[0].Msg.BSR != self {
		t.Errorf("answer to a worse BSR: %+v", out)
	}
	// A better one: Candidate again.
	z.Bootstrap(at(152), ifU, bsm(bsrB, 50, 3), Multicast)
	if b := z.Info(at(152)); b.State != Candidate || b.BSR != bsrB {
		t.Errorf("after a better BSM at the BSR: %+v", b)
	}
	// A worse BSR heard by a pending candidate is ignored but forwarded:
	// it is still the others' BSR until we take over.
	z = mk()
	m := bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150)))
	out = z.Bootstrap(at(3), ifU, m, Multicast)
	if b := z.Info(at(3)); b.State != Pending || b.BSR.IsValid() || len(b.RPSet) != 0 {
		t.Errorf("pending after a worse BSM: %+v", b)
	}
	if d := diffOutputs([]Output{Received{}, Forward{In: ifU, Msg: m}, Dropped{Reason: NotPreferred}}, out); d != "" {
		t.Errorf("a pending candidate's outputs (-want +got):\n%s", d)
	}
}

// A Candidate-BSR alone becomes the BSR after its start-up wait (10 s
// hold-off + 5 s rand_override) and sends its BSM every BS_Period.
func TestCandidateBSRAlone(t *testing.T) {
	z := newZone(t, candidate(10))
	if os := of[Originate](runUntil(z, t0, at(14.9))); len(os) != 0 {
		t.Fatalf("a BSM before the start-up wait ended")
	}
	out := runUntil(z, at(14.9), at(15))
	os := of[Originate](out)
	if len(os) != 1 || os[0].Msg.BSR != self || os[0].Msg.Priority != 10 || os[0].Msg.HashMaskLen != 126 || len(os[0].Msg.Groups) != 0 {
		t.Fatalf("BSM at election: %+v", out)
	}
	if cs := of[Change](out); len(cs) != 1 || cs[0] != (Change{BSR: self, Priority: 10, State: Elected}) {
		t.Errorf("Change at election: %+v", cs)
	}
	if os := of[Originate](runUntil(z, at(15), at(75.5))); len(os) != 1 {
		t.Errorf("BSMs in the next BS_Period: %d", len(os))
	}
}

// rand_override between Candidate-BSRs of equal priority (RFC 5059
// 3.1.1): 5 s + log2(bestAddr - myAddr)/64 s. The addresses differ in
// their last bits only (one /64): the difference must be taken before
// the addresses are rounded to floats, or the term vanishes and both
// candidates wait the same 5 s.
func TestRandOverrideEqualPriority(t *testing.T) {
	z := newZone(t, candidate(100)) // self is 2001:db8:ff::5
	for _, c := range []struct {
		best string
		want time.Duration
	}{
		{"2001:db8:ff::6", 5 * time.Second},                          // log2(1) = 0
		{"2001:db8:ff::105", 5*time.Second + 125*time.Millisecond},   // log2(256)/64
		{"2001:db8:ff:0:1::5", 5*time.Second + 750*time.Millisecond}, // log2(2^48)/64
		{"2001:db8:ff::4", 5 * time.Second},                          // we are the best
	} {
		got := z.randOverride(100, addr(c.best))
		if d := got - c.want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("rand_override against %s: %v, want %v", c.best, got, c.want)
		}
	}
}

// A new neighbor gets the BSM, unicast with the No-Forward bit set by the
// owner, only from the link's DR and only once a BSR is known.
func TestNewNeighbor(t *testing.T) {
	z := newZone(t, nil)
	nb := addr("fe80::9")
	if out := z.NewNeighbor(ifD, nb, true); len(out) != 0 {
		t.Errorf("a BSM before any BSR: %+v", out)
	}
	m := bsm(bsrA, 1, 1, bsGroup("ff00::/8", bsRP(rpA, 1, 150)))
	z.Bootstrap(at(3), ifU, m, Multicast)
	if out := z.NewNeighbor(ifD, nb, false); len(out) != 0 {
		t.Errorf("a BSM from a router that is not the DR to a neighbor that is not either: %+v", out)
	}
	if d := diffOutputs([]Output{Unicast{IfIndex: ifD, Neighbor: nb, Msg: m}}, z.NewNeighbor(ifD, nb, true)); d != "" {
		t.Errorf("BSM to a new neighbor (-want +got):\n%s", d)
	}
}

// The zone's timers take their IDs from the owner's allocator, and Next
// and Fire let the owner fire them one at a time.
func TestTimers(t *testing.T) {
	ids := new(timerq.IDs)
	other := timerq.New[int](ids)
	var id timerq.ID
	other.Set(&id, at(100), 0)
	z := New(ids, Config{BootstrapPeriod: 60 * time.Second, MaxRPSet: 10, Rand: func() uint32 { return 0 },
		CandidateBSR: &CandidateBSR{Addr: self, Priority: 1},
		CandidateRP:  &CandidateRP{Addr: self, Priority: 1, Holdtime: 150, Interval: 60 * time.Second}})
	if d := diffOutputs([]Output{Change{State: Pending}}, z.Start(t0)); d != "" {
		t.Errorf("start (-want +got):\n%s", d)
	}
	ts := z.Timers()
	if len(ts) != 2 || ts[0].ID == id || ts[1].ID == id || !ts[0].At.Equal(t0) {
		t.Fatalf("timers %+v (the other queue has %d)", ts, id)
	}
	if d, tid, ok := z.Next(); !ok || tid != ts[0].ID || !d.Equal(t0) {
		t.Errorf("Next = %v %d %v", d, tid, ok)
	}
	// The advertisement timer fires first (no BSR known: nothing goes
	// out); the Bootstrap Timer is not due yet.
	if out := z.Fire(t0); len(out) != 0 {
		t.Errorf("first Fire: %+v", out)
	}
	if out := z.Fire(t0); len(out) != 0 {
		t.Errorf("Fire of a timer not due: %+v", out)
	}
	if d, _, _ := z.Next(); !d.After(at(10)) {
		t.Errorf("next deadline %v, want the start-up wait", d)
	}
}

// A BSM that skipped the RPF check (Refresh) is used only as the zone's
// first BSM (RFC 5059 3.1.3), with every fragment of that one BSM; once a
// BSM came from the RPF neighbor, or the zone originated one, a refresh
// changes nothing.
func TestRefreshOnlyFirst(t *testing.T) {
	notStartup := []Output{Received{}, Dropped{Reason: NotStartup}}
	z := newZone(t, nil)
	f1 := bsm(bsrA, 1, 5, bsGroup("ff0e::/16", bsRP(rpA, 1, 150)))
	f2 := bsm(bsrA, 1, 5, bsGroup("ff05::/16", bsRP(rpB, 1, 150)))
	want := []Output{Received{}, WatchBSR{BSR: bsrA}, Change{BSR: bsrA, Priority: 1, State: AcceptPreferred}, RPSetChanged{}}
	if d := diffOutputs(want, z.Bootstrap(at(3), ifU, f1, Refresh)); d != "" {
		t.Errorf("the first refresh (-want +got):\n%s", d)
	}
	if d := diffOutputs([]Output{Received{}, WatchBSR{BSR: bsrA}, RPSetChanged{}}, z.Bootstrap(at(3), ifD, f2, Refresh)); d != "" {
		t.Errorf("its second fragment (-want +got):\n%s", d)
	}
	// Another BSM as a refresh: another tag, or another BSR with the tag.
	if d := diffOutputs(notStartup, z.Bootstrap(at(4), ifU, bsm(bsrA, 1, 6), Refresh)); d != "" {
		t.Errorf("a second refresh (-want +got):\n%s", d)
	}
	if d := diffOutputs(notStartup, z.Bootstrap(at(4), ifU, bsm(bsrB, 9, 5), Refresh)); d != "" {
		t.Errorf("a refresh of another BSR (-want +got):\n%s", d)
	}
	// The first BSM from the RPF neighbor ends the refresh, even with the
	// refresh's tag.
	z.Bootstrap(at(5), ifU, bsm(bsrA, 1, 7, bsGroup("ff0e::/16", bsRP(rpA, 1, 150))), Multicast)
	if d := diffOutputs(notStartup, z.Bootstrap(at(6), ifU, bsm(bsrA, 1, 7, bsGroup("ff0e::/16", bsRP(rpC, 0, 150))), Refresh)); d != "" {
		t.Errorf("a refresh after a multicast BSM (-want +got):\n%s", d)
	}
	if got := rpOf(z, gA); got != rpA {
		t.Errorf("RP(G) = %v, want %v", got, rpA)
	}
	// A candidate that has originated a BSM takes no refresh either.
	z = newZone(t, candidate(10))
	runUntil(z, t0, at(15))
	if z.State() != Elected {
		t.Fatalf("state %v", z.State())
	}
	if d := diffOutputs(notStartup, z.Bootstrap(at(16), ifU, bsm(bsrA, 200, 1), Refresh)); d != "" {
		t.Errorf("a refresh at the elected BSR (-want +got):\n%s", d)
	}
}

// A BSM whose hash mask length is more than 128, the bits of an IPv6
// address, is invalid: it is counted and dropped whole, neither used,
// forwarded nor shown. 128 itself is valid.
func TestBSMBadHashMask(t *testing.T) {
	for _, cand := range []bool{false, true} {
		z := newZone(t, nil)
		if cand {
			z = newZone(t, candidate(1))
		}
		bad := bsm(bsrA, 100, 7, bsGroup("ff0e::/16", bsRP(rpA, 10, 150)))
		bad.HashMaskLen = 200
		for _, how := range []Arrival{Multicast, Refresh} {
			out := z.Bootstrap(at(3), ifU, bad, how)
			if d := diffOutputs([]Output{Received{}, Dropped{Reason: BadHashMask}}, out); d != "" {
				t.Errorf("candidate %v, arrival %d: outputs (-want +got):\n%s", cand, how, d)
			}
		}
		if info := z.Info(at(3)); info.BSR.IsValid() || info.HashMaskLen != 0 || info.Pairs != 0 {
			t.Errorf("candidate %v: the bad BSM was used: %+v", cand, info)
		}
		if _, ok := z.Lookup(gA); ok {
			t.Errorf("candidate %v: RP from the bad BSM", cand)
		}
		good := bsm(bsrA, 100, 8, bsGroup("ff0e::/16", bsRP(rpA, 10, 150)))
		good.HashMaskLen = 128
		z.Bootstrap(at(4), ifU, good, Multicast)
		if info := z.Info(at(4)); info.BSR != bsrA || info.HashMaskLen != 128 {
			t.Errorf("candidate %v: a BSM with hash mask length 128 was not used: %+v", cand, info)
		}
		// Once a BSR is known, its own bad BSM is dropped too: the length
		// in use stays.
		bad.FragmentTag = 9
		out := z.Bootstrap(at(5), ifU, bad, Multicast)
		if d := diffOutputs([]Output{Received{}, Dropped{Reason: BadHashMask}}, out); d != "" {
			t.Errorf("candidate %v: the known BSR's bad BSM (-want +got):\n%s", cand, d)
		}
		if info := z.Info(at(5)); info.HashMaskLen != 128 {
			t.Errorf("candidate %v: hash mask length now %d", cand, info.HashMaskLen)
		}
	}
}
