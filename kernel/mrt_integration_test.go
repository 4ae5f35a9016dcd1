package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pim6sd/pim6sd/internal/netns"
)

// Tests of the multicast routing socket against the real kernel, in
// namespaces. Topology and helpers: mrt_topo_test.go.

func mrtAddMIF(t *testing.T, m *MRT, ifindex int) MIF {
	t.Helper()
	mif, err := m.AddMIF(ifindex)
	if err != nil {
		t.Fatalf("AddMIF(%d): %v", ifindex, err)
	}
	return mif
}

func mrtSetMFC(t *testing.T, m *MRT, src, grp netip.Addr, iif MIF, oifs MIFSet) {
	t.Helper()
	if err := m.SetMFC(src, grp, iif, oifs); err != nil {
		t.Fatalf("SetMFC(%v, %v, %d, %v): %v", src, grp, iif, oifs, err)
	}
}

// mrtProcMIFNames maps the MIFs /proc/net/ip6_mr_vif shows to their
// interface names.
func mrtProcMIFNames(t *testing.T, ns *netns.NS) map[MIF]string {
	t.Helper()
	names := map[MIF]string{}
	for _, e := range mrtProcMIFs(t, ns) {
		names[e.MIF] = e.Name
	}
	return names
}

// mrtDummies creates interfaces name0..name(n-1) in ns, multicast on and
// up, and returns their indexes. They are dummy links, or ifb links on
// kernels built without CONFIG_DUMMY (both are simple devices that take
// no traffic from outside).
func mrtDummies(t *testing.T, ns *netns.NS, name string, n int) []int {
	t.Helper()
	ns.MustRun("sh", "-ec", fmt.Sprintf(
		`for i in $(seq 0 %d); do ip link add %s$i type dummy 2>/dev/null || ip link add %s$i type ifb; ip link set %s$i multicast on up; done`,
		n-1, name, name, name))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = ns.IfIndex(fmt.Sprintf("%s%d", name, i))
	}
	return idx
}

// mrtPacketBytes is the length the kernel counts for test packet i to
// grp: IPv6 header, UDP header, payload.
func mrtPacketBytes(grp netip.Addr, i int) uint64 {
	return uint64(40 + 8 + len(mrtPayload(grp, i)))
}

// mrtCheckUDP checks that pkt is the whole IPv6 packet of test packet i.
func mrtCheckUDP(t *testing.T, pkt []byte, grp netip.Addr, i int) {
	t.Helper()
	want := mrtPayload(grp, i)
	if len(pkt) != 48+len(want) {
		t.Fatalf("packet of %d bytes, want %d: %x", len(pkt), 48+len(want), pkt)
	}
	if pkt[0]>>4 != 6 || pkt[6] != unix.IPPROTO_UDP {
		t.Fatalf("not IPv6/UDP: version %d next header %d", pkt[0]>>4, pkt[6])
	}
	if got := int(binary.BigEndian.Uint16(pkt[4:])); got != 8+len(want) {
		t.Errorf("payload length %d, want %d", got, 8+len(want))
	}
	if src, dst := netip.AddrFrom16([16]byte(pkt[8:24])), netip.AddrFrom16([16]byte(pkt[24:40])); src != mrtSrc || dst != grp {
		t.Errorf("packet %v -> %v, want %v -> %v", src, dst, mrtSrc, grp)
	}
	if port := binary.BigEndian.Uint16(pkt[42:]); port != mrtPort {
		t.Errorf("UDP destination port %d, want %d", port, mrtPort)
	}
	if got := string(pkt[48:]); got != string(want) {
		t.Errorf("UDP payload %q, want %q", got, want)
	}
}

// An (S,G) entry forwards from its iif to its oifs; /proc, `ip -6 mroute`
// and the counters agree with what was sent; deleting the entry stops the
// forwarding and the next packet comes up as NOCACHE.
func TestMRTForwardSG(t *testing.T) {
	tp := newMRTTopo(t)
	m := tp.openMRT(t, MRTConfig{})
	up, down := mrtAddMIF(t, m, tp.up), mrtAddMIF(t, m, tp.down)
	if up != 0 || down != 1 {
		t.Fatalf("MIFs up %d down %d, want the lowest free slots 0 and 1", up, down)
	}
	if got, want := mrtProcMIFNames(t, tp.router), map[MIF]string{0: "up0", 1: "down0"}; !maps.Equal(got, want) {
		t.Fatalf("/proc/net/ip6_mr_vif: %v, want %v", got, want)
	}
	mrtSetMFC(t, m, mrtSrc, mrtGroup, up, MIFSet(0).Add(down))

	e, ok := mrtFindProcMFC(mrtProcMFCs(t, tp.router), mrtSrc, mrtGroup)
	if !ok || e.Iif != int(up) || e.Oifs != MIFSet(0).Add(down) {
		t.Fatalf("/proc/net/ip6_mr_cache: %+v (found %v), want iif %d oifs {%d}", e, ok, up, down)
	}
	routes := mrtIPMroutes(t, tp.router, 0)
	want := []mrtIPRoute{{Src: mrtSrc.String(), Group: mrtGroup.String(), Iif: "up0", Oifs: []string{"down0"}, State: "resolved"}}
	if !slices.EqualFunc(routes, want, mrtRouteEqual) {
		t.Fatalf("ip -6 mroute: %+v, want %+v", routes, want)
	}

	l := tp.listen(t, mrtGroup)
	const n = 10
	var bytes uint64
	for i := range n {
		bytes += mrtPacketBytes(mrtGroup, i)
	}
	tp.send(t, mrtGroup, 0, n)
	got := l.receive(t, n, 3*time.Second)
	if len(got) != n {
		t.Fatalf("receiver got %d packets, want %d", len(got), n)
	}
	for i, p := range got {
		if string(p) != string(mrtPayload(mrtGroup, i)) {
			t.Errorf("packet %d: %q, want %q", i, p, mrtPayload(mrtGroup, i))
		}
	}

	sg, err := m.SGCount(mrtSrc, mrtGroup)
	if err != nil {
		t.Fatal(err)
	}
	if want := (SGCounters{Packets: n, Bytes: bytes}); sg != want {
		t.Errorf("SGCount = %+v, want %+v", sg, want)
	}
	cUp, err := m.MIFCount(up)
	if err != nil {
		t.Fatal(err)
	}
	cDown, err := m.MIFCount(down)
	if err != nil {
		t.Fatal(err)
	}
	if want := (MIFCounters{InPackets: n, InBytes: bytes}); cUp != want {
		t.Errorf("MIFCount(up) = %+v, want %+v", cUp, want)
	}
	if want := (MIFCounters{OutPackets: n, OutBytes: bytes}); cDown != want {
		t.Errorf("MIFCount(down) = %+v, want %+v", cDown, want)
	}
	// The same counters through /proc (checks the ioctl structs' layout
	// against the kernel's own formatting).
	e, _ = mrtFindProcMFC(mrtProcMFCs(t, tp.router), mrtSrc, mrtGroup)
	if e.Pkts != sg.Packets || e.Bytes != sg.Bytes || e.Wrong != sg.WrongIf {
		t.Errorf("/proc MFC counters %+v, SGCount %+v", e, sg)
	}
	for _, p := range mrtProcMIFs(t, tp.router) {
		c := map[MIF]MIFCounters{up: cUp, down: cDown}[p.MIF]
		if p.PktsIn != c.InPackets || p.BytesIn != c.InBytes || p.PktsOut != c.OutPackets || p.BytesOut != c.OutBytes {
			t.Errorf("/proc MIF %d counters %+v, MIFCount %+v", p.MIF, p, c)
		}
	}

	if err := m.DelMFC(mrtSrc, mrtGroup); err != nil {
		t.Fatal(err)
	}
	if _, ok := mrtFindProcMFC(mrtProcMFCs(t, tp.router), mrtSrc, mrtGroup); ok {
		t.Fatal("the entry is still in /proc/net/ip6_mr_cache after DelMFC")
	}
	if _, err := m.SGCount(mrtSrc, mrtGroup); !errors.Is(err, ErrNoMFC) {
		t.Errorf("SGCount of a deleted entry: %v, want ErrNoMFC", err)
	}
	tp.send(t, mrtGroup, n, 3)
	if u, skipped, ok := mrtWaitUpcall(t, m, 2*time.Second, mrtSG(NoCache, mrtGroup)); !ok || u.MIF != up {
		t.Fatalf("after DelMFC: NOCACHE upcall %+v (found %v, others %+v), want one on MIF %d", u, ok, skipped, up)
	}
	if got := l.receive(t, 0, 300*time.Millisecond); len(got) != 0 {
		t.Fatalf("receiver got %d packets after DelMFC, want none", len(got))
	}
	err = m.DelMFC(mrtSrc, mrtGroup)
	if !errors.Is(err, ErrNoMFC) || !errors.Is(err, unix.ENOENT) {
		t.Fatalf("DelMFC of an absent entry: %v, want ErrNoMFC and ENOENT", err)
	}
}

func mrtRouteEqual(a, b mrtIPRoute) bool {
	ao, bo := slices.Clone(a.Oifs), slices.Clone(b.Oifs)
	slices.Sort(ao)
	slices.Sort(bo)
	return a.Src == b.Src && a.Group == b.Group && a.Iif == b.Iif && a.State == b.State && slices.Equal(ao, bo)
}

// An (S,G) without an entry comes up once as NOCACHE with the arrival MIF;
// the kernel keeps the packets, and forwards them once the entry is set.
// Traffic on an interface that is not a MIF makes no upcall.
func TestMRTUpcallNoCache(t *testing.T) {
	tp := newMRTTopo(t)
	m := tp.openMRT(t, MRTConfig{})
	down := mrtAddMIF(t, m, tp.down)
	l := tp.listen(t, mrtGroup)

	// up0 is no MIF yet: nothing to report.
	tp.send(t, mrtGroup, 0, 1)
	if u, _, ok := mrtWaitUpcall(t, m, 300*time.Millisecond, func(Upcall) bool { return true }); ok {
		t.Fatalf("upcall %+v for traffic on an interface that is no MIF", u)
	}

	up := mrtAddMIF(t, m, tp.up)
	tp.send(t, mrtGroup, 1, 3)
	u, skipped, ok := mrtWaitUpcall(t, m, 2*time.Second, mrtSG(NoCache, mrtGroup))
	if !ok {
		t.Fatalf("no NOCACHE upcall (others: %+v)", skipped)
	}
	if want := (Upcall{Type: NoCache, MIF: up, Src: mrtSrc, Dst: mrtGroup}); u.Type != want.Type || u.MIF != want.MIF || u.Src != want.Src || u.Dst != want.Dst || u.Packet != nil {
		t.Fatalf("upcall %+v, want %+v", u, want)
	}
	// One report per unresolved (S,G), not one per packet.
	if u, _, ok := mrtWaitUpcall(t, m, 300*time.Millisecond, func(Upcall) bool { return true }); ok {
		t.Fatalf("second upcall %+v for the same unresolved (S,G)", u)
	}
	if st := m.Stats(); st != (MRTStats{NoCache: 1}) {
		t.Errorf("Stats = %+v, want one NOCACHE", st)
	}

	// Resolving forwards the queued packets.
	mrtSetMFC(t, m, mrtSrc, mrtGroup, up, MIFSet(0).Add(down))
	got := l.receive(t, 3, 2*time.Second)
	if len(got) != 3 {
		t.Fatalf("receiver got %d of the 3 queued packets", len(got))
	}
	for i, p := range got {
		if string(p) != string(mrtPayload(mrtGroup, 1+i)) {
			t.Errorf("queued packet %d: %q, want %q", i, p, mrtPayload(mrtGroup, 1+i))
		}
	}
}

// With PIM on, a packet on a MIF other than its entry's iif comes up as
// WRONGMIF and, since we ask for it, WRMIFWHOLE with the whole packet.
// The kernel reports at most once per entry per 3 s (MFC_ASSERT_THRESH);
// the wrong_if counter counts every packet. With PIM off nothing comes up.
func TestMRTUpcallWrongMIF(t *testing.T) {
	tp := newMRTTopo(t)
	m := tp.openMRT(t, MRTConfig{})
	up, down := mrtAddMIF(t, m, tp.up), mrtAddMIF(t, m, tp.down)
	l := tp.listen(t, mrtGroup)
	// The entry expects the group from the receiver's side.
	mrtSetMFC(t, m, mrtSrc, mrtGroup, down, MIFSet(0).Add(up))

	tp.send(t, mrtGroup, 0, 1)
	if u, _, ok := mrtWaitUpcall(t, m, 300*time.Millisecond, func(Upcall) bool { return true }); ok {
		t.Fatalf("upcall %+v with PIM off", u)
	}

	if err := m.EnablePIM(true); err != nil {
		t.Fatal(err)
	}
	tp.send(t, mrtGroup, 1, 1)
	var wrong, whole *Upcall
	deadline := time.Now().Add(2 * time.Second)
	for (wrong == nil || whole == nil) && time.Now().Before(deadline) {
		u, _, ok := mrtWaitUpcall(t, m, time.Until(deadline), func(u Upcall) bool { return u.Src == mrtSrc && u.Dst == mrtGroup })
		if !ok {
			break
		}
		switch u.Type {
		case WrongMIF:
			if whole != nil {
				t.Error("WRMIFWHOLE came before WRONGMIF")
			}
			wrong = &u
		case WrongMIFWhole:
			whole = &u
		default:
			t.Fatalf("unexpected upcall %+v", u)
		}
	}
	if wrong == nil {
		t.Fatal("no WRONGMIF upcall")
	}
	if wrong.MIF != up || wrong.Packet != nil {
		t.Errorf("WRONGMIF on MIF %d with %d bytes of packet, want MIF %d (the arrival MIF) and none", wrong.MIF, len(wrong.Packet), up)
	}
	if whole == nil {
		t.Fatal("no WRMIFWHOLE upcall (kernel older than 4.19?)")
	}
	if whole.MIF != up {
		t.Errorf("WRMIFWHOLE on MIF %d, want %d", whole.MIF, up)
	}
	mrtCheckUDP(t, whole.Packet, mrtGroup, 1)

	// Within MFC_ASSERT_THRESH the kernel stays quiet, but counts.
	tp.send(t, mrtGroup, 2, 2)
	if u, _, ok := mrtWaitUpcall(t, m, 500*time.Millisecond, func(Upcall) bool { return true }); ok {
		t.Fatalf("upcall %+v within the 3 s assert rate limit", u)
	}
	sg, err := m.SGCount(mrtSrc, mrtGroup)
	if err != nil {
		t.Fatal(err)
	}
	// The kernel counts every packet of the (S,G) in Packets and Bytes,
	// those on the wrong MIF too.
	var bytes uint64
	for i := range 4 {
		bytes += mrtPacketBytes(mrtGroup, i)
	}
	if want := (SGCounters{Packets: 4, Bytes: bytes, WrongIf: 4}); sg != want {
		t.Errorf("SGCount = %+v, want %+v", sg, want)
	}
	if got := l.receive(t, 0, 100*time.Millisecond); len(got) != 0 {
		t.Errorf("receiver got %d packets that arrived on the wrong MIF", len(got))
	}
	if st := m.Stats(); st != (MRTStats{WrongMIF: 1, WrongMIFWhole: 1}) {
		t.Errorf("Stats = %+v", st)
	}
	if err := m.EnablePIM(false); err != nil {
		t.Fatal(err)
	}
}

// Packets an entry forwards to the register MIF come up whole as
// WHOLEPKT; the kernel names the device pim6reg in the default table.
func TestMRTUpcallWholePkt(t *testing.T) {
	tp := newMRTTopo(t)
	m := tp.openMRT(t, MRTConfig{})
	up, down := mrtAddMIF(t, m, tp.up), mrtAddMIF(t, m, tp.down)
	reg, err := m.AddRegisterMIF()
	if err != nil {
		t.Fatal(err)
	}
	if dev := m.RegisterDevice(); dev != "pim6reg" {
		t.Errorf("RegisterDevice() = %q in the default table, want pim6reg", dev)
	}
	regIdx := tp.router.IfIndex("pim6reg")
	if got := m.MIFs(); !slices.Equal(got, []MIFEntry{{0, tp.up, false}, {1, tp.down, false}, {reg, regIdx, true}}) {
		t.Errorf("MIFs() = %+v", got)
	}
	if again, err := m.AddRegisterMIF(); err != nil || again != reg {
		t.Errorf("second AddRegisterMIF = %d, %v; want the existing %d", again, err, reg)
	}
	for _, e := range mrtProcMIFs(t, tp.router) {
		if e.MIF == reg && (e.Name != "pim6reg" || e.Flags != miffRegister) {
			t.Errorf("/proc register MIF: %+v, want pim6reg with flags MIFF_REGISTER", e)
		}
	}

	mrtSetMFC(t, m, mrtSrc, mrtGroup, up, MIFSet(0).Add(down).Add(reg))
	l := tp.listen(t, mrtGroup)
	const n = 3
	tp.send(t, mrtGroup, 0, n)
	if got := l.receive(t, n, 2*time.Second); len(got) != n {
		t.Errorf("receiver got %d packets, want %d", len(got), n)
	}
	for i := range n {
		u, skipped, ok := mrtWaitUpcall(t, m, 2*time.Second, mrtSG(WholePkt, mrtGroup))
		if !ok {
			t.Fatalf("WHOLEPKT %d: none (others %+v)", i, skipped)
		}
		if u.MIF != reg {
			t.Errorf("WHOLEPKT on MIF %d, want the register MIF %d", u.MIF, reg)
		}
		mrtCheckUDP(t, u.Packet, mrtGroup, i)
		if i == 0 {
			t.Logf("WHOLEPKT: %d bytes of packet, hop limit %d (sent with 16)", len(u.Packet), u.Packet[7])
		}
	}
	c, err := m.MIFCount(reg)
	if err != nil {
		t.Fatal(err)
	}
	if c.OutPackets != n {
		t.Errorf("MIFCount(register) = %+v, want %d packets out", c, n)
	}
}

// Two sockets own two tables of one namespace side by side; a table has
// one owner; Close gives it back.
func TestMRTTables(t *testing.T) {
	tp := newMRTTopo(t)
	g1, g2, g3 := mrtGroup, mrtGroup2, netip.MustParseAddr("ff3e::4321:9abc")

	m100 := tp.openMRT(t, MRTConfig{Table: 100})
	m200 := tp.openMRT(t, MRTConfig{Table: 200})
	if m100.Table() != 100 || m200.Table() != 200 {
		t.Fatalf("Table() = %d, %d", m100.Table(), m200.Table())
	}
	up100, down100 := mrtAddMIF(t, m100, tp.up), mrtAddMIF(t, m100, tp.down)
	mrtSetMFC(t, m100, mrtSrc, g1, up100, MIFSet(0).Add(down100))
	down200 := mrtAddMIF(t, m200, tp.down)
	reg200, err := m200.AddRegisterMIF()
	if err != nil {
		t.Fatal(err)
	}
	if down200 != 0 || reg200 != 1 {
		t.Errorf("table 200 MIFs %d, %d; each table has its own slots from 0", down200, reg200)
	}
	if dev := m200.RegisterDevice(); dev != "pim6reg200" {
		t.Errorf("RegisterDevice() = %q, want pim6reg200", dev)
	}
	if idx := tp.router.IfIndex("pim6reg200"); m200.MIFs()[1].IfIndex != idx {
		t.Errorf("register MIF ifindex %d, pim6reg200 is %d", m200.MIFs()[1].IfIndex, idx)
	}
	mrtSetMFC(t, m200, mrtSrc, g2, down200, MIFSet(0).Add(reg200))

	want100 := []mrtIPRoute{{Src: mrtSrc.String(), Group: g1.String(), Iif: "up0", Oifs: []string{"down0"}, State: "resolved"}}
	want200 := []mrtIPRoute{{Src: mrtSrc.String(), Group: g2.String(), Iif: "down0", Oifs: []string{"pim6reg200"}, State: "resolved"}}
	if got := mrtIPMroutes(t, tp.router, 100); !slices.EqualFunc(got, want100, mrtRouteEqual) {
		t.Errorf("table 100: %+v, want %+v", got, want100)
	}
	if got := mrtIPMroutes(t, tp.router, 200); !slices.EqualFunc(got, want200, mrtRouteEqual) {
		t.Errorf("table 200: %+v, want %+v", got, want200)
	}
	if got := mrtProcMIFs(t, tp.router); len(got) != 0 {
		t.Errorf("the default table has MIFs %+v", got)
	}

	// A table has one owner.
	for _, table := range []uint32{100, 200} {
		err := tp.router.Do(func() error {
			m, err := OpenMRT(MRTConfig{Table: table})
			if err == nil {
				m.Close()
			}
			return err
		})
		if !errors.Is(err, ErrTableInUse) || !errors.Is(err, unix.EADDRINUSE) {
			t.Errorf("second OpenMRT of table %d: %v, want ErrTableInUse and EADDRINUSE", table, err)
		}
	}

	// Packets go to the table an mrule chooses; so do the upcalls.
	tp.router.MustRun("ip", "-6", "mrule", "add", "iif", "up0", "lookup", "100")
	tp.send(t, g3, 0, 1)
	if u, skipped, ok := mrtWaitUpcall(t, m100, 2*time.Second, mrtSG(NoCache, g3)); !ok || u.MIF != up100 {
		t.Errorf("table 100 NOCACHE: %+v (found %v, others %+v), want on MIF %d", u, ok, skipped, up100)
	}
	if u, _, ok := mrtWaitUpcall(t, m200, 200*time.Millisecond, func(Upcall) bool { return true }); ok {
		t.Errorf("table 200 got upcall %+v for traffic of table 100", u)
	}

	// Closing table 100 clears it and leaves table 200 alone.
	if err := m100.Close(); err != nil {
		t.Fatal(err)
	}
	if got := mrtIPMroutes(t, tp.router, 100); len(got) != 0 {
		t.Errorf("table 100 after Close: %+v", got)
	}
	if got := mrtIPMroutes(t, tp.router, 200); !slices.EqualFunc(got, want200, mrtRouteEqual) {
		t.Errorf("table 200 after closing 100: %+v, want %+v", got, want200)
	}
	m := tp.openMRT(t, MRTConfig{Table: 100}) // free again
	if got := m.MIFs(); len(got) != 0 {
		t.Errorf("new MRT of table 100 has MIFs %+v", got)
	}
}

// The default table has one owner too.
func TestMRTDefaultTableInUse(t *testing.T) {
	ns := netns.New(t, "rtr")
	mrtOpenIn(t, ns, MRTConfig{})
	err := ns.Do(func() error {
		m, err := OpenMRT(MRTConfig{})
		if err == nil {
			m.Close()
		}
		return err
	})
	if !errors.Is(err, ErrTableInUse) || !errors.Is(err, unix.EADDRINUSE) {
		t.Fatalf("second OpenMRT of the default table: %v, want ErrTableInUse and EADDRINUSE", err)
	}
	t.Logf("the error reads: %v", err)
}

// Close removes the table's MIFs, entries and pim6reg device, turns
// mc_forwarding off and unblocks a reader.
func TestMRTCloseRemovesState(t *testing.T) {
	tp := newMRTTopo(t)
	m := tp.openMRT(t, MRTConfig{})
	up, down := mrtAddMIF(t, m, tp.up), mrtAddMIF(t, m, tp.down)
	if _, err := m.AddRegisterMIF(); err != nil {
		t.Fatal(err)
	}
	mrtSetMFC(t, m, mrtSrc, mrtGroup, up, MIFSet(0).Add(down))
	if n := len(mrtProcMIFs(t, tp.router)); n != 3 {
		t.Fatalf("%d MIFs in /proc, want 3", n)
	}
	if n := len(mrtProcMFCs(t, tp.router)); n != 1 {
		t.Fatalf("%d entries in /proc, want 1", n)
	}
	if f := strings.TrimSpace(tp.router.MustRun("cat", "/proc/sys/net/ipv6/conf/all/mc_forwarding")); f != "1" {
		t.Errorf("mc_forwarding = %s with an MRT open, want 1", f)
	}

	readErr := make(chan error, 1)
	go func() {
		_, err := m.ReadUpcall()
		readErr <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the reader block (it returns either way)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readErr:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadUpcall after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not unblock ReadUpcall")
	}

	if got := mrtProcMIFs(t, tp.router); len(got) != 0 {
		t.Errorf("MIFs after Close: %+v", got)
	}
	if got := mrtProcMFCs(t, tp.router); len(got) != 0 {
		t.Errorf("entries after Close: %+v", got)
	}
	if out, err := tp.router.Run("ip", "link", "show", "pim6reg"); err == nil {
		t.Errorf("pim6reg still exists after Close: %s", out)
	}
	if f := strings.TrimSpace(tp.router.MustRun("cat", "/proc/sys/net/ipv6/conf/all/mc_forwarding")); f != "0" {
		t.Errorf("mc_forwarding = %s after Close, want 0", f)
	}
	if _, err := m.AddMIF(tp.up); !errors.Is(err, net.ErrClosed) {
		t.Errorf("AddMIF after Close: %v, want net.ErrClosed", err)
	}
	if err := m.SetMFC(mrtSrc, mrtGroup, 0, 0); err == nil {
		t.Error("SetMFC after Close succeeded")
	}
	if err := m.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}
	tp.openMRT(t, MRTConfig{}) // the table is free again
}

// 32 MIFs fit, the 33rd is ErrNoFreeMIF; slots are reused, also when an
// interface goes away and comes back; entries can use MIFs up to 31.
func TestMRTMIFLimitAndReuse(t *testing.T) {
	ns := netns.New(t, "rtr")
	idx := mrtDummies(t, ns, "d", MaxMIFs+1)
	m := mrtOpenIn(t, ns, MRTConfig{})

	if _, err := m.AddMIF(99999); err == nil {
		t.Error("AddMIF of an ifindex above 65535 succeeded")
	}
	if _, err := m.AddMIF(60000); !errors.Is(err, unix.EADDRNOTAVAIL) {
		t.Errorf("AddMIF of a missing interface: %v, want EADDRNOTAVAIL", err)
	}
	for i := range MaxMIFs {
		if mif := mrtAddMIF(t, m, idx[i]); mif != MIF(i) {
			t.Fatalf("AddMIF(d%d) = %d, want %d", i, mif, i)
		}
	}
	names := mrtProcMIFNames(t, ns)
	if len(names) != MaxMIFs {
		t.Fatalf("%d MIFs in /proc, want %d", len(names), MaxMIFs)
	}
	for i := range MaxMIFs {
		if names[MIF(i)] != fmt.Sprintf("d%d", i) {
			t.Errorf("/proc MIF %d is %q, want d%d", i, names[MIF(i)], i)
		}
	}
	if _, err := m.AddMIF(idx[MaxMIFs]); !errors.Is(err, ErrNoFreeMIF) {
		t.Fatalf("33rd AddMIF: %v, want ErrNoFreeMIF", err)
	}
	if mif, err := m.AddMIF(idx[3]); err != nil || mif != 3 {
		t.Errorf("AddMIF of d3 again = %d, %v; want the existing MIF 3", mif, err)
	}

	// The high MIFs reach the kernel's interface set.
	oifs := MIFSet(0).Add(1).Add(3).Add(30).Add(31)
	mrtSetMFC(t, m, mrtSrc, mrtGroup, 0, oifs)
	if e, ok := mrtFindProcMFC(mrtProcMFCs(t, ns), mrtSrc, mrtGroup); !ok || e.Iif != 0 || e.Oifs != oifs {
		t.Errorf("/proc entry %+v (found %v), want iif 0 oifs %v", e, ok, oifs)
	}

	// A deleted MIF's slot is the next one given.
	if err := m.DelMIF(5); err != nil {
		t.Fatal(err)
	}
	if _, ok := mrtProcMIFNames(t, ns)[5]; ok {
		t.Error("MIF 5 still in /proc after DelMIF")
	}
	if mif := mrtAddMIF(t, m, idx[MaxMIFs]); mif != 5 {
		t.Errorf("AddMIF after DelMIF(5) = %d, want 5", mif)
	}
	if name := mrtProcMIFNames(t, ns)[5]; name != fmt.Sprintf("d%d", MaxMIFs) {
		t.Errorf("/proc MIF 5 is %q, want d%d", name, MaxMIFs)
	}

	// An interface that goes away loses its MIF in the kernel; DelMIF
	// frees our slot; the interface comes back (a new ifindex) and gets
	// the slot again.
	ns.MustRun("ip", "link", "del", "d7")
	if _, ok := mrtProcMIFNames(t, ns)[7]; ok {
		t.Fatal("the kernel kept MIF 7 of a deleted interface")
	}
	if err := m.DelMIF(7); err != nil {
		t.Fatalf("DelMIF of a MIF whose interface is gone: %v, want nil", err)
	}
	ns.MustRun("sh", "-ec", "ip link add d7 type dummy 2>/dev/null || ip link add d7 type ifb; ip link set d7 multicast on up")
	newIdx := ns.IfIndex("d7")
	if mif := mrtAddMIF(t, m, newIdx); mif != 7 {
		t.Errorf("AddMIF of the new d7 = %d, want 7", mif)
	}
	if name := mrtProcMIFNames(t, ns)[7]; name != "d7" {
		t.Errorf("/proc MIF 7 is %q, want d7", name)
	}
	if mif, ok := m.LookupMIF(newIdx); !ok || mif != 7 {
		t.Errorf("LookupMIF(new d7) = %d, %v", mif, ok)
	}
	if err := m.DelMIF(7); err != nil {
		t.Fatal(err)
	}
	if err := m.DelMIF(7); !errors.Is(err, ErrUnknownMIF) {
		t.Errorf("DelMIF of a free slot: %v, want ErrUnknownMIF", err)
	}
	if err := m.DelMIF(MaxMIFs); !errors.Is(err, ErrUnknownMIF) {
		t.Errorf("DelMIF(32): %v, want ErrUnknownMIF", err)
	}
	if len(m.MIFs()) != MaxMIFs-1 {
		t.Errorf("%d MIFs, want %d", len(m.MIFs()), MaxMIFs-1)
	}
}

// The entry installed is the one asked for: iif and exactly the oifs
// (a wrong struct mf6cctl layout installs an entry without oifs); a
// second SetMFC replaces it; bad arguments are refused before the kernel.
func TestMRTMFCInstall(t *testing.T) {
	ns := netns.New(t, "rtr")
	idx := mrtDummies(t, ns, "d", 4)
	m := mrtOpenIn(t, ns, MRTConfig{})
	for i := range idx {
		mrtAddMIF(t, m, idx[i])
	}
	check := func(iif MIF, oifs MIFSet) {
		t.Helper()
		mfcs := mrtProcMFCs(t, ns)
		if len(mfcs) != 1 {
			t.Fatalf("/proc has %d entries, want 1: %+v", len(mfcs), mfcs)
		}
		if e := mfcs[0]; e.Origin != mrtSrc || e.Group != mrtGroup || e.Iif != int(iif) || e.Oifs != oifs {
			t.Errorf("/proc entry %+v, want (%v,%v) iif %d oifs %v", e, mrtSrc, mrtGroup, iif, oifs)
		}
		var names []string
		for _, o := range oifs.MIFs() {
			names = append(names, fmt.Sprintf("d%d", o))
		}
		want := []mrtIPRoute{{Src: mrtSrc.String(), Group: mrtGroup.String(), Iif: fmt.Sprintf("d%d", iif), Oifs: names, State: "resolved"}}
		if got := mrtIPMroutes(t, ns, 0); !slices.EqualFunc(got, want, mrtRouteEqual) {
			t.Errorf("ip -6 mroute: %+v, want %+v", got, want)
		}
	}
	mrtSetMFC(t, m, mrtSrc, mrtGroup, 0, MIFSet(0).Add(1).Add(3))
	check(0, MIFSet(0).Add(1).Add(3))
	mrtSetMFC(t, m, mrtSrc, mrtGroup, 2, MIFSet(0).Add(0).Add(3))
	check(2, MIFSet(0).Add(0).Add(3))
	mrtSetMFC(t, m, mrtSrc, mrtGroup, 1, 0)
	check(1, 0)

	// The check above sees a wrong layout: the same request packed
	// without the 2 bytes of padding before the interface set is taken by
	// the kernel, which installs the entry with no oifs.
	c := mrtMFC(mrtSrc, mrtGroup, 0, MIFSet(0).Add(1).Add(3))
	b := unsafe.Slice((*byte)(unsafe.Pointer(&c)), unsafe.Sizeof(c))
	packed := make([]byte, len(b))
	copy(packed, b[:58])
	copy(packed[58:], b[60:])
	if err := m.setsockopt(mrt6AddMFC, unsafe.Pointer(&packed[0]), uintptr(len(packed))); err != nil {
		t.Fatalf("packed mf6cctl refused: %v", err)
	}
	if e := mrtProcMFCs(t, ns)[0]; e.Iif != 0 || e.Oifs != 0 {
		t.Fatalf("packed mf6cctl installed iif %d oifs %v; the kernel used to install no oifs", e.Iif, e.Oifs)
	}
	mrtSetMFC(t, m, mrtSrc, mrtGroup, 1, 0)
	check(1, 0)

	for _, c := range []struct {
		name     string
		src, grp netip.Addr
		iif      MIF
		oifs     MIFSet
		unknown  bool
	}{
		{"unknown oif", mrtSrc, mrtGroup, 0, MIFSet(0).Add(5), true},
		{"unknown iif", mrtSrc, mrtGroup, 4, MIFSet(0).Add(1), true},
		{"iif beyond MaxMIFs", mrtSrc, mrtGroup, 40, 0, true},
		{"unicast group", mrtSrc, netip.MustParseAddr("2001:db8::1"), 0, 0, false},
		{"IPv4 source", netip.MustParseAddr("192.0.2.1"), mrtGroup, 0, 0, false},
		{"no source", netip.Addr{}, mrtGroup, 0, 0, false},
	} {
		err := m.SetMFC(c.src, c.grp, c.iif, c.oifs)
		if err == nil || errors.Is(err, ErrUnknownMIF) != c.unknown {
			t.Errorf("%s: SetMFC error %v (ErrUnknownMIF wanted: %v)", c.name, err, c.unknown)
		}
	}
	check(1, 0) // unchanged

	if err := m.DelMFC(mrtSrc, mrtGroup); err != nil {
		t.Fatal(err)
	}
	if got := mrtProcMFCs(t, ns); len(got) != 0 {
		t.Errorf("/proc after DelMFC: %+v", got)
	}
}

// An entry with the unspecified source, (::,G), is what Linux calls a
// proxy entry: it matches a packet of any source only if the packet's
// arrival MIF is among the entry's oifs, and does not send it back there.
func TestMRTMFCAnySource(t *testing.T) {
	tp := newMRTTopo(t)
	m := tp.openMRT(t, MRTConfig{})
	up, down := mrtAddMIF(t, m, tp.up), mrtAddMIF(t, m, tp.down)
	l := tp.listen(t, mrtGroup)
	anySrc := netip.IPv6Unspecified()

	mrtSetMFC(t, m, anySrc, mrtGroup, up, MIFSet(0).Add(down))
	if e, ok := mrtFindProcMFC(mrtProcMFCs(t, tp.router), anySrc, mrtGroup); !ok || e.Iif != int(up) || e.Oifs != MIFSet(0).Add(down) {
		t.Fatalf("/proc (::,G) entry %+v (found %v)", e, ok)
	}
	tp.send(t, mrtGroup, 0, 1)
	if _, skipped, ok := mrtWaitUpcall(t, m, 2*time.Second, mrtSG(NoCache, mrtGroup)); !ok {
		t.Fatalf("(::,G) without the arrival MIF in its oifs: no NOCACHE (others %+v)", skipped)
	}
	if got := l.receive(t, 0, 200*time.Millisecond); len(got) != 0 {
		t.Fatalf("forwarded %d packets", len(got))
	}

	mrtSetMFC(t, m, anySrc, mrtGroup, up, MIFSet(0).Add(up).Add(down))
	// The packet queued by the NOCACHE stays queued (it waits for an
	// (S,G) entry); new ones match the (::,G) entry.
	tp.send(t, mrtGroup, 1, 2)
	if got := l.receive(t, 2, 2*time.Second); len(got) != 2 {
		t.Fatalf("receiver got %d packets through the (::,G) entry, want 2", len(got))
	}
	sg, err := m.SGCount(anySrc, mrtGroup)
	if err != nil {
		t.Fatal(err)
	}
	if sg.Packets != 2 {
		t.Errorf("SGCount(::,G) = %+v, want 2 packets", sg)
	}
	if c, _ := m.MIFCount(up); c.OutPackets != 0 {
		t.Errorf("(::,G) sent %d packets back out of their arrival MIF", c.OutPackets)
	}
	if err := m.DelMFC(anySrc, mrtGroup); err != nil {
		t.Fatal(err)
	}
}

// Flush removes what its flags say; our MIF bookkeeping follows. MIFs
// added by another socket are static and survive FlushMIFs; our AddMIF
// steps over their slots.
func TestMRTFlush(t *testing.T) {
	ns := netns.New(t, "rtr")
	idx := mrtDummies(t, ns, "d", 4)
	m := mrtOpenIn(t, ns, MRTConfig{})

	// A static MIF in slot 0, added through another socket (root may).
	var other int
	if err := ns.Do(func() (err error) {
		other, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(other)
	ctl := mrtMIF6ctl{Mifi: 0, Pifi: uint16(idx[3]), Threshold: 1}
	if err := mrtSetsockopt(uintptr(other), unix.IPPROTO_IPV6, mrt6AddMIF, unsafe.Pointer(&ctl), unsafe.Sizeof(ctl)); err != nil {
		t.Fatalf("static MIF: %v", err)
	}

	for i := range 3 {
		if mif := mrtAddMIF(t, m, idx[i]); mif != MIF(i+1) {
			t.Errorf("AddMIF(d%d) = %d, want %d (slot 0 is taken by the static MIF)", i, mif, i+1)
		}
	}
	reg, err := m.AddRegisterMIF()
	if err != nil {
		t.Fatal(err)
	}
	if reg != 4 {
		t.Errorf("register MIF %d, want 4", reg)
	}
	mrtSetMFC(t, m, mrtSrc, mrtGroup, 1, MIFSet(0).Add(2).Add(reg))
	mrtSetMFC(t, m, mrtSrc, mrtGroup2, 2, MIFSet(0).Add(3))

	if err := m.Flush(FlushMFC); err != nil {
		t.Fatal(err)
	}
	if got := mrtProcMFCs(t, ns); len(got) != 0 {
		t.Errorf("entries after Flush(FlushMFC): %+v", got)
	}
	if n := len(mrtProcMIFs(t, ns)); n != 5 || len(m.MIFs()) != 4 {
		t.Errorf("after Flush(FlushMFC): %d MIFs in /proc (want 5), %d ours (want 4)", n, len(m.MIFs()))
	}

	if err := m.Flush(FlushMIFs); err != nil {
		t.Fatal(err)
	}
	if got, want := mrtProcMIFNames(t, ns), map[MIF]string{0: "d3"}; !maps.Equal(got, want) {
		t.Errorf("after Flush(FlushMIFs): /proc MIFs %v, want only the static %v", got, want)
	}
	if got := m.MIFs(); len(got) != 0 {
		t.Errorf("our MIFs after Flush(FlushMIFs): %+v", got)
	}
	if out, err := ns.Run("ip", "link", "show", "pim6reg"); err == nil {
		t.Errorf("pim6reg survived Flush(FlushMIFs): %s", out)
	}
	if mif := mrtAddMIF(t, m, idx[2]); mif != 1 {
		t.Errorf("AddMIF after the flush = %d, want 1", mif)
	}

	if err := m.Flush(FlushMIFsStatic); err != nil {
		t.Fatal(err)
	}
	if got, want := mrtProcMIFNames(t, ns), map[MIF]string{1: "d2"}; !maps.Equal(got, want) {
		t.Errorf("after Flush(FlushMIFsStatic): /proc MIFs %v, want ours %v", got, want)
	}
	if got := m.MIFs(); len(got) != 1 || got[0].MIF != 1 {
		t.Errorf("our MIFs after Flush(FlushMIFsStatic): %+v, want MIF 1", got)
	}
	if mif := mrtAddMIF(t, m, idx[0]); mif != 0 {
		t.Errorf("AddMIF into the freed static slot = %d, want 0", mif)
	}
	if _, err := m.AddRegisterMIF(); err != nil {
		t.Errorf("AddRegisterMIF after the flush: %v", err)
	}
}

// The ICMPv6 filter keeps ordinary ICMPv6 off the socket; upcalls come
// past it. Without the filter an Echo Request shows up, and is skipped
// and counted as not an upcall.
func TestMRTICMPv6Filter(t *testing.T) {
	tp := newMRTTopo(t)
	m := tp.openMRT(t, MRTConfig{})
	mrtAddMIF(t, m, tp.up)

	tp.sender.MustRun("ping", "-6", "-c", "1", "-W", "2", "2001:db8:1::1")
	tp.send(t, mrtGroup, 0, 1)
	if _, skipped, ok := mrtWaitUpcall(t, m, 2*time.Second, mrtSG(NoCache, mrtGroup)); !ok || len(skipped) != 0 {
		t.Fatalf("NOCACHE found %v, upcalls before it %+v", ok, skipped)
	}
	if st := m.Stats(); st != (MRTStats{NoCache: 1}) {
		t.Errorf("Stats with the filter = %+v, want one NOCACHE and nothing skipped", st)
	}

	var pass unix.ICMPv6Filter // all zero: pass every type
	var serr error
	if err := m.rc.Control(func(fd uintptr) {
		serr = mrtSetsockopt(fd, unix.SOL_ICMPV6, unix.ICMPV6_FILTER, unsafe.Pointer(&pass), unsafe.Sizeof(pass))
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	tp.sender.MustRun("ping", "-6", "-c", "1", "-W", "2", "2001:db8:1::1")
	tp.send(t, mrtGroup2, 0, 1)
	if _, skipped, ok := mrtWaitUpcall(t, m, 2*time.Second, mrtSG(NoCache, mrtGroup2)); !ok || len(skipped) != 0 {
		t.Fatalf("NOCACHE found %v, upcalls before it %+v", ok, skipped)
	}
	if st := m.Stats(); st.NonZeroMBZ == 0 || st.NoCache != 2 {
		t.Errorf("Stats without the filter = %+v, want the Echo Request counted as NonZeroMBZ", st)
	}
}
