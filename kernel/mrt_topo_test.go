package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/ipv6"

	"github.com/pim6sd/pim6sd/internal/netns"
)

// Shared topology of the MRT integration tests:
//
//	sender ns [s0 2001:db8:1::2] --- [up0 2001:db8:1::1] router ns [down0 2001:db8:2::1] --- [v0 2001:db8:2::2] receiver ns
//
// The router forwards; the sender sends UDP to a global-scope group with a
// hop limit above 1; the receiver joins the group on a UDP socket.

var (
	mrtGroup  = netip.MustParseAddr("ff3e::4321:1234")
	mrtGroup2 = netip.MustParseAddr("ff3e::4321:5678")
	mrtSrc    = netip.MustParseAddr("2001:db8:1::2")
)

const mrtPort = 5001

type mrtTopo struct {
	sender, router, receiver *netns.NS
	up, down                 int // router ifindexes: up0 (towards the sender), down0 (towards the receiver)
	tx                       *net.UDPConn
}

func newMRTTopo(t *testing.T) *mrtTopo {
	t.Helper()
	tp := &mrtTopo{
		sender:   netns.New(t, "snd"),
		router:   netns.New(t, "rtr"),
		receiver: netns.New(t, "rcv"),
	}
	netns.Veth(t, tp.sender, "s0", tp.router, "up0")
	netns.Veth(t, tp.router, "down0", tp.receiver, "v0")
	tp.sender.AddAddr("s0", "2001:db8:1::2/64")
	tp.router.AddAddr("up0", "2001:db8:1::1/64")
	tp.router.AddAddr("down0", "2001:db8:2::1/64")
	tp.receiver.AddAddr("v0", "2001:db8:2::2/64")
	tp.router.Sysctl("net.ipv6.conf.all.forwarding", "1")
	tp.up = tp.router.IfIndex("up0")
	tp.down = tp.router.IfIndex("down0")

	// The sender's socket: bound to its global address, multicast out of
	// s0 with a hop limit the router can decrement.
	if err := tp.sender.Do(func() error {
		ifi, err := net.InterfaceByName("s0")
		if err != nil {
			return err
		}
		c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: mrtSrc.AsSlice()})
		if err != nil {
			return err
		}
		p := ipv6.NewPacketConn(c)
		if err := errors.Join(p.SetMulticastInterface(ifi), p.SetMulticastHopLimit(16)); err != nil {
			c.Close()
			return err
		}
		tp.tx = c
		return nil
	}); err != nil {
		t.Fatalf("sender socket: %v", err)
	}
	t.Cleanup(func() { tp.tx.Close() })
	return tp
}

// openMRT opens an MRT in the router namespace, closed when the test ends.
func (tp *mrtTopo) openMRT(t *testing.T, cfg MRTConfig) *MRT {
	t.Helper()
	return mrtOpenIn(t, tp.router, cfg)
}

func mrtOpenIn(t *testing.T, ns *netns.NS, cfg MRTConfig) *MRT {
	t.Helper()
	var m *MRT
	if err := ns.Do(func() (err error) {
		m, err = OpenMRT(cfg)
		return err
	}); err != nil {
		t.Fatalf("OpenMRT(%+v) in %s: %v", cfg, ns.Name, err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// mrtPayload is the UDP payload of the i-th test packet to grp.
func mrtPayload(grp netip.Addr, i int) []byte {
	return fmt.Appendf(nil, "pim6sd mrt test %v #%d", grp, i)
}

// send sends n packets to grp from the sender, payloads mrtPayload(grp, i)
// for i = first, first+1, ...
func (tp *mrtTopo) send(t *testing.T, grp netip.Addr, first, n int) {
	t.Helper()
	to := &net.UDPAddr{IP: grp.AsSlice(), Port: mrtPort}
	for i := first; i < first+n; i++ {
		if _, err := tp.tx.WriteToUDP(mrtPayload(grp, i), to); err != nil {
			t.Fatalf("send #%d to %v: %v", i, grp, err)
		}
	}
}

// mrtListener is a UDP socket in the receiver namespace joined to a group.
type mrtListener struct{ c *net.UDPConn }

func (tp *mrtTopo) listen(t *testing.T, grp netip.Addr) *mrtListener {
	t.Helper()
	var l mrtListener
	if err := tp.receiver.Do(func() error {
		ifi, err := net.InterfaceByName("v0")
		if err != nil {
			return err
		}
		l.c, err = net.ListenMulticastUDP("udp6", ifi, &net.UDPAddr{IP: grp.AsSlice(), Port: mrtPort})
		return err
	}); err != nil {
		t.Fatalf("receiver joins %v: %v", grp, err)
	}
	t.Cleanup(func() { l.c.Close() })
	return &l
}

// receive reads until want packets arrived or wait passed, and returns
// the payloads. With want 0 it reads for the whole of wait (to show that
// nothing arrives).
func (l *mrtListener) receive(t *testing.T, want int, wait time.Duration) [][]byte {
	t.Helper()
	var got [][]byte
	buf := make([]byte, 2048)
	if err := l.c.SetReadDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	for want == 0 || len(got) < want {
		n, _, err := l.c.ReadFromUDP(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("receiver: %v", err)
		}
		got = append(got, append([]byte(nil), buf[:n]...))
	}
	return got
}

// mrtWaitUpcall reads upcalls until one satisfies match or timeout passes.
// It returns the matching one and those it skipped.
func mrtWaitUpcall(t *testing.T, m *MRT, timeout time.Duration, match func(Upcall) bool) (Upcall, []Upcall, bool) {
	t.Helper()
	if err := m.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	defer m.SetReadDeadline(time.Time{})
	var skipped []Upcall
	for {
		u, err := m.ReadUpcall()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return Upcall{}, skipped, false
		}
		if err != nil {
			t.Fatalf("ReadUpcall: %v", err)
		}
		if match(u) {
			return u, skipped, true
		}
		skipped = append(skipped, u)
	}
}

// mrtSG matches upcalls of one type for (mrtSrc, grp).
func mrtSG(typ UpcallType, grp netip.Addr) func(Upcall) bool {
	return func(u Upcall) bool { return u.Type == typ && u.Src == mrtSrc && u.Dst == grp }
}

// mrtProcMIF is a line of /proc/net/ip6_mr_vif (default table only).
type mrtProcMIF struct {
	MIF                                MIF
	Name                               string
	BytesIn, PktsIn, BytesOut, PktsOut uint64
	Flags                              uint64
}

func mrtProcMIFs(t *testing.T, ns *netns.NS) []mrtProcMIF {
	t.Helper()
	out := ns.MustRun("cat", "/proc/net/ip6_mr_vif")
	var mifs []mrtProcMIF
	for _, l := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) != 7 {
			t.Fatalf("ip6_mr_vif line %q", l)
		}
		var e mrtProcMIF
		n := mrtAtoi(t, f[0])
		e.MIF, e.Name = MIF(n), f[1]
		e.BytesIn, e.PktsIn = mrtAtoi(t, f[2]), mrtAtoi(t, f[3])
		e.BytesOut, e.PktsOut = mrtAtoi(t, f[4]), mrtAtoi(t, f[5])
		fl, err := strconv.ParseUint(f[6], 16, 32)
		if err != nil {
			t.Fatalf("ip6_mr_vif flags %q: %v", f[6], err)
		}
		e.Flags = fl
		mifs = append(mifs, e)
	}
	return mifs
}

// mrtProcMFC is a line of /proc/net/ip6_mr_cache (default table only).
type mrtProcMFC struct {
	Group, Origin      netip.Addr
	Iif                int // -1 for an unresolved entry
	Pkts, Bytes, Wrong uint64
	Oifs               MIFSet
	Unresolved         bool // no oifs column: an entry of the unresolved queue
}

func mrtProcMFCs(t *testing.T, ns *netns.NS) []mrtProcMFC {
	t.Helper()
	out := ns.MustRun("cat", "/proc/net/ip6_mr_cache")
	var mfcs []mrtProcMFC
	for _, l := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) < 6 {
			t.Fatalf("ip6_mr_cache line %q", l)
		}
		var e mrtProcMFC
		var err error
		if e.Group, err = netip.ParseAddr(f[0]); err != nil {
			t.Fatalf("ip6_mr_cache group in %q: %v", l, err)
		}
		if e.Origin, err = netip.ParseAddr(f[1]); err != nil {
			t.Fatalf("ip6_mr_cache origin in %q: %v", l, err)
		}
		if e.Iif, err = strconv.Atoi(f[2]); err != nil {
			t.Fatalf("ip6_mr_cache iif in %q: %v", l, err)
		}
		e.Pkts, e.Bytes, e.Wrong = mrtAtoi(t, f[3]), mrtAtoi(t, f[4]), mrtAtoi(t, f[5])
		// Each oif is "mif:ttl".
		for _, o := range f[6:] {
			mif, _, ok := strings.Cut(o, ":")
			if !ok {
				t.Fatalf("ip6_mr_cache oif %q in %q", o, l)
			}
			e.Oifs = e.Oifs.Add(MIF(mrtAtoi(t, mif)))
		}
		mfcs = append(mfcs, e)
	}
	return mfcs
}

func mrtFindProcMFC(mfcs []mrtProcMFC, src, grp netip.Addr) (mrtProcMFC, bool) {
	for _, e := range mfcs {
		if e.Origin == src && e.Group == grp {
			return e, true
		}
	}
	return mrtProcMFC{}, false
}

func mrtAtoi(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return n
}

// mrtIPRoute is an entry of `ip -6 -json mroute show table N`.
type mrtIPRoute struct {
	Src   string
	Group string
	Iif   string
	Oifs  []string // interface names, in the order ip prints them
	State string
}

// mrtIPMroutes lists the entries of a table (0 for the default, 254) as
// iproute2 shows them (over netlink: this works for every table, where
// /proc shows only the default one).
func mrtIPMroutes(t *testing.T, ns *netns.NS, table uint32) []mrtIPRoute {
	t.Helper()
	if table == 0 {
		table = rt6TableDefault
	}
	out := ns.MustRun("ip", "-6", "-json", "mroute", "show", "table", strconv.FormatUint(uint64(table), 10))
	if strings.TrimSpace(out) == "" {
		return nil
	}
	var raw []struct {
		Src       string `json:"src"`
		Dst       string `json:"dst"`
		Iif       string `json:"iif"`
		State     string `json:"state"`
		Multipath []struct {
			Oif string `json:"oif"`
		} `json:"multipath"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("ip -json mroute: %v: %s", err, out)
	}
	var routes []mrtIPRoute
	for _, r := range raw {
		e := mrtIPRoute{Src: r.Src, Group: r.Dst, Iif: r.Iif, State: r.State}
		for _, o := range r.Multipath {
			e.Oifs = append(e.Oifs, o.Oif)
		}
		routes = append(routes, e)
	}
	return routes
}
