package kernel

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6sd/pim6sd/internal/netns"
	"github.com/pim6sd/pim6sd/internal/pcapread"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
	"golang.org/x/sys/unix"
)

func pimPtr[T any](v T) *T { return &v }

func pimCaptured(p pcapread.Packet) bool { return p.Proto == unix.IPPROTO_PIM }

// A Hello sent to ff02::d by one router is received by the other with the
// facts the engine checks, and is on the wire exactly as pimmsg built it.
func TestPIMHelloMulticast(t *testing.T) {
	a, b := topoPair(t, "pima", "pimb")
	ca := topoOpenPIM(t, a.ns)
	cb := topoOpenPIM(t, b.ns)
	if err := cb.Join(b.index); err != nil {
		t.Fatal(err)
	}
	hello := &pimmsg.Hello{Holdtime: pimPtr[uint16](105), DRPriority: pimPtr[uint32](7), GenerationID: pimPtr[uint32](0xdecafbad)}
	msg, err := pimmsg.Marshal(hello, a.ll, AllPIMRouters)
	if err != nil {
		t.Fatal(err)
	}
	capt := b.ns.Capture("p0", "ip6")
	if err := ca.WriteTo(msg, a.index, a.ll, AllPIMRouters); err != nil {
		t.Fatal(err)
	}
	seen := topoCollect(t, cb, func(p topoPkt) bool { return p.info.Src == a.ll })
	p := seen[len(seen)-1]
	want := RecvInfo{IfIndex: b.index, Src: a.ll, Dst: AllPIMRouters, HopLimit: 1}
	if p.info != want {
		t.Errorf("RecvInfo = %+v, want %+v", p.info, want)
	}
	if !bytes.Equal(p.b, msg) {
		t.Errorf("received\n% x\nwant\n% x", p.b, msg)
	}
	if v := pimmsg.VerifyChecksum(p.b, p.info.Src, p.info.Dst); v != pimmsg.ChecksumOK {
		t.Errorf("checksum: %v", v)
	}
	got, err := pimmsg.Parse(p.b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(pimmsg.Message(hello), got); diff != "" {
		t.Errorf("Hello (-want +got):\n%s", diff)
	}
	cp := topoCaptured(t, capt, pimCaptured)
	if cp.Src != a.ll || cp.Dst != AllPIMRouters || cp.HopLimit != 1 || cp.RouterAlert || !bytes.Equal(cp.Payload, msg) {
		t.Errorf("captured %v>%v hop limit %d router alert %v\n% x\nwant %v>%v 1 false\n% x",
			cp.Src, cp.Dst, cp.HopLimit, cp.RouterAlert, cp.Payload, a.ll, AllPIMRouters, msg)
	}
}

// topoLine is r1 - r2 - r3 with global addresses, r2 forwarding and static
// routes, so that r1 and r3 reach each other's global address through r2.
type topoLine struct {
	r1, r3     topoEnd // p0 of r1 and r3
	g1, g3     netip.Addr
	r2         *netns.NS
	r2p0, r2p1 string
}

func topoRoutedLine(t *testing.T) topoLine {
	t.Helper()
	n1, n2, n3 := netns.New(t, "r1"), netns.New(t, "r2"), netns.New(t, "r3")
	netns.Veth(t, n1, "p0", n2, "p0")
	netns.Veth(t, n2, "p1", n3, "p0")
	n2.Sysctl("net.ipv6.conf.all.forwarding", "1")
	n1.AddAddr("p0", "2001:db8:1::1/64")
	n2.AddAddr("p0", "2001:db8:1::2/64")
	n2.AddAddr("p1", "2001:db8:2::2/64")
	n3.AddAddr("p0", "2001:db8:2::3/64")
	n1.MustRun("ip", "-6", "route", "add", "2001:db8:2::/64", "via", "2001:db8:1::2")
	n3.MustRun("ip", "-6", "route", "add", "2001:db8:1::/64", "via", "2001:db8:2::2")
	return topoLine{
		r1: topoEndOf(t, n1, "p0"), r3: topoEndOf(t, n3, "p0"),
		g1: netip.MustParseAddr("2001:db8:1::1"), g3: netip.MustParseAddr("2001:db8:2::3"),
		r2: n2, r2p0: "p0", r2p1: "p1",
	}
}

// A Register from r1 to r3 and a Register-Stop back, unicast between global
// addresses across a router: received with the right facts (hop limit 64
// less the one router), exactly as sent, and with checksums that verify.
// A Register-Stop sent with no source chosen gets the kernel's choice.
func TestPIMUnicastRouted(t *testing.T) {
	l := topoRoutedLine(t)
	c1 := topoOpenPIM(t, l.r1.ns)
	c3 := topoOpenPIM(t, l.r3.ns)
	source, group := netip.MustParseAddr("2001:db8:1::99"), netip.MustParseAddr("ff3e::1")

	// A data Register: the source's packet, an IPv6 header and 8 octets
	// of UDP.
	inner := topoIPv6Packet(source, group, 64, nil, unix.IPPROTO_UDP, []byte{0x30, 0x39, 0x30, 0x39, 0, 8, 0, 0})
	reg, err := pimmsg.Marshal(&pimmsg.Register{Packet: inner}, l.g1, l.g3)
	if err != nil {
		t.Fatal(err)
	}
	capt := l.r3.ns.Capture("p0", "ip6")
	if err := c1.WriteTo(reg, 0, l.g1, l.g3); err != nil {
		t.Fatal(err)
	}
	seen := topoCollect(t, c3, func(p topoPkt) bool { return p.info.Src == l.g1 })
	p := seen[len(seen)-1]
	if want := (RecvInfo{IfIndex: l.r3.index, Src: l.g1, Dst: l.g3, HopLimit: 63}); p.info != want {
		t.Errorf("Register: RecvInfo = %+v, want %+v", p.info, want)
	}
	if !bytes.Equal(p.b, reg) {
		t.Errorf("Register received\n% x\nwant\n% x", p.b, reg)
	}
	if v := pimmsg.VerifyChecksum(p.b, p.info.Src, p.info.Dst); v != pimmsg.ChecksumOK {
		t.Errorf("Register checksum: %v", v)
	}
	cp := topoCaptured(t, capt, pimCaptured)
	if cp.Src != l.g1 || cp.Dst != l.g3 || cp.HopLimit != 63 || !bytes.Equal(cp.Payload, reg) {
		t.Errorf("captured Register %v>%v hop limit %d\n% x\nwant %v>%v 63\n% x", cp.Src, cp.Dst, cp.HopLimit, cp.Payload, l.g1, l.g3, reg)
	}
	topoTcpdumpSays(t, capt.Path, "Register", "(correct)")

	stop := &pimmsg.RegisterStop{Group: pimmsg.Group{Addr: group, MaskLen: 128}, Source: source}
	rs, err := pimmsg.Marshal(stop, l.g3, l.g1)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []netip.Addr{l.g3, {}} {
		if err := c3.WriteTo(rs, 0, src, l.g1); err != nil {
			t.Fatal(err)
		}
		seen = topoCollect(t, c1, func(p topoPkt) bool { return p.info.Src == l.g3 })
		p = seen[len(seen)-1]
		if want := (RecvInfo{IfIndex: l.r1.index, Src: l.g3, Dst: l.g1, HopLimit: 63}); p.info != want {
			t.Errorf("Register-Stop from %v: RecvInfo = %+v, want %+v", src, p.info, want)
		}
		if !bytes.Equal(p.b, rs) || pimmsg.VerifyChecksum(p.b, p.info.Src, p.info.Dst) != pimmsg.ChecksumOK {
			t.Errorf("Register-Stop from %v received\n% x\nwant\n% x", src, p.b, rs)
		}
	}
}

// Linux neither computes nor verifies PIM checksums: IPV6_CHECKSUM is off
// by default on a protocol 103 raw socket (and OpenPIM keeps it off), and a
// Hello with a wrong checksum goes out and comes in unchanged.
func TestPIMKernelLeavesChecksum(t *testing.T) {
	a, b := topoPair(t, "pimca", "pimcb")
	topoDo(t, a.ns, func() error {
		s, err := openRawSock(unix.IPPROTO_PIM)
		if err != nil {
			return err
		}
		defer s.close()
		if v, err := s.getInt(unix.IPPROTO_IPV6, unix.IPV6_CHECKSUM); err != nil || v != -1 {
			t.Errorf("IPV6_CHECKSUM by default on a protocol 103 raw socket: %d (%v), want -1 (off)", v, err)
		}
		return nil
	})
	ca := topoOpenPIM(t, a.ns)
	if v, err := ca.s.getInt(unix.IPPROTO_IPV6, unix.IPV6_CHECKSUM); err != nil || v != -1 {
		t.Errorf("OpenPIM: IPV6_CHECKSUM = %d (%v), want -1 (off)", v, err)
	}
	cb := topoOpenPIM(t, b.ns)
	if err := cb.Join(b.index); err != nil {
		t.Fatal(err)
	}
	msg, err := pimmsg.Marshal(&pimmsg.Hello{Holdtime: pimPtr[uint16](105)}, a.ll, AllPIMRouters)
	if err != nil {
		t.Fatal(err)
	}
	bad := slices.Clone(msg)
	binary.BigEndian.PutUint16(bad[2:], binary.BigEndian.Uint16(bad[2:])^0x5a5a)
	capt := b.ns.Capture("p0", "ip6")
	if err := ca.WriteTo(bad, a.index, a.ll, AllPIMRouters); err != nil {
		t.Fatal(err)
	}
	seen := topoCollect(t, cb, func(p topoPkt) bool { return p.info.Src == a.ll })
	p := seen[len(seen)-1]
	if !bytes.Equal(p.b, bad) {
		t.Errorf("received\n% x\nwant (as sent)\n% x", p.b, bad)
	}
	if v := pimmsg.VerifyChecksum(p.b, p.info.Src, p.info.Dst); v != pimmsg.ChecksumBad {
		t.Errorf("checksum verdict %v, want bad", v)
	}
	if cp := topoCaptured(t, capt, pimCaptured); !bytes.Equal(cp.Payload, bad) {
		t.Errorf("captured\n% x\nwant (as sent)\n% x", cp.Payload, bad)
	}
}

// Join makes the interface a member of ff02::d; Leave undoes it.
func TestPIMJoinLeave(t *testing.T) {
	a, _ := topoPair(t, "pimja", "pimjb")
	c := topoOpenPIM(t, a.ns)
	member := func() bool {
		return bytes.Contains([]byte(a.ns.MustRun("ip", "-6", "maddr", "show", "dev", "p0")), []byte("inet6 ff02::d\n"))
	}
	if member() {
		t.Fatal("ff02::d joined before Join")
	}
	if err := c.Join(a.index); err != nil {
		t.Fatal(err)
	}
	if !member() {
		t.Error("ff02::d not joined after Join")
	}
	if err := c.Leave(a.index); err != nil {
		t.Fatal(err)
	}
	if member() {
		t.Error("ff02::d still joined after Leave")
	}
}
