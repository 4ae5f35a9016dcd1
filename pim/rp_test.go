package pim

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
)

// TestRPMapping: RP(G) is the RP of the longest prefix holding G, ties to
// the highest RP address; SSM groups and groups no prefix covers have none.
func TestRPMapping(t *testing.T) {
	cfg := testConfig(constRand(0))
	pfx := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	cfg.RPs = []StaticRP{
		{Addr: addr("2001:db8:ff::1"), Groups: pfx("ff00::/8")},
		{Addr: addr("2001:db8:ff::2"), Groups: pfx("ff0e::/16", "ff05::/16")},
		{Addr: addr("2001:db8:ff::3"), Groups: pfx("ff0e::/16")},
		{Addr: addr("2001:db8:ff::4"), Groups: pfx("ff0e::1:0/112")},
	}
	r, err := New(new(timerq.IDs), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		g    string
		want string
	}{
		{"ff0e::1:5", "2001:db8:ff::4"}, // longest prefix
		{"ff0e::2:5", "2001:db8:ff::3"}, // tie: the higher address
		{"ff05::1", "2001:db8:ff::2"},
		{"ff08::1", "2001:db8:ff::1"},
		{"ff3e::1", ""}, // SSM
		{"ff02::1", ""}, // link scope
		{"2001:db8::1", ""},
	} {
		got, ok := r.RP(addr(tc.g))
		if s := ""; ok {
			s = got.String()
			if s != tc.want {
				t.Errorf("RP(%s) = %s, want %s", tc.g, s, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("RP(%s): none, want %s", tc.g, tc.want)
		}
	}
	cfg.RPs = nil
	r, _ = New(new(timerq.IDs), cfg)
	if _, ok := r.RP(addr("ff0e::1")); ok {
		t.Error("an RP without configuration")
	}
}

// TestIAmRP: when RP(G) becomes one of our addresses, the (*,G) entry no
// longer joins toward it (RPF'(*,G) is NULL: Prune to the old neighbor);
// when it stops being ours, the Join goes out again.
func TestIAmRP(t *testing.T) {
	r := asmRouter(t, asmOpt{})
	run(t, r, nil, []step{starJoin(1)})
	acts := r.SetLocalAddresses(at(10), []netip.Addr{selfG, rpA})
	diff(t, "we are the RP", []string{pruneStar3}, only(render(acts), "jp"))
	diff(t, "state", upView{Joined, "", 0, true}, starUpView(r, at(10)))
	diff(t, "snapshot", true, starOf(r, at(10)).IAmRP)
	diff(t, "RPs", []RPState{{Addr: rpA, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}, Local: true}}, r.Snapshot(at(10)).RPs)
	diff(t, "unchanged", []Action(nil), r.SetLocalAddresses(at(11), []netip.Addr{rpA, selfG, addr("fe80::1")}))
	acts = r.SetLocalAddresses(at(20), []netip.Addr{selfG})
	diff(t, "not any more", []string{joinStar3}, only(render(acts), "jp"))
}

// TestSetConfig: a reload that moves a group into the SSM range drops its
// RP-tree state; one out of it gives SSM entries an RP; a bad one is
// refused whole.
func TestSetConfig(t *testing.T) {
	r := asmRouter(t, asmOpt{cfg: func(c *Config) { c.SPT.Never = true }})
	run(t, r, nil, []step{listenEx(1, ifD, s2), noCache(2, ifU, s1), listenIn(3, ifD, s2)})
	run(t, r, nil, []step{listenEx(4, ifD, s2)})
	bad := r.cfg
	bad.RegisterProbeTime = time.Minute
	if _, err := r.SetConfig(at(5), bad); err == nil || !strings.Contains(err.Error(), "RegisterProbeTime") {
		t.Errorf("bad config: %v", err)
	}
	cfg := r.cfg
	cfg.SSMRange = append(cfg.SSMRange, netip.MustParsePrefix("ff0e::/16"))
	acts, err := r.SetConfig(at(10), cfg)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "into the SSM range", []string{
		"jp(3) to fe80::3 ht=210 ff0e::1 join[] prune[*2001:db8:ff::1]",
		"route S1,ff0e::1 iif=0 oifs=[]", "uncount S1,ff0e::1",
		"unwatch S1", "unwatch S2", "unwatch 2001:db8:ff::1",
	}, only(render(acts), "jp", "route", "count", "uncount", "watch", "unwatch"))
	if st := r.Snapshot(at(10)); len(st.StarG) != 0 || len(st.Routes) != 0 {
		t.Errorf("left: %+v %+v", st.StarG, st.Routes)
	}
	diff(t, "EXCLUDE listeners dropped", []ListenerState(nil), ifaceState(r, at(10), ifD).Listeners)

	// Out of it again: an SSM channel becomes an ASM (S,G) with an RP.
	run(t, r, nil, []step{listenIn(20, ifD, s1)})
	cfg.SSMRange = DefaultSSMRange()
	acts, err = r.SetConfig(at(30), cfg)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "out of the SSM range", []string{"watch 2001:db8:ff::1", "count S1,ff0e::1"}, only(render(acts), "jp", "route", "count", "watch"))
	diff(t, "the RP", rpA, route(r, at(30), s1, gA).RP)
}
