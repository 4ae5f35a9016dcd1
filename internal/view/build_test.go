package view

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/pim"
)

// A Build reads the routes Budget at a time, in the report's order; the
// loop goes on between reads: an entry read before it went away stays as
// it was read, one that went away before its read is left out, one that
// came after the first read is not listed.
func TestBuildReadsInPieces(t *testing.T) {
	now := time.Unix(1000, 0)
	pc := pimConfig()
	pc.RPs = []pim.StaticRP{{Addr: netip.MustParseAddr("2001:db8:ff::1"), Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}}
	st := newState(t, now, pc, &fakeKernel{routes: map[netip.Addr]kernel.Route{}})
	ll := netip.MustParsePrefix("fe80::10/64")
	st.Interfaces = []Interface{{Index: 3, Name: "eth0", Up: true, LinkLocal: ll, PIM: true}}
	st.MRIB.SetMIF(3, 0)
	if _, err := st.PIM.AddInterface(now, 3, "eth0", ll.Addr(), nil, pim.DefaultIfConfig()); err != nil {
		t.Fatal(err)
	}
	g := func(i int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("ff0e::%d", i)) }
	listen := func(i int, on bool) {
		st.PIM.SetListeners(now, pim.ListenerInput{IfIndex: 3, Group: g(i), Exclude: on})
	}
	for i := 9; i >= 0; i-- {
		listen(i, true)
	}
	b := NewBuild(ctl.Query{Parts: []string{ctl.PartRoutes}})
	b.Budget = 3
	reads := 0
	read := func() {
		t.Helper()
		reads++
		if err := b.Read(st); err != nil {
			t.Fatal(err)
		}
	}
	read() // the keys
	if b.Work() {
		t.Fatal("complete after the first read")
	}
	read() // ff0e::0, 1, 2
	if b.Work() {
		t.Fatal("complete after the second read")
	}
	listen(1, false) // read already
	listen(5, false) // not yet
	listen(20, true) // not listed
	for !b.Work() {
		read()
	}
	var got []netip.Addr
	for _, r := range b.Snapshot().Routes {
		got = append(got, r.Group)
	}
	want := []netip.Addr{g(0), g(1), g(2), g(3), g(4), g(6), g(7), g(8), g(9)}
	if diff := cmp.Diff(want, got, addrOpts); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
	if reads != 1+4 {
		t.Errorf("%d reads, want 5 (the keys, then 10 routes 3 at a time)", reads)
	}
	if s := b.Snapshot(); s.Interfaces != nil || s.Groups != nil || s.Counters != nil || s.Query == nil {
		t.Errorf("parts not asked for: %+v", s)
	}
}
