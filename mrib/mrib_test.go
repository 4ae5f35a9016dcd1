package mrib

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	s1 = netip.MustParseAddr("2001:db8:1::10")
	g1 = netip.MustParseAddr("ff3e::4321:1234")
	sg = SG{s1, g1}
)

// apply reports every op as applied successfully, as the daemon does.
func apply(t *Table, ops []Op) []Op {
	for _, op := range ops {
		t.Applied(op, nil)
	}
	return ops
}

func TestSetInstallsOnlyWithMIFs(t *testing.T) {
	tb := New()
	// No MIFs yet: nothing can be installed.
	if ops := apply(tb, tb.Set(Route{SG: sg, IIF: 2, OIFs: []int{3, 4}})); len(ops) != 0 {
		t.Fatalf("ops without MIFs: %+v", ops)
	}
	apply(tb, tb.SetMIF(2, 0))
	if tb.Len() != 0 {
		t.Fatal("installed with only the incoming MIF")
	}
	// The first outgoing interface gets a MIF: the entry goes in.
	ops := apply(tb, tb.SetMIF(3, 1))
	if diff := cmp.Diff([]Op{{SG: sg, IIF: 0, OIFs: 1 << 1}}, ops, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
	if !tb.IsInstalled(sg) || tb.IsInstalled(SG{g1, s1}) {
		t.Errorf("IsInstalled: %v of the entry, %v of another", tb.IsInstalled(sg), tb.IsInstalled(SG{g1, s1}))
	}
	ops = apply(tb, tb.SetMIF(4, 5))
	if diff := cmp.Diff([]Op{{SG: sg, IIF: 0, OIFs: 1<<1 | 1<<5}}, ops, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
	// Setting the same desired state again changes nothing.
	if ops := tb.Set(Route{SG: sg, IIF: 2, OIFs: []int{4, 3}}); len(ops) != 0 {
		t.Fatalf("unchanged route produced %+v", ops)
	}
	// The incoming interface loses its MIF: delete.
	ops = apply(tb, tb.DelMIF(2))
	if diff := cmp.Diff([]Op{{Del: true, SG: sg}}, ops, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
	if tb.IsInstalled(sg) {
		t.Error("IsInstalled after the delete")
	}
}

func TestOIFEqualToIIFIsDropped(t *testing.T) {
	tb := New()
	apply(tb, tb.SetMIF(2, 0))
	apply(tb, tb.SetMIF(3, 1))
	if ops := tb.Set(Route{SG: sg, IIF: 2, OIFs: []int{2}}); len(ops) != 0 {
		t.Fatalf("an entry forwarding back out of its incoming interface: %+v", ops)
	}
}

func TestRemoveAndFailures(t *testing.T) {
	tb := New()
	apply(tb, tb.SetMIF(2, 0))
	apply(tb, tb.SetMIF(3, 1))
	ops := tb.Set(Route{SG: sg, IIF: 2, OIFs: []int{3}})
	// The kernel refused: nothing is recorded as installed, and a later
	// identical Set retries.
	tb.Applied(ops[0], errors.New("boom"))
	if tb.Len() != 0 {
		t.Fatal("a failed set counted as installed")
	}
	if ops := tb.Set(Route{SG: sg, IIF: 2, OIFs: []int{3}}); len(ops) != 1 || ops[0].Del {
		t.Fatalf("no retry after a failure: %+v", ops)
	}
	tb.Applied(Op{SG: sg, IIF: 0, OIFs: 2}, nil)
	// An incoming interface and no outgoing one: an entry that drops.
	ops = apply(tb, tb.Set(Route{SG: sg, IIF: 2}))
	if diff := cmp.Diff([]Op{{SG: sg, IIF: 0, OIFs: 0}}, ops, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
	// Removing the route (IIF 0) deletes the entry.
	ops = apply(tb, tb.Set(Route{SG: sg}))
	if diff := cmp.Diff([]Op{{Del: true, SG: sg}}, ops, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
	if tb.Len() != 0 {
		t.Fatal("still installed after delete")
	}
}

// TestMIFRecord: the table answers which interface is which MIF both
// ways (the daemon maps upcalls back with IfIndex), and forgets a MIF that
// was deleted.
func TestMIFRecord(t *testing.T) {
	tb := New()
	apply(tb, tb.SetMIF(7, 0))
	apply(tb, tb.SetMIF(-1, 3)) // the engine's register interface
	if m, ok := tb.MIF(7); !ok || m != 0 {
		t.Errorf("MIF(7) = %d, %v; want 0, true", m, ok)
	}
	if i, ok := tb.IfIndex(3); !ok || i != -1 {
		t.Errorf("IfIndex(3) = %d, %v; want -1, true", i, ok)
	}
	apply(tb, tb.DelMIF(7))
	if _, ok := tb.MIF(7); ok {
		t.Error("MIF(7) after DelMIF: still recorded")
	}
	if _, ok := tb.IfIndex(0); ok {
		t.Error("IfIndex(0) after DelMIF: still recorded")
	}
}
