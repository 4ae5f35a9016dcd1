package sim

import (
	"fmt"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// The snapshot's limits: a router allowed two routes, asked for four SSM
// channels, reports max-routes used 2 of 2 with the refusals, and its
// per-interface MLD and neighbor limits with their use.
func TestSnapshotLimits(t *testing.T) {
	n := New(t, Options{Delay: 100 * time.Microsecond})
	lanS, lanR := n.AddLink("lanS"), n.AddLink("lanR")
	r := n.AddRouter("r", asmConf(t, "2001:db8:ff::1", "[limits]\nmax-routes = 2\n"))
	r.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
	r.AddInterface("eth1", lanR, "fe80::1", "2001:db8:2::1/64")
	n.AddHost("s", lanS, "fe80::10", srcAddr)
	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20")
	n.AutoRoutes()
	n.Run(5 * time.Second)
	for i := range 4 {
		h.JoinSource(fmt.Sprintf("ff3e::%d", i+1), srcAddr)
	}
	n.Run(2 * time.Second)

	find := func(s *ctl.Snapshot, name, iface string) (ctl.Limit, bool) {
		for _, l := range s.Limits {
			if l.Name == name && l.Interface == iface {
				return l, true
			}
		}
		return ctl.Limit{}, false
	}
	s := r.Snapshot()
	if l, ok := find(s, "limits.max-routes", ""); !ok || l.Max != 2 || l.Used != 2 || l.Refused == 0 {
		t.Errorf("max-routes: %+v %v", l, ok)
	}
	if l, ok := find(s, "mld.max-groups", "eth1"); !ok || l.Max != 8192 || l.Used < 4 || l.Refused != 0 {
		t.Errorf("mld.max-groups on eth1: %+v %v", l, ok)
	}
	if l, ok := find(s, "mld.max-sources", "eth1"); !ok || l.Max != 1024 || l.Used != 1 {
		t.Errorf("mld.max-sources on eth1: %+v %v", l, ok)
	}
	if l, ok := find(s, "limits.max-neighbors-per-interface", "eth0"); !ok || l.Max != 128 || l.Used != 0 {
		t.Errorf("neighbors on eth0: %+v %v", l, ok)
	}
	for _, name := range []string{"bsr.max-rp-set", "embedded-rp.max-groups"} {
		if l, ok := find(s, name, ""); !ok || l.Max == 0 || l.Used != 0 {
			t.Errorf("%s: %+v %v", name, l, ok)
		}
	}
}
