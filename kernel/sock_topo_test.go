package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/netns"
	"github.com/pim6sd/pim6sd/internal/pcapread"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// Topology helpers shared by the MLD and PIM socket tests: namespaces joined
// by veth pairs, the facts a test needs about each end, sockets opened
// inside a namespace, and reading with a deadline.

// topoTimeout bounds every wait for a packet: long enough for a loaded CI
// machine, short enough that a failing test fails quickly.
const topoTimeout = 5 * time.Second

// topoEnd is one end of a link: its namespace, interface and addresses.
type topoEnd struct {
	ns     *netns.NS
	ifname string
	index  int
	ll     netip.Addr // link-local address, no zone
}

// topoPair creates two namespaces joined by a veth pair (interface p0 on
// both sides) and waits for both link-local addresses.
func topoPair(t *testing.T, la, lb string) (a, b topoEnd) {
	t.Helper()
	na, nb := netns.New(t, la), netns.New(t, lb)
	netns.Veth(t, na, "p0", nb, "p0")
	return topoEndOf(t, na, "p0"), topoEndOf(t, nb, "p0")
}

// topoEndOf looks up ifname in ns and waits for its link-local address,
// which the kernel adds once the link has carrier.
func topoEndOf(t *testing.T, ns *netns.NS, ifname string) topoEnd {
	t.Helper()
	return topoEnd{ns: ns, ifname: ifname, index: ns.IfIndex(ifname), ll: ns.LinkLocal(ifname)}
}

// topoDo runs fn inside ns and fails the test on error.
func topoDo(t *testing.T, ns *netns.NS, fn func() error) {
	t.Helper()
	if err := ns.Do(fn); err != nil {
		t.Fatalf("in %s: %v", ns.Name, err)
	}
}

func topoOpenMLD(t *testing.T, ns *netns.NS) *MLDConn {
	t.Helper()
	var c *MLDConn
	topoDo(t, ns, func() (err error) { c, err = OpenMLD(); return err })
	t.Cleanup(func() { c.Close() })
	return c
}

func topoOpenPIM(t *testing.T, ns *netns.NS) *PIMConn {
	t.Helper()
	var c *PIMConn
	topoDo(t, ns, func() (err error) { c, err = OpenPIM(); return err })
	t.Cleanup(func() { c.Close() })
	return c
}

// topoMRT6Init turns multicast routing on in ns the way the daemon does: a
// raw ICMPv6 socket with MRT6_INIT (include/uapi/linux/mroute6.h:
// MRT6_BASE 200), kept open until the test ends. It checks that the kernel
// then reports net.ipv6.conf.all.mc_forwarding = 1.
func topoMRT6Init(t *testing.T, ns *netns.NS) {
	t.Helper()
	const mrt6Init = 200
	fd := -1
	topoDo(t, ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
		if err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, mrt6Init, 1); err != nil {
			unix.Close(fd)
			return fmt.Errorf("MRT6_INIT: %w", err)
		}
		return nil
	})
	t.Cleanup(func() { unix.Close(fd) })
	if got := strings.TrimSpace(ns.MustRun("sysctl", "-n", "net.ipv6.conf.all.mc_forwarding")); got != "1" {
		t.Fatalf("after MRT6_INIT, net.ipv6.conf.all.mc_forwarding = %s, want 1", got)
	}
}

// topoListen makes ns a listener of group on ifindex, as an application
// would: a UDP socket that joins the group (ASM, or SSM with one source if
// source is valid). The kernel then sends unsolicited Reports. The socket
// stays open until the test ends.
func topoListen(t *testing.T, ns *netns.NS, ifindex int, group, source netip.Addr) {
	t.Helper()
	var c net.PacketConn
	topoDo(t, ns, func() error {
		var err error
		c, err = net.ListenPacket("udp6", "[::]:0")
		if err != nil {
			return err
		}
		p := ipv6.NewPacketConn(c)
		ifi := &net.Interface{Index: ifindex}
		g := &net.UDPAddr{IP: group.AsSlice()}
		if source.IsValid() {
			err = p.JoinSourceSpecificGroup(ifi, g, &net.UDPAddr{IP: source.AsSlice()})
		} else {
			err = p.JoinGroup(ifi, g)
		}
		if err != nil {
			c.Close()
		}
		return err
	})
	t.Cleanup(func() { c.Close() })
}

// topoPkt is one received packet.
type topoPkt struct {
	b    []byte
	info RecvInfo
}

func (p topoPkt) String() string {
	return fmt.Sprintf("if%d %v>%v hl%d ra=%v % x", p.info.IfIndex, p.info.Src, p.info.Dst, p.info.HopLimit, p.info.RouterAlert, p.b)
}

type topoReader interface {
	ReadFrom([]byte) (int, RecvInfo, error)
	SetReadDeadline(time.Time) error
}

// topoCollect reads from r until stop accepts a packet and returns every
// packet read, the accepted one last. It fails the test if none is
// accepted within topoTimeout.
func topoCollect(t *testing.T, r topoReader, stop func(topoPkt) bool) []topoPkt {
	t.Helper()
	if err := r.SetReadDeadline(time.Now().Add(topoTimeout)); err != nil {
		t.Fatal(err)
	}
	defer r.SetReadDeadline(time.Time{})
	var seen []topoPkt
	buf := make([]byte, 65536)
	for {
		n, info, err := r.ReadFrom(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			var s strings.Builder
			for _, p := range seen {
				fmt.Fprintf(&s, "\n\t%v", p)
			}
			t.Fatalf("no awaited packet within %v; read %d others:%s", topoTimeout, len(seen), s.String())
		}
		if err != nil {
			t.Fatalf("ReadFrom: %v", err)
		}
		p := topoPkt{b: append([]byte(nil), buf[:n]...), info: info}
		seen = append(seen, p)
		if stop(p) {
			return seen
		}
	}
}

// topoIPv6Packet builds a whole IPv6 packet: header, an optional hop-by-hop
// options header (hbh, a multiple of 8 octets with Next Header left 0),
// and the upper-layer payload of protocol proto.
func topoIPv6Packet(src, dst netip.Addr, hopLimit uint8, hbh []byte, proto uint8, payload []byte) []byte {
	b := make([]byte, 40, 40+len(hbh)+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(hbh)+len(payload)))
	b[6] = proto
	if len(hbh) > 0 {
		b[6] = 0 // hop-by-hop
	}
	b[7] = hopLimit
	s, d := src.As16(), dst.As16()
	copy(b[8:24], s[:])
	copy(b[24:40], d[:])
	if len(hbh) > 0 {
		h := append([]byte(nil), hbh...)
		h[0] = proto
		b = append(b, h...)
	}
	return append(b, payload...)
}

// topoSendRaw sends a whole IPv6 packet, header included, from ns out of
// ifindex through an IPPROTO_RAW socket, so that the kernel changes
// nothing in it: this is how a test sends what our sockets would refuse
// to (a wrong checksum, no Router Alert).
func topoSendRaw(t *testing.T, ns *netns.NS, ifindex int, pkt []byte) {
	t.Helper()
	dst := [16]byte(pkt[24:40])
	topoDo(t, ns, func() error {
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifindex); err != nil {
			return err
		}
		if err := unix.BindToDevice(fd, topoIfname(ifindex)); err != nil {
			return err
		}
		return unix.Sendto(fd, pkt, 0, &unix.SockaddrInet6{Addr: dst, ZoneId: uint32(ifindex)})
	})
}

// topoIfname is called inside the namespace (topoDo).
func topoIfname(i int) string {
	ifi, err := net.InterfaceByIndex(i)
	if err != nil {
		return ""
	}
	return ifi.Name
}

// topoCaptured waits until capt has written a packet match accepts
// (tcpdump runs with -U, so the file holds every packet as it comes), then
// stops the capture and returns that packet.
func topoCaptured(t *testing.T, capt *netns.Capture, match func(pcapread.Packet) bool) pcapread.Packet {
	t.Helper()
	deadline := time.Now().Add(topoTimeout)
	for {
		pkts, _ := pcapread.ReadFile(capt.Path) // a half-written last record is fine
		for _, p := range pkts {
			if match(p) {
				capt.Stop()
				return p
			}
		}
		if time.Now().After(deadline) {
			pkts := capt.Stop()
			t.Fatalf("not captured within %v (%d packets)", topoTimeout, len(pkts))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// topoRouterAlertSocket opens, in ns, an IPPROTO_RAW socket registered
// with IPV6_ROUTER_ALERT for value sel, the only kind of socket Linux lets
// register; it is closed when the test ends.
func topoRouterAlertSocket(t *testing.T, ns *netns.NS, sel int) int {
	t.Helper()
	fd := -1
	topoDo(t, ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_ROUTER_ALERT, sel); err != nil {
			unix.Close(fd)
			return fmt.Errorf("IPV6_ROUTER_ALERT on IPPROTO_RAW: %w", err)
		}
		return nil
	})
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// topoRawDrops returns the drop counter of the raw socket for proto in
// e's namespace (the last column of /proc/net/raw6; the local "address" of
// a raw socket is :: with the protocol as its port). It expects exactly
// one such socket.
func topoRawDrops(t *testing.T, e topoEnd, proto int) int {
	t.Helper()
	out := e.ns.MustRun("cat", "/proc/net/raw6")
	key := fmt.Sprintf("00000000000000000000000000000000:%04X", proto)
	drops := -1
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && f[1] == key {
			if drops >= 0 {
				t.Fatalf("more than one raw socket for protocol %d:\n%s", proto, out)
			}
			if _, err := fmt.Sscan(f[len(f)-1], &drops); err != nil {
				t.Fatalf("/proc/net/raw6: %v:\n%s", err, out)
			}
		}
	}
	if drops < 0 {
		t.Fatalf("no raw socket for protocol %d:\n%s", proto, out)
	}
	return drops
}
