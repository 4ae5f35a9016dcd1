package pim

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// s1 is on ifD, where we are the DR: we are its first-hop router.
var onD = routes{s1: {Valid: true, IfIndex: ifD}}

type regView struct {
	State    RegisterState
	RST, KAT float64
}

func registerView(r *Router, now time.Time) regView {
	rs := route(r, now, s1, gA)
	if rs == nil {
		return regView{}
	}
	return regView{rs.Register, rs.RegisterStopLeft.Seconds(), rs.KeepaliveLeft.Seconds()}
}

// TestRegisterDR walks the DR's Register machine of RFC 7761 section
// 4.4.1. Rand is half: the Register-Stop Timer is 0.5 * 60 + 30 - 5 = 55 s.
func TestRegisterDR(t *testing.T) {
	const (
		reg     = "register to 2001:db8:ff::1 from 2001:db8:ff::5 S1,ff0e::1"
		null    = "null-register to 2001:db8:ff::1 from 2001:db8:ff::5 S1,ff0e::1"
		tunnel  = "route S1,ff0e::1 iif=2 oifs=[-1]"
		noTunel = "route S1,ff0e::1 iif=2 oifs=[]"
	)
	first := noCache(10, ifD, s1)
	stop := registerStop(20, s1)
	for _, tc := range []struct {
		name   string
		opt    asmOpt
		routes routes
		steps  []step
		acts   []string
		want   regView
	}{
		{"NoInfo: CouldRegister -> true: Join, register tunnel", asmOpt{}, onD, []step{first},
			[]string{"watch S1", tunnel, "count S1,ff0e::1"}, regView{RegisterJoin, 0, 210}},
		{"Join: a packet for the tunnel: Register to the RP", asmOpt{}, onD, []step{first, wholePacket(11, s1)},
			[]string{reg}, regView{RegisterJoin, 0, 209}},
		{"Join: Register-Stop: Prune, tunnel removed, RST", asmOpt{}, onD, []step{first, stop},
			[]string{noTunel}, regView{RegisterPrune, 55, 200}},
		{"Join: Register-Stop for (*,G): the same", asmOpt{}, onD, []step{first, registerStop(20, netip.IPv6Unspecified())},
			[]string{noTunel}, regView{RegisterPrune, 55, 200}},
		{"Prune: a packet: dropped", asmOpt{}, onD, []step{first, stop, wholePacket(21, s1)}, nil, regView{RegisterPrune, 54, 199}},
		{"Prune: RST expires: Join-Pending, Null-Register, RST = probe", asmOpt{}, onD, []step{first, stop, expireAt(74.999), expireAt(75)},
			[]string{null}, regView{RegisterJoinPending, 5, 145}},
		{"Join-Pending: RST expires: Join, tunnel back", asmOpt{}, onD, []step{first, stop, expireAt(75), expireAt(80)},
			[]string{tunnel}, regView{RegisterJoin, 0, 140}},
		{"Join-Pending: Register-Stop: Prune", asmOpt{}, onD, []step{first, stop, expireAt(75), registerStop(76, s1)},
			nil, regView{RegisterPrune, 55, 144}},
		{"Prune: Register-Stop: nothing", asmOpt{}, onD, []step{first, stop, registerStop(30, s1)}, nil, regView{RegisterPrune, 45, 190}},
		{"Join: the Keepalive Timer expires: NoInfo", asmOpt{}, onD, []step{first, expireAt(220)},
			[]string{"route S1,ff0e::1 iif=0 oifs=[]", "uncount S1,ff0e::1", "unwatch S1"}, regView{}},
		{"Join: data keeps the Keepalive Timer", asmOpt{}, onD, []step{first, activity(100, s1, 5, 500), expireAt(220)},
			nil, regView{RegisterJoin, 0, 90}},
		{"Prune: no longer DR: NoInfo, RST stopped", asmOpt{}, onD, []step{first, stop, helloStep(30, ifD, addr("fe80::ff:1"))},
			nil, regView{State: RegisterNoInfo, KAT: 190}},
		{"Join: no longer DR: NoInfo, tunnel removed", asmOpt{}, onD, []step{first, helloStep(30, ifD, addr("fe80::ff:1"))},
			[]string{noTunel}, regView{State: RegisterNoInfo, KAT: 190}},
		{"Prune: RP changed: Join to the new RP", asmOpt{}, onD, []step{first, stop, setConfigRP(30, addr("2001:db8:ff::2"))},
			[]string{tunnel}, regView{RegisterJoin, 0, 190}},
		{"Not the DR: no Register state", asmOpt{}, onD, []step{helloStep(5, ifD, addr("fe80::ff:1")), first},
			[]string{"watch S1", noTunel, "count S1,ff0e::1"}, regView{KAT: 210}},
		{"Not directly connected: no Register state", asmOpt{}, nil, []step{noCache(10, ifU, s1)},
			[]string{"watch S1", "route S1,ff0e::1 iif=3 oifs=[]", "count S1,ff0e::1"}, regView{}},
		{"We are the RP: no Register state", asmOpt{rpSelf: true}, onD, []step{first},
			[]string{"watch S1", noTunel, "count S1,ff0e::1"}, regView{KAT: 210}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, tc.opt)
			acts := run(t, r, tc.routes, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			diff(t, "actions", tc.acts, only(render(acts), "register", "null", "route", "count", "uncount", "watch S", "unwatch S"))
			diff(t, "state", tc.want, registerView(r, at(last.at)))
		})
	}
}

// TestRegisterDrops: what WholePacket refuses is counted on the router, and
// Registers beyond MaxRegisterRate are dropped.
func TestRegisterDrops(t *testing.T) {
	r := asmRouter(t, asmOpt{cfg: func(c *Config) { c.MaxRegisterRate = 2 }})
	run(t, r, onD, []step{noCache(10, ifD, s1)})
	sent := 0
	for range 3 {
		sent += len(only(render(r.WholePacket(at(11), s1, gA, dataPacket(s1, gA))), "register"))
	}
	sent += len(only(render(r.WholePacket(at(11.5), s1, gA, dataPacket(s1, gA))), "register"))
	sent += len(only(render(r.WholePacket(at(12.5), s1, gA, dataPacket(s1, gA))), "register"))
	// One second's worth of burst at 2/s: two at 11 (the third waits
	// until 12), one at 11.5, one at 12.5.
	diff(t, "sent", 4, sent)
	r.WholePacket(at(13), s1, gA, dataPacket(s1, gA)[:44])       // shorter than it says
	r.WholePacket(at(13), s2, gA, dataPacket(s1, gA))            // not the packet named
	r.WholePacket(at(13), s2, gA, dataPacket(s2, gA))            // no entry
	r.WholePacket(at(13), s1, gA, append(dataPacket(s1, gA), 0)) // trailing bytes are fine
	diff(t, "router counters", Stats{
		Received: map[string]uint64{RecvNoCache: 1, RecvWholePacket: 9},
		Dropped:  map[string]uint64{DropRegisterRate: 1, DropBadData: 2, DropRegisterNotJoin: 1},
		Sent:     map[string]uint64{SentRegister: 5},
	}, r.Stats(0))
}

// TestNullRegisterForm: the Null-Register's dummy header is an IPv6 header
// from S to G with payload length 0 and no next header, and tshark decodes
// the message without complaint.
func TestNullRegisterForm(t *testing.T) {
	r := asmRouter(t, asmOpt{})
	acts := run(t, r, onD, []step{noCache(10, ifD, s1), registerStop(20, s1), expireAt(75)})
	var m *pimmsg.Register
	var send SendPIM
	for _, a := range acts {
		if s, ok := a.(SendPIM); ok {
			if reg, ok := s.Msg.(*pimmsg.Register); ok {
				m, send = reg, s
			}
		}
	}
	if m == nil || !m.Null {
		t.Fatalf("no Null-Register in %q", render(acts))
	}
	s, g := innerAddrs(m.Packet)
	diff(t, "inner", [4]any{40, s1, gA, []byte{0x60, 0, 0, 0, 0, 0, 59, 255}}, [4]any{len(m.Packet), s, g, m.Packet[:8]})
	diff(t, "unicast from our address to the RP", [3]any{0, selfG, rpA}, [3]any{send.IfIndex, send.Src, send.Dst})
	b, err := pimmsg.Marshal(m, send.Src, send.Dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("no tshark")
	}
	out := tsharkDecode(t, send.Src, send.Dst, b)
	for _, want := range []string{"Null-Register: Yes", "[Checksum Status: Good]", "Payload Length: 0", "Next Header: No Next Header for IPv6 (59)"} {
		if !strings.Contains(out, want) {
			t.Errorf("tshark says no %q:\n%s", want, out)
		}
	}
	if strings.Contains(strings.ToLower(out), "malformed") || strings.Contains(out, "Expert Info") {
		t.Errorf("tshark complains:\n%s", out)
	}
}

// tsharkDecode writes one IPv6 packet carrying the PIM message b into a
// pcap (raw IPv6 link type) and returns tshark's verbose decode.
func tsharkDecode(t *testing.T, src, dst netip.Addr, b []byte) string {
	ip := make([]byte, 40, 40+len(b))
	ip[0], ip[4], ip[5], ip[6], ip[7] = 0x60, byte(len(b)>>8), byte(len(b)), 103, 64
	s, d := src.As16(), dst.As16()
	copy(ip[8:], s[:])
	copy(ip[24:], d[:])
	ip = append(ip, b...)
	le := func(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
	var f []byte
	f = append(f, le(0xa1b2c3d4)...)
	f = append(f, 2, 0, 4, 0)
	f = append(f, le(0)...)
	f = append(f, le(0)...)
	f = append(f, le(65535)...)
	f = append(f, le(229)...) // LINKTYPE_IPV6
	f = append(f, le(0)...)
	f = append(f, le(0)...)
	f = append(f, le(uint32(len(ip)))...)
	f = append(f, le(uint32(len(ip)))...)
	f = append(f, ip...)
	path := filepath.Join(t.TempDir(), "null.pcap")
	if err := writeFile(path, f); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tshark", "-r", path, "-V").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	return string(out)
}

// TestRegisterAtRP walks the RP's handling of Registers (RFC 7761 section
// 4.4.2). We are the RP (selfG); the DR is drAddr; S1 is reached through
// nbr3 on ifU.
func TestRegisterAtRP(t *testing.T) {
	const stop = "register-stop to 2001:db8:77::1 from 2001:db8:ff::5 S1,ff0e::1"
	joinS := "jp(3) to fe80::3 ht=210 ff0e::1 join[S1] prune[]"
	recv := starJoinFrom(0, nbr1, selfG)
	type view struct {
		SPT  bool
		KAT  float64
		Up   UpstreamState
		IIF  int
		OIFs []int
	}
	for _, tc := range []struct {
		name  string
		steps []step
		acts  []string
		want  view
	}{
		{"Register with receivers: KAT, join toward S, forward from the register MIF", []step{recv, registerMsg(10, s1, false)},
			[]string{"watch S1", joinS, "route S1,ff0e::1 iif=-1 oifs=[2]"}, view{false, 210, Joined, -1, []int{2}}},
		{"Register without receivers: Register-Stop, KAT = RP_Keepalive_Period", []step{registerMsg(10, s1, false)},
			[]string{"watch S1", stop, "route S1,ff0e::1 iif=-1 oifs=[]"}, view{false, 185, NotJoined, -1, nil}},
		{"Native data on the SPT: SPT bit, route from RPF_interface(S)", []step{recv, registerMsg(10, s1, false), wrongIIF(11, ifU, s1)},
			[]string{"route S1,ff0e::1 iif=3 oifs=[2]"}, view{true, 210, Joined, ifU, []int{2}}},
		{"Register after the SPT bit: Register-Stop", []step{recv, registerMsg(10, s1, false), wrongIIF(11, ifU, s1), registerMsg(12, s1, false)},
			[]string{stop}, view{true, 185, Joined, ifU, []int{2}}},
		{"Register-Stops are rate-limited per DR and (S,G)", []step{registerMsg(10, s1, false), registerMsg(10.5, s1, false)},
			nil, view{false, 185, NotJoined, -1, nil}},
		{"Null-Register with receivers and no SPT: no stop, KAT", []step{recv, registerMsg(10, s1, true)},
			[]string{"watch S1", joinS, "route S1,ff0e::1 iif=-1 oifs=[2]"}, view{false, 210, Joined, -1, []int{2}}},
		{"Null-Register after the SPT bit: Register-Stop", []step{recv, registerMsg(10, s1, false), wrongIIF(11, ifU, s1), registerMsg(70, s1, true)},
			[]string{stop}, view{true, 185, Joined, ifU, []int{2}}},
		{"The Keepalive Timer expires: the RP prunes and forgets", []step{recv, registerMsg(10, s1, false), expireAt(220)},
			[]string{"jp(3) to fe80::3 ht=210 ff0e::1 join[] prune[S1]", "route S1,ff0e::1 iif=0 oifs=[]", "uncount S1,ff0e::1", "unwatch S1"}, view{}},
		{"A receiver joins later: the RP joins toward the source it knows", []step{registerMsg(10, s1, false), starJoinFrom(20, nbr1, selfG)},
			[]string{joinS, "route S1,ff0e::1 iif=-1 oifs=[2]"}, view{false, 175, Joined, -1, []int{2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, asmOpt{rpSelf: true})
			acts := run(t, r, nil, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			diff(t, "actions", tc.acts, only(render(acts), "register-stop", "jp(3)", "route", "watch S", "unwatch S", "uncount"))
			var got view
			if rs := route(r, at(last.at), s1, gA); rs != nil {
				got = view{rs.SPTBit, rs.KeepaliveLeft.Seconds(), rs.Upstream, rs.IIF, rs.OIFs}
			}
			diff(t, "state", tc.want, got)
		})
	}
}

// TestRegisterRefused: Registers the RP cannot use are counted and, unless
// they are not for us at all, answered with a Register-Stop.
func TestRegisterRefused(t *testing.T) {
	send := func(r *Router, dst netip.Addr, g netip.Addr, inner []byte) []string {
		b, err := pimmsg.Marshal(&pimmsg.Register{Packet: inner}, drAddr, dst)
		if err != nil {
			t.Fatal(err)
		}
		return render(r.Receive(at(10), 9, drAddr, dst, b)) // an interface without PIM
	}
	stop := func(g string) []string {
		return []string{"register-stop to 2001:db8:77::1 from 2001:db8:ff::5 S1," + g}
	}
	r := asmRouter(t, asmOpt{}) // the RP is rpA, not us
	diff(t, "not the RP", stop("ff0e::1"), send(r, selfG, gA, dataPacket(s1, gA)))
	diff(t, "SSM group", stop("G1"), send(r, selfG, g1, dataPacket(s1, g1)))
	diff(t, "not our address", []string(nil), send(r, addr("2001:db8:ff::9"), gA, dataPacket(s1, gA)))
	diff(t, "link-scope group inside", []string(nil), send(r, selfG, gA, dataPacket(s1, addr("ff02::1"))))
	diff(t, "counted", map[string]uint64{DropRegisterNotRP: 1, DropRegisterSSM: 1, DropRegisterNotOurs: 1, DropRegisterPacket: 1},
		r.Stats(0).Dropped)
	diff(t, "received", map[string]uint64{RecvRegister: 4}, r.Stats(0).Received)
	// The kernel decapsulates every Register: a NoCache on the register
	// MIF of a group we are not the RP of is not ours to forward.
	diff(t, "decapsulated, not RP", []string(nil), render(r.NoCache(at(11), RegisterIf, s1, gA)))
	diff(t, "counted", uint64(1), r.Stats(0).Dropped[DropDataNotRP])
}
