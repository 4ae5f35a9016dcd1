package kernel

import (
	"bytes"
	"errors"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/pim6sd/pim6sd/internal/pcapread"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
	"golang.org/x/sys/unix"
)

var mldAllNodes = netip.MustParseAddr("ff02::1")

// mldRecord returns the record for group in a received MLDv2 Report.
func mldRecord(p topoPkt, group netip.Addr) (mldmsg.Record, bool) {
	m, err := mldmsg.Parse(p.b)
	if err != nil {
		return mldmsg.Record{}, false
	}
	r, ok := m.(*mldmsg.ReportV2)
	if !ok {
		return mldmsg.Record{}, false
	}
	for _, rec := range r.Records {
		if rec.Group == group {
			return rec, true
		}
	}
	return mldmsg.Record{}, false
}

// checkMLDInfo checks what every MLD message from a host must look like
// (RFC 3810 section 5: link-local source, hop limit 1, Router Alert) and
// that its checksum, which the kernel verified, verifies.
func checkMLDInfo(t *testing.T, p topoPkt, router, host topoEnd, dst netip.Addr) {
	t.Helper()
	want := RecvInfo{IfIndex: router.index, Src: host.ll, Dst: dst, HopLimit: 1, RouterAlert: true}
	if p.info != want {
		t.Errorf("RecvInfo = %+v, want %+v", p.info, want)
	}
	if !mldmsg.VerifyChecksum(p.b, p.info.Src, p.info.Dst) {
		t.Errorf("checksum of the received message does not verify: % x", p.b)
	}
}

// A Linux host that starts listening sends unsolicited MLDv2 Reports to
// ff02::16; after Join, and with nothing else (no MRT6_INIT), the router's
// socket gets them with the facts the engine checks.
func TestMLDReceiveV2Report(t *testing.T) {
	for _, tc := range []struct {
		name          string
		group, source netip.Addr
		want          mldmsg.Record
	}{
		{
			name:  "asm",
			group: netip.MustParseAddr("ff05::4242"),
			want:  mldmsg.Record{Type: mldmsg.ChangeToExclude, Group: netip.MustParseAddr("ff05::4242")},
		},
		{
			name:   "ssm",
			group:  netip.MustParseAddr("ff3e::4242"),
			source: netip.MustParseAddr("2001:db8::7"),
			want: mldmsg.Record{Type: mldmsg.AllowNewSources, Group: netip.MustParseAddr("ff3e::4242"),
				Sources: []netip.Addr{netip.MustParseAddr("2001:db8::7")}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, h := topoPair(t, "mldr", "mldh")
			c := topoOpenMLD(t, r.ns)
			if err := c.Join(r.index); err != nil {
				t.Fatal(err)
			}
			topoListen(t, h.ns, h.index, tc.group, tc.source)
			seen := topoCollect(t, c, func(p topoPkt) bool {
				_, ok := mldRecord(p, tc.group)
				return ok && p.info.Src == h.ll
			})
			p := seen[len(seen)-1]
			checkMLDInfo(t, p, r, h, AllMLDv2Routers)
			rec, _ := mldRecord(p, tc.group)
			if rec.Type != tc.want.Type || rec.Group != tc.want.Group || !slices.Equal(rec.Sources, tc.want.Sources) {
				t.Errorf("record = %+v, want %+v", rec, tc.want)
			}
		})
	}
}

// A host forced to MLDv1 reports to the group address itself; the router
// receives it once multicast routing is on (MRT6_INIT).
func TestMLDReceiveV1Report(t *testing.T) {
	r, h := topoPair(t, "mld1r", "mld1h")
	h.ns.Sysctl("net.ipv6.conf.p0.force_mld_version", "1")
	topoMRT6Init(t, r.ns)
	c := topoOpenMLD(t, r.ns)
	if err := c.Join(r.index); err != nil {
		t.Fatal(err)
	}
	group := netip.MustParseAddr("ff05::4243")
	topoListen(t, h.ns, h.index, group, netip.Addr{})
	seen := topoCollect(t, c, func(p topoPkt) bool {
		m, err := mldmsg.Parse(p.b)
		rep, ok := m.(*mldmsg.ReportV1)
		return err == nil && ok && rep.Group == group
	})
	checkMLDInfo(t, seen[len(seen)-1], r, h, group)
}

// TestMLDV1ReportDelivery is the evidence for what a Linux router needs to
// receive MLDv1 Reports, which go to the group address: each case has the
// host send one Report (crafted whole, so that the Router Alert option can
// be left out), then a marker the router surely receives (a Done to
// ff02::2, which Join covers); packets on a veth keep their order, so
// whether the Report came before the marker says whether the kernel
// delivered it.
func TestMLDV1ReportDelivery(t *testing.T) {
	site := netip.MustParseAddr("ff05::1:5")
	link := netip.MustParseAddr("ff02::1:5")
	marker := netip.MustParseAddr("ff05::ffff")
	for _, tc := range []struct {
		name            string
		group           netip.Addr
		mrt6Init        bool // multicast routing on: all.mc_forwarding = 1
		routerAlertOpt  bool // an IPPROTO_RAW socket with IPV6_ROUTER_ALERT 0
		routerListens   bool // the router itself listens to the group
		noRouterAlertIn bool // the Report lacks the Router Alert option
		want            bool
	}{
		{name: "plain", group: site, want: false},
		{name: "ipv6-router-alert-sockopt", group: site, routerAlertOpt: true, want: false},
		{name: "router-listens", group: site, routerListens: true, want: true},
		{name: "mrt6-init", group: site, mrt6Init: true, want: true},
		{name: "mrt6-init-no-router-alert", group: site, mrt6Init: true, noRouterAlertIn: true, want: false},
		{name: "mrt6-init-link-scope-group", group: link, mrt6Init: true, want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, h := topoPair(t, "mlddr", "mlddh")
			if tc.mrt6Init {
				topoMRT6Init(t, r.ns)
			}
			c := topoOpenMLD(t, r.ns)
			if err := c.Join(r.index); err != nil {
				t.Fatal(err)
			}
			raFD := -1
			if tc.routerAlertOpt {
				// Linux refuses IPV6_ROUTER_ALERT on anything but an
				// IPPROTO_RAW socket (ip6_ra_control)...
				if err := c.s.setInt(unix.IPPROTO_IPV6, unix.IPV6_ROUTER_ALERT, routerAlertMLD); !errors.Is(err, unix.ENOPROTOOPT) {
					t.Errorf("IPV6_ROUTER_ALERT on the MLD socket: %v, want ENOPROTOOPT", err)
				}
				// ...so take one of those: it gets only Router Alert
				// packets that the kernel forwards.
				raFD = topoRouterAlertSocket(t, r.ns, routerAlertMLD)
			}
			if tc.routerListens {
				topoListen(t, r.ns, r.index, tc.group, netip.Addr{})
			}
			report, err := mldmsg.Marshal(&mldmsg.ReportV1{Group: tc.group}, h.ll, tc.group)
			if err != nil {
				t.Fatal(err)
			}
			hbh := hopOptsRouterAlertMLD[:]
			if tc.noRouterAlertIn {
				hbh = nil
			}
			topoSendRaw(t, h.ns, h.index, topoIPv6Packet(h.ll, tc.group, 1, hbh, unix.IPPROTO_ICMPV6, report))
			done, err := mldmsg.Marshal(&mldmsg.Done{Group: marker}, h.ll, AllRouters)
			if err != nil {
				t.Fatal(err)
			}
			topoSendRaw(t, h.ns, h.index, topoIPv6Packet(h.ll, AllRouters, 1, hopOptsRouterAlertMLD[:], unix.IPPROTO_ICMPV6, done))
			seen := topoCollect(t, c, func(p topoPkt) bool { return bytes.Equal(p.b, done) })
			got := slices.ContainsFunc(seen, func(p topoPkt) bool { return bytes.Equal(p.b, report) })
			if got != tc.want {
				t.Errorf("MLDv1 Report to %v delivered = %v, want %v", tc.group, got, tc.want)
			}
			if raFD >= 0 {
				var buf [1500]byte
				n, _, err := unix.Recvfrom(raFD, buf[:], unix.MSG_DONTWAIT)
				if !errors.Is(err, unix.EAGAIN) {
					t.Errorf("the IPV6_ROUTER_ALERT socket received %d octets (%v), want nothing", n, err)
				}
			}
		})
	}
}

// Our general Query reaches the host, which answers with a current-state
// Report; the capture on the host's side shows the Query as mldmsg built it
// (so the checksum the kernel wrote is ours) with hop limit 1, Router Alert
// and our source.
func TestMLDQueryAnswered(t *testing.T) {
	r, h := topoPair(t, "mldqr", "mldqh")
	c := topoOpenMLD(t, r.ns)
	if err := c.Join(r.index); err != nil {
		t.Fatal(err)
	}
	group := netip.MustParseAddr("ff05::4244")
	topoListen(t, h.ns, h.index, group, netip.Addr{})
	capt := h.ns.Capture("p0", "ip6")

	q := &mldmsg.QueryV2{Group: netip.IPv6Unspecified(), MaxRespCode: 100, QRV: 2, QQIC: 125} // answer within 100 ms
	b, err := mldmsg.Marshal(q, r.ll, mldAllNodes)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteTo(b, r.index, r.ll, mldAllNodes); err != nil {
		t.Fatal(err)
	}
	seen := topoCollect(t, c, func(p topoPkt) bool {
		rec, ok := mldRecord(p, group)
		return ok && rec.Type == mldmsg.ModeIsExclude && p.info.Src == h.ll
	})
	checkMLDInfo(t, seen[len(seen)-1], r, h, AllMLDv2Routers)
	if slices.ContainsFunc(seen, func(p topoPkt) bool { return bytes.Equal(p.b, b) }) {
		t.Error("our own Query was looped back to us")
	}

	pkts := capt.Stop()
	qp := topoFindCaptured(t, pkts, func(p pcapread.Packet) bool {
		return p.Proto == unix.IPPROTO_ICMPV6 && len(p.Payload) > 0 && p.Payload[0] == mldmsg.TypeQuery && p.Src == r.ll
	})
	if qp.Dst != mldAllNodes || qp.HopLimit != 1 || !qp.RouterAlert {
		t.Errorf("captured query %v>%v hop limit %d router alert %v, want %v>%v 1 true", qp.Src, qp.Dst, qp.HopLimit, qp.RouterAlert, r.ll, mldAllNodes)
	}
	if !bytes.Equal(qp.Payload, b) {
		t.Errorf("captured query\n% x\nwant (as marshalled)\n% x", qp.Payload, b)
	}
	if !mldmsg.VerifyChecksum(qp.Payload, qp.Src, qp.Dst) {
		t.Error("captured query checksum does not verify")
	}
	topoTcpdumpSays(t, capt.Path, "multicast listener query v2", "icmp6 sum ok")
}

// Linux overwrites the ICMPv6 checksum of what a raw ICMPv6 socket sends:
// a Query sent with a wrong checksum leaves with the right one, the one
// mldmsg computes.
func TestMLDKernelOverwritesChecksum(t *testing.T) {
	r, h := topoPair(t, "mldcr", "mldch")
	c := topoOpenMLD(t, r.ns)
	capt := h.ns.Capture("p0", "ip6")
	good, err := mldmsg.Marshal(&mldmsg.QueryV1{Group: netip.IPv6Unspecified(), MaxRespDelay: 1000}, r.ll, mldAllNodes)
	if err != nil {
		t.Fatal(err)
	}
	bad := slices.Clone(good)
	bad[2], bad[3] = 0xde, 0xad
	if err := c.WriteTo(bad, r.index, r.ll, mldAllNodes); err != nil {
		t.Fatal(err)
	}
	// The host answers nothing (it listens to no group); wait for the
	// query itself to be captured.
	qp := topoCaptured(t, capt, func(p pcapread.Packet) bool {
		return p.Proto == unix.IPPROTO_ICMPV6 && len(p.Payload) > 0 && p.Payload[0] == mldmsg.TypeQuery && p.Src == r.ll
	})
	if !bytes.Equal(qp.Payload, good) {
		t.Errorf("sent with checksum dead, captured\n% x\nwant (mldmsg's checksum)\n% x", qp.Payload, good)
	}
}

// Linux verifies the ICMPv6 checksum of what a raw ICMPv6 socket receives
// and silently drops a message whose checksum is wrong: a Report with a bad
// checksum never reaches ReadFrom, the good one sent after it does.
func TestMLDKernelDropsBadChecksum(t *testing.T) {
	r, h := topoPair(t, "mldbr", "mldbh")
	c := topoOpenMLD(t, r.ns)
	if err := c.Join(r.index); err != nil {
		t.Fatal(err)
	}
	mk := func(g string) []byte {
		b, err := mldmsg.Marshal(&mldmsg.ReportV2{Records: []mldmsg.Record{{Type: mldmsg.ModeIsExclude, Group: netip.MustParseAddr(g)}}}, h.ll, AllMLDv2Routers)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bad, good := mk("ff05::bad"), mk("ff05::600d")
	bad[2] ^= 0xff
	capt := r.ns.Capture("p0", "ip6")
	for _, m := range [][]byte{bad, good} {
		topoSendRaw(t, h.ns, h.index, topoIPv6Packet(h.ll, AllMLDv2Routers, 1, hopOptsRouterAlertMLD[:], unix.IPPROTO_ICMPV6, m))
	}
	seen := topoCollect(t, c, func(p topoPkt) bool { return bytes.Equal(p.b, good) })
	if slices.ContainsFunc(seen, func(p topoPkt) bool { return bytes.Equal(p.b, bad) }) {
		t.Error("the Report with a bad checksum was delivered")
	}
	// It did reach the router's interface, and the socket counted it as a
	// drop (rawv6_rcv_skb checks the checksum before queueing).
	topoCaptured(t, capt, func(p pcapread.Packet) bool { return bytes.Equal(p.Payload, bad) })
	if d := topoRawDrops(t, r, unix.IPPROTO_ICMPV6); d < 1 {
		t.Errorf("drops of the ICMPv6 raw socket = %d, want at least 1", d)
	}
}

// The router's own kernel is an MLD host too: when Join makes it listen to
// ff02::16 and ff02::2 it reports them, and since the socket listens to
// ff02::16 the kernel loops those Reports back to it, from one of our own
// link-local addresses. The engine must expect its own Reports.
func TestMLDOwnReportsLoopedBack(t *testing.T) {
	r, _ := topoPair(t, "mldlr", "mldlh")
	c := topoOpenMLD(t, r.ns)
	if err := c.Join(r.index); err != nil {
		t.Fatal(err)
	}
	seen := topoCollect(t, c, func(p topoPkt) bool {
		_, ok := mldRecord(p, AllMLDv2Routers)
		return ok && p.info.Src == r.ll
	})
	p := seen[len(seen)-1]
	want := RecvInfo{IfIndex: r.index, Src: r.ll, Dst: AllMLDv2Routers, HopLimit: 1, RouterAlert: true}
	if p.info != want {
		t.Errorf("RecvInfo = %+v, want %+v", p.info, want)
	}
}

// The ICMPv6 checksum of the MLD socket is on at offset 2 and cannot be
// turned off at the IPPROTO_IPV6 level (RFC 3542 section 3.1); Linux does
// let it be turned off at the SOL_RAW level, which is the level x/net/ipv6's
// SetChecksum uses: never call it on the MLD socket.
func TestMLDChecksumOption(t *testing.T) {
	r, _ := topoPair(t, "mldor", "mldoh")
	c := topoOpenMLD(t, r.ns)
	for _, level := range []int{unix.IPPROTO_IPV6, unix.SOL_RAW} {
		if v, err := c.s.getInt(level, unix.IPV6_CHECKSUM); err != nil || v != 2 {
			t.Errorf("IPV6_CHECKSUM at level %d = %d (%v), want 2", level, v, err)
		}
	}
	if err := c.s.setInt(unix.IPPROTO_IPV6, unix.IPV6_CHECKSUM, -1); !errors.Is(err, unix.EINVAL) {
		t.Errorf("IPV6_CHECKSUM at IPPROTO_IPV6 on ICMPv6: %v, want EINVAL", err)
	}
}

// Join adds the interface's memberships of ff02::16 and ff02::2 (the kernel
// joins neither by itself while forwarding is off); Leave removes them.
func TestMLDJoinLeave(t *testing.T) {
	r, _ := topoPair(t, "mldjr", "mldjh")
	c := topoOpenMLD(t, r.ns)
	maddrs := func() string { return r.ns.MustRun("ip", "-6", "maddr", "show", "dev", "p0") }
	has := func(s, g string) bool { return strings.Contains(s, "inet6 "+g+"\n") }
	if s := maddrs(); has(s, "ff02::16") || has(s, "ff02::2") {
		t.Fatalf("before Join:\n%s", s)
	}
	if err := c.Join(r.index); err != nil {
		t.Fatal(err)
	}
	if s := maddrs(); !has(s, "ff02::16") || !has(s, "ff02::2") {
		t.Errorf("after Join:\n%s", s)
	}
	if err := c.Join(r.index); err == nil {
		t.Error("a second Join of the same interface succeeded")
	}
	if err := c.Leave(r.index); err != nil {
		t.Fatal(err)
	}
	if s := maddrs(); has(s, "ff02::16") || has(s, "ff02::2") {
		t.Errorf("after Leave:\n%s", s)
	}
	if err := c.Join(r.index + 100); err == nil {
		t.Error("Join of a missing interface succeeded")
	}
}

// topoFindCaptured returns the first captured packet match accepts.
func topoFindCaptured(t *testing.T, pkts []pcapread.Packet, match func(pcapread.Packet) bool) pcapread.Packet {
	t.Helper()
	for _, p := range pkts {
		if match(p) {
			return p
		}
	}
	t.Fatalf("not in the capture (%d packets)", len(pkts))
	return pcapread.Packet{}
}

// topoTcpdumpSays checks that tcpdump -vv, reading the capture, prints a line
// holding every one of want (tcpdump checks ICMPv6 and PIM checksums
// itself).
func topoTcpdumpSays(t *testing.T, path string, want ...string) {
	t.Helper()
	out, err := exec.Command("tcpdump", "-r", path, "-n", "-vv").CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump -r: %v: %s", err, out)
	}
	// tcpdump -vv continues a packet on indented lines: join them.
	text := strings.ReplaceAll(string(out), "\n ", " ")
	text = strings.ReplaceAll(text, "\n\t", " ")
	for _, l := range strings.Split(text, "\n") {
		if !slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(l, w) }) {
			t.Logf("tcpdump: %s", l)
			return
		}
	}
	t.Errorf("tcpdump printed no line with all of %q:\n%s", want, out)
}
