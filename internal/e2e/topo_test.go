package e2e

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/ipv6"

	"github.com/pim6sd/pim6sd/internal/netns"
)

// link connects a and b with a veth pair and gives each end a fixed
// link-local address (so PIM neighbors are predictable) and optionally a
// global one.
func link(t *testing.T, a *netns.NS, aIf, aLL, aGlobal string, b *netns.NS, bIf, bLL, bGlobal string) {
	t.Helper()
	netns.Veth(t, a, aIf, b, bIf)
	for _, e := range []struct {
		ns             *netns.NS
		ifname, ll, gl string
	}{{a, aIf, aLL, aGlobal}, {b, bIf, bLL, bGlobal}} {
		if e.ll != "" {
			// Only the fixed link-local address: routers use it as their
			// PIM address, and FRR picks the kernel's generated one if it
			// is there.
			e.ns.MustRun("ip", "-6", "addr", "flush", "dev", e.ifname, "scope", "link")
			e.ns.AddAddr(e.ifname, e.ll+"/64")
		}
		if e.gl != "" {
			e.ns.AddAddr(e.ifname, e.gl)
		}
	}
}

func router(t *testing.T, label string) *netns.NS {
	n := newNS(t, label)
	n.Sysctl("net.ipv6.conf.all.forwarding", "1")
	return n
}

// receiver is a host socket joined to (S,G) (or (*,G)) that counts what
// arrives. A goroutine reads all the time, so that a burst does not
// overflow the socket's receive buffer while the test is sending.
type receiver struct {
	t    *testing.T
	conn *ipv6.PacketConn
	raw  net.PacketConn
	ifi  *net.Interface
	grp  net.IP
	src  net.IP

	mu   sync.Mutex
	got  map[string]int
	last time.Time
}

func joinSSM(t *testing.T, ns *netns.NS, ifname, source, group string, port int) *receiver {
	t.Helper()
	r := &receiver{t: t, grp: net.ParseIP(group), src: net.ParseIP(source)}
	if err := ns.Do(func() error {
		c, err := net.ListenPacket("udp6", fmt.Sprintf("[::]:%d", port))
		if err != nil {
			return err
		}
		r.raw = c
		r.conn = ipv6.NewPacketConn(c)
		r.ifi, err = net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		if source == "" {
			return r.conn.JoinGroup(r.ifi, &net.UDPAddr{IP: r.grp})
		}
		return r.conn.JoinSourceSpecificGroup(r.ifi, &net.UDPAddr{IP: r.grp}, &net.UDPAddr{IP: r.src})
	}); err != nil {
		t.Fatalf("join (%s,%s) in %s: %v", source, group, ns.Name, err)
	}
	r.got = map[string]int{}
	go r.read()
	t.Cleanup(func() { r.raw.Close() })
	return r
}

func (r *receiver) read() {
	buf := make([]byte, 2048)
	for {
		n, _, err := r.raw.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		r.mu.Lock()
		r.got[string(buf[:n])]++
		r.last = time.Now()
		r.mu.Unlock()
	}
}

func (r *receiver) leave() {
	r.t.Helper()
	var err error
	if r.src == nil {
		err = r.conn.LeaveGroup(r.ifi, &net.UDPAddr{IP: r.grp})
	} else {
		err = r.conn.LeaveSourceSpecificGroup(r.ifi, &net.UDPAddr{IP: r.grp}, &net.UDPAddr{IP: r.src})
	}
	if err != nil {
		r.t.Fatal(err)
	}
}

// count waits until nothing has arrived for quiet, and returns how many
// datagrams with each payload arrived since the last count.
func (r *receiver) count(quiet time.Duration) map[string]int {
	for {
		time.Sleep(quiet / 4)
		r.mu.Lock()
		if time.Since(r.last) >= quiet {
			got := r.got
			r.got = map[string]int{}
			r.mu.Unlock()
			return got
		}
		r.mu.Unlock()
	}
}

// sender sends UDP datagrams to a group from a host namespace.
type sender struct {
	conn *ipv6.PacketConn
	raw  net.PacketConn
	dst  *net.UDPAddr
}

func newSender(t *testing.T, ns *netns.NS, ifname, group string, port int) *sender {
	t.Helper()
	s := &sender{dst: &net.UDPAddr{IP: net.ParseIP(group), Port: port}}
	if err := ns.Do(func() error {
		c, err := net.ListenPacket("udp6", "[::]:0")
		if err != nil {
			return err
		}
		s.raw = c
		s.conn = ipv6.NewPacketConn(c)
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		if err := s.conn.SetMulticastInterface(ifi); err != nil {
			return err
		}
		return s.conn.SetMulticastHopLimit(16)
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.raw.Close() })
	return s
}

func (s *sender) send(t *testing.T, payload string) {
	t.Helper()
	if _, err := s.raw.WriteTo([]byte(payload), s.dst); err != nil {
		t.Fatal(err)
	}
}
