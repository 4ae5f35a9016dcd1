package pim

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The Anycast-RP tests (RFC 4610): we hold the shared RP address selfG
// and our unique address selfM; peer1 and peer2 are the other members.
var (
	selfM = addr("2001:db8:aa::1")
	peer1 = addr("2001:db8:aa::2")
	peer2 = addr("2001:db8:aa::3")
)

func anycastRouter(t *testing.T, members ...netip.Addr) *Router {
	t.Helper()
	if members == nil {
		members = []netip.Addr{peer1, selfM, peer2}
	}
	r := asmRouter(t, asmOpt{rpSelf: true, cfg: func(c *Config) {
		c.AnycastRP = &AnycastRP{Addr: selfG, Members: members}
	}})
	r.SetLocalAddresses(tR, []netip.Addr{selfG, selfM})
	return r
}

// registerFrom delivers a Register from src to dst carrying a data packet
// of S1 (or a Null-Register).
func registerFrom(at float64, src, dst netip.Addr, null bool) step {
	m := &pimmsg.Register{Null: null, Packet: dataPacket(s1, gA)}
	if null {
		m.Packet = nullRegisterHeader(sgKey{keyOf(gA), keyOf(s1)})
	}
	return unicast(at, src, dst, m)
}

func registerStopFrom(at float64, src, dst netip.Addr) step {
	return unicast(at, src, dst, &pimmsg.RegisterStop{Group: pimmsg.Group{Addr: gA, MaskLen: 128}, Source: s1})
}

// TestAnycastRegisterFromDR: a Register from a DR to the shared address is
// handled as at any RP and sent on, as it came, from our unique address to
// every other member (RFC 4610 section 3); Null-Registers too.
func TestAnycastRegisterFromDR(t *testing.T) {
	const (
		toP1     = "register to 2001:db8:aa::2 from 2001:db8:aa::1 S1,ff0e::1"
		toP2     = "register to 2001:db8:aa::3 from 2001:db8:aa::1 S1,ff0e::1"
		nullToP1 = "null-register to 2001:db8:aa::2 from 2001:db8:aa::1 S1,ff0e::1"
		nullToP2 = "null-register to 2001:db8:aa::3 from 2001:db8:aa::1 S1,ff0e::1"
		stopDR   = "register-stop to 2001:db8:77::1 from 2001:db8:ff::5 S1,ff0e::1"
	)
	recv := starJoinFrom(0, nbr1, selfG)
	t.Run("data Register with receivers", func(t *testing.T) {
		r := anycastRouter(t)
		acts := run(t, r, nil, []step{recv, registerFrom(10, drAddr, selfG, false)})
		diff(t, "actions", []string{toP1, toP2}, only(render(acts), "register", "null-register"))
		// The copies carry the DR's packet unchanged.
		for _, a := range acts {
			if s, ok := a.(SendPIM); ok {
				if m, ok := s.Msg.(*pimmsg.Register); ok && !bytes.Equal(m.Packet, dataPacket(s1, gA)) {
					t.Errorf("copy to %v carries %x", s.Dst, m.Packet)
				}
			}
		}
		rs := route(r, at(10), s1, gA)
		if rs == nil || rs.Upstream != Joined || rs.KeepaliveLeft != 210*time.Second {
			t.Errorf("(S,G) at the RP: %+v, want Joined toward S with KAT 210 s", rs)
		}
		st := r.Anycast()
		diff(t, "counters", []AnycastMemberState{
			{Addr: peer1, AnycastPeerCounters: AnycastPeerCounters{RegistersOut: 1}},
			{Addr: selfM, Self: true},
			{Addr: peer2, AnycastPeerCounters: AnycastPeerCounters{RegistersOut: 1}},
		}, st.Members)
		if st.Self != selfM || st.Addr != selfG || !st.Local {
			t.Errorf("state %+v", st)
		}
	})
	t.Run("without receivers: Register-Stop to the DR, copies still go", func(t *testing.T) {
		r := anycastRouter(t)
		acts := run(t, r, nil, []step{registerFrom(10, drAddr, selfG, false)})
		diff(t, "actions", []string{toP1, toP2, stopDR}, only(render(acts), "register", "null-register", "register-stop"))
	})
	t.Run("Null-Register", func(t *testing.T) {
		r := anycastRouter(t)
		acts := run(t, r, nil, []step{recv, registerFrom(10, drAddr, selfG, true)})
		diff(t, "actions", []string{nullToP1, nullToP2}, only(render(acts), "register", "null-register"))
		diff(t, "null counted", uint64(1), r.Anycast().Members[0].NullRegistersOut)
	})
	t.Run("no member address is ours: a plain RP, counted", func(t *testing.T) {
		r := anycastRouter(t, peer1, peer2)
		acts := run(t, r, nil, []step{recv, registerFrom(10, drAddr, selfG, false)})
		diff(t, "actions", []string(nil), only(render(acts), "register", "null-register"))
		diff(t, "dropped", uint64(1), r.Stats(0).Dropped[DropAnycastNoSelf])
		if rs := route(r, at(10), s1, gA); rs == nil || rs.Upstream != Joined {
			t.Errorf("(S,G) at the RP: %+v, want Joined", rs)
		}
	})
	t.Run("another RP's group: not forwarded", func(t *testing.T) {
		r := anycastRouter(t)
		acts := run(t, r, nil, []step{setConfigRP(5, rpA), registerFrom(10, drAddr, selfG, false)})
		diff(t, "actions", []string{stopDR}, only(render(acts), "register", "null-register", "register-stop"))
	})
}

// TestAnycastRegisterFromMember: a member's copy, sent to our unique
// address, is handled as a Register to the shared address and never sent
// on; our Register-Stop answers the member.
func TestAnycastRegisterFromMember(t *testing.T) {
	const stopP1 = "register-stop to 2001:db8:aa::2 from 2001:db8:aa::1 S1,ff0e::1"
	recv := starJoinFrom(0, nbr1, selfG)
	t.Run("with receivers: KAT, join toward S, nothing sent on", func(t *testing.T) {
		r := anycastRouter(t)
		acts := run(t, r, nil, []step{recv, registerFrom(10, peer1, selfM, false)})
		diff(t, "actions", []string{"jp(3) to fe80::3 ht=210 ff0e::1 join[S1] prune[]", "route S1,ff0e::1 iif=-1 oifs=[2]"},
			only(render(acts), "register", "null-register", "register-stop", "jp(3)", "route"))
		diff(t, "counters", AnycastPeerCounters{RegistersIn: 1}, r.Anycast().Members[0].AnycastPeerCounters)
		diff(t, "no refusal", map[string]uint64(nil), r.Stats(0).Dropped)
	})
	t.Run("to the shared address: not sent on either", func(t *testing.T) {
		r := anycastRouter(t)
		acts := run(t, r, nil, []step{recv, registerFrom(10, peer1, selfG, true)})
		diff(t, "actions", []string(nil), only(render(acts), "register", "null-register", "register-stop"))
		diff(t, "counters", AnycastPeerCounters{NullRegistersIn: 1}, r.Anycast().Members[0].AnycastPeerCounters)
	})
	t.Run("without receivers: Register-Stop to the member, counted", func(t *testing.T) {
		r := anycastRouter(t)
		acts := run(t, r, nil, []step{registerFrom(10, peer1, selfM, false)})
		diff(t, "actions", []string{stopP1}, only(render(acts), "register", "null-register", "register-stop"))
		diff(t, "counters", AnycastPeerCounters{RegistersIn: 1, RegisterStopsOut: 1}, r.Anycast().Members[0].AnycastPeerCounters)
	})
	t.Run("a non-member to our unique address: refused", func(t *testing.T) {
		r := anycastRouter(t)
		acts := run(t, r, nil, []step{recv, registerFrom(10, drAddr, selfM, false)})
		diff(t, "actions", []string{"register-stop to 2001:db8:77::1 from 2001:db8:aa::1 S1,ff0e::1"},
			only(render(acts), "register", "null-register", "register-stop"))
		diff(t, "dropped", uint64(1), r.Stats(ifU).Dropped[DropRegisterNotRP])
	})
	t.Run("a Register-Stop from a member is counted and changes nothing", func(t *testing.T) {
		r := anycastRouter(t)
		acts := run(t, r, nil, []step{recv, registerFrom(10, drAddr, selfG, false), registerStopFrom(11, peer2, selfM)})
		diff(t, "actions", []string(nil), render(acts))
		diff(t, "counters", AnycastPeerCounters{RegistersOut: 1, RegisterStopsIn: 1}, r.Anycast().Members[2].AnycastPeerCounters)
	})
}

// TestAnycastMemberIsDR: a member that is the DR of a directly connected
// source registers it to every other member from its unique address, with
// the DR's Register machine (4.4.1): a Register-Stop suppresses, the probe
// goes to all. Rand is half: the Register-Stop Timer is 55 s.
func TestAnycastMemberIsDR(t *testing.T) {
	const (
		tunnel   = "route S1,ff0e::1 iif=2 oifs=[-1]"
		noTunnel = "route S1,ff0e::1 iif=2 oifs=[]"
		toP1     = "register to 2001:db8:aa::2 from 2001:db8:aa::1 S1,ff0e::1"
		toP2     = "register to 2001:db8:aa::3 from 2001:db8:aa::1 S1,ff0e::1"
		nullToP1 = "null-register to 2001:db8:aa::2 from 2001:db8:aa::1 S1,ff0e::1"
		nullToP2 = "null-register to 2001:db8:aa::3 from 2001:db8:aa::1 S1,ff0e::1"
	)
	first := noCache(10, ifD, s1)
	stop := registerStopFrom(20, peer1, selfM)
	for _, tc := range []struct {
		name  string
		steps []step
		acts  []string
		want  regView
	}{
		{"first packet: Join, register tunnel", []step{first}, []string{tunnel}, regView{RegisterJoin, 0, 210}},
		{"a packet for the tunnel: a Register to each other member", []step{first, wholePacket(11, s1)},
			[]string{toP1, toP2}, regView{RegisterJoin, 0, 209}},
		{"a member's Register-Stop: Prune", []step{first, stop}, []string{noTunnel}, regView{RegisterPrune, 55, 200}},
		{"RST expires: a Null-Register to each member", []step{first, stop, expireAt(75)},
			[]string{nullToP1, nullToP2}, regView{RegisterJoinPending, 5, 145}},
		{"leaving the set: no Register state", []step{first, step{15, func(t testing.TB, r *Router, now time.Time) []Action {
			cfg := r.Config()
			cfg.AnycastRP = nil
			acts, err := r.SetConfig(now, cfg)
			if err != nil {
				t.Fatal(err)
			}
			return acts
		}}}, []string{noTunnel}, regView{KAT: 205}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := anycastRouter(t)
			acts := run(t, r, onD, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			diff(t, "actions", tc.acts, only(render(acts), "register", "null-register", "route"))
			diff(t, "state", tc.want, registerView(r, at(last.at)))
		})
	}
	// Without the set, the RP of a directly connected source does not
	// register (TestRegisterDR, "We are the RP").
}

func TestAnycastConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   AnycastRP
		field string
	}{
		{"one member", AnycastRP{Addr: selfG, Members: []netip.Addr{selfM}}, "AnycastRP.Members"},
		{"the shared address as a member", AnycastRP{Addr: selfG, Members: []netip.Addr{selfM, selfG}}, "AnycastRP.Members[1]"},
		{"a member twice", AnycastRP{Addr: selfG, Members: []netip.Addr{selfM, peer1, selfM}}, "AnycastRP.Members[2]"},
		{"a link-local member", AnycastRP{Addr: selfG, Members: []netip.Addr{selfM, addr("fe80::1")}}, "AnycastRP.Members[1]"},
		{"no address", AnycastRP{Members: []netip.Addr{selfM, peer1}}, "AnycastRP.Addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(constRand(half))
			cfg.AnycastRP = &tc.set
			err := cfg.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("Validate: %v, want an error on %s", err, tc.field)
			}
		})
	}
	cfg := testConfig(constRand(half))
	cfg.AnycastRP = &AnycastRP{Addr: selfG, Members: []netip.Addr{selfM, peer1}}
	if err := cfg.Validate(); err != nil {
		t.Errorf("a good set: %v", err)
	}
}
