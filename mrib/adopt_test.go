package mrib

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	s2  = netip.MustParseAddr("2001:db8:1::20")
	g2  = netip.MustParseAddr("ff3e::4321:5678")
	sg2 = SG{s2, g2}
	sg3 = SG{s1, g2}
)

func diffOps(t *testing.T, want, got []Op) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Fatalf("ops (-want +got)\n%s", diff)
	}
}

// A restart adopts what the kernel forwards: wanted entries stay without
// an operation, differing ones are corrected, unwanted ones stay until
// Sweep, and entries on interfaces without a MIF go at once.
func TestAdoptAndSweep(t *testing.T) {
	tb := New()
	apply(tb, tb.SetMIF(2, 0))
	apply(tb, tb.SetMIF(3, 1))
	apply(tb, tb.SetMIF(4, 2))
	// The engines already want sg (restored) as the kernel has it, and sg2
	// differently; the kernel holds entries the new process did not
	// install yet.
	tb.desired[sg] = Route{SG: sg, IIF: 2, OIFs: []int{3}}
	tb.desired[sg2] = Route{SG: sg2, IIF: 2, OIFs: []int{3, 4}}
	orphan := SG{s2, netip.MustParseAddr("ff3e::99")}
	ops := apply(tb, tb.Adopt([]Kernel{
		{SG: sg, IIF: 2, OIFs: []int{3}},
		{SG: sg2, IIF: 2, OIFs: []int{3}},
		{SG: sg3, IIF: 3, OIFs: []int{2}},
		{SG: orphan, IIF: 9, OIFs: []int{3}},
	}))
	diffOps(t, []Op{{SG: sg2, IIF: 0, OIFs: 1<<1 | 1<<2}, {Del: true, SG: orphan}}, ops)
	if tb.Len() != 3 || tb.Stale() != 1 {
		t.Fatalf("installed %d stale %d, want 3 and 1 (sg3)", tb.Len(), tb.Stale())
	}
	// A change elsewhere (a MIF added) does not delete the stale entry.
	diffOps(t, nil, apply(tb, tb.SetMIF(5, 3)))
	if tb.Stale() != 1 {
		t.Fatal("stale entry lost its grace on an unrelated change")
	}
	// Wanted again during the grace: confirmed, no operation needed.
	diffOps(t, nil, tb.Set(Route{SG: sg3, IIF: 3, OIFs: []int{2}}))
	if tb.Stale() != 0 {
		t.Fatal("a wanted entry is still stale")
	}
	// And once confirmed, unwanted means deleted, grace or not.
	diffOps(t, []Op{{Del: true, SG: sg3}}, apply(tb, tb.Set(Route{SG: sg3})))

	// Sweep deletes the adopted entries nobody wanted.
	tb2 := New()
	apply(tb2, tb2.SetMIF(2, 0))
	apply(tb2, tb2.SetMIF(3, 1))
	apply(tb2, tb2.Adopt([]Kernel{{SG: sg, IIF: 2, OIFs: []int{3}}, {SG: sg2, IIF: 3, OIFs: []int{2}}}))
	apply(tb2, tb2.Set(Route{SG: sg, IIF: 2, OIFs: []int{3}}))
	if tb2.Stale() != 1 {
		t.Fatalf("%d stale entries, want sg2 only", tb2.Stale())
	}
	diffOps(t, []Op{{Del: true, SG: sg2}}, apply(tb2, tb2.Sweep()))
	if tb2.Len() != 1 || tb2.Stale() != 0 {
		t.Fatalf("after Sweep installed %d stale %d", tb2.Len(), tb2.Stale())
	}
	diffOps(t, nil, tb2.Sweep())
}

// The audit restores entries deleted or changed behind the table's back,
// deletes entries it never installed, and leaves in-flight ones alone.
func TestAudit(t *testing.T) {
	tb := New()
	apply(tb, tb.SetMIF(2, 0))
	apply(tb, tb.SetMIF(3, 1))
	apply(tb, tb.SetMIF(4, 2))
	apply(tb, tb.Set(Route{SG: sg, IIF: 2, OIFs: []int{3}}))
	apply(tb, tb.Set(Route{SG: sg2, IIF: 2, OIFs: []int{3, 4}}))

	// The kernel agrees: nothing to do.
	ops, res := tb.Audit([]Kernel{{SG: sg, IIF: 2, OIFs: []int{3}}, {SG: sg2, IIF: 2, OIFs: []int{3, 4}}})
	diffOps(t, nil, ops)
	if res != (AuditResult{}) {
		t.Fatalf("clean audit found %+v", res)
	}

	// sg deleted behind our back, sg2 lost an oif, sg3 added by someone
	// else, and an entry on an interface without a MIF.
	other := SG{s2, netip.MustParseAddr("ff3e::77")}
	ops, res = tb.Audit([]Kernel{
		{SG: sg2, IIF: 2, OIFs: []int{3}},
		{SG: sg3, IIF: 3, OIFs: []int{2}},
		{SG: other, IIF: 8, OIFs: []int{2}},
	})
	apply(tb, ops)
	diffOps(t, []Op{ // by group, then source
		{Del: true, SG: other},
		{SG: sg, IIF: 0, OIFs: 1 << 1},
		{Del: true, SG: sg3},
		{SG: sg2, IIF: 0, OIFs: 1<<1 | 1<<2},
	}, ops)
	if want := (AuditResult{Missing: 1, Changed: 1, Extra: 2}); res != want || res.Repairs() != 4 {
		t.Fatalf("audit %+v, want %+v", res, want)
	}
	// After the repairs the kernel matches.
	if _, res := tb.Audit([]Kernel{{SG: sg, IIF: 2, OIFs: []int{3}}, {SG: sg2, IIF: 2, OIFs: []int{3, 4}}}); res != (AuditResult{}) {
		t.Fatalf("audit after repair %+v", res)
	}

	// An operation in flight is not judged by a dump taken before it.
	pend := tb.Set(Route{SG: sg3, IIF: 3, OIFs: []int{2}})
	ops, res = tb.Audit([]Kernel{{SG: sg, IIF: 2, OIFs: []int{3}}, {SG: sg2, IIF: 2, OIFs: []int{3, 4}}})
	diffOps(t, nil, ops)
	if res != (AuditResult{}) {
		t.Fatalf("audit with an op in flight: %+v", res)
	}
	apply(tb, pend)
}

// A NOCACHE for an installed entry means it was deleted behind our back.
func TestLost(t *testing.T) {
	tb := New()
	apply(tb, tb.SetMIF(2, 0))
	apply(tb, tb.SetMIF(3, 1))
	apply(tb, tb.Set(Route{SG: sg, IIF: 2, OIFs: []int{3}}))
	ops, ok := tb.Lost(sg)
	if !ok {
		t.Fatal("Lost of an installed entry: not ok")
	}
	diffOps(t, []Op{{SG: sg, IIF: 0, OIFs: 1 << 1}}, apply(tb, ops))
	if _, ok := tb.Lost(sg2); ok {
		t.Error("Lost of an entry never installed: ok")
	}
}

// While held, changes are recorded, not returned; Release returns the
// operations of what is different by then, and nothing for what came back.
func TestHoldRelease(t *testing.T) {
	tb := New()
	apply(tb, tb.SetMIF(2, 0))
	apply(tb, tb.SetMIF(3, 1))
	tb.Hold()
	apply(tb, tb.Adopt([]Kernel{{SG: sg, IIF: 2, OIFs: []int{3}}}))
	diffOps(t, nil, tb.Set(Route{SG: sg, IIF: 3, OIFs: []int{2}}))  // another iif, held
	diffOps(t, nil, tb.Set(Route{SG: sg2, IIF: 2, OIFs: []int{3}})) // a new one, held
	diffOps(t, nil, tb.Set(Route{SG: sg, IIF: 2, OIFs: []int{3}}))  // back as the kernel has it
	diffOps(t, []Op{{SG: sg2, IIF: 0, OIFs: 1 << 1}}, apply(tb, tb.Release()))
	diffOps(t, []Op{{SG: sg, IIF: 1, OIFs: 1 << 0}}, apply(tb, tb.Set(Route{SG: sg, IIF: 3, OIFs: []int{2}})))
}
