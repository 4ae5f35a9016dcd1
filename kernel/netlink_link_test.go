package kernel

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6sd/pim6sd/internal/netns"
)

// Links lists lo, a veth end, a dummy, a bridge and its port with the
// kernel's indexes, kinds, flags and MTUs, from a goroutine outside the
// namespace.
func TestNetlinkLinks(t *testing.T) {
	a, b := netns.New(t, "nll"), netns.New(t, "nlp")
	netns.Veth(t, a, "v0", b, "p0")
	netns.Veth(t, a, "v1", b, "p1")
	a.MustRun("ip", "link", "set", "v0", "mtu", "1400")
	kind := nlAddDummy(t, a, "d0")
	a.Bridge("br0", "v1")
	a.MustRun("ip", "link", "add", "br1", "type", "bridge") // no ports, left down
	n := nlOpen(t, a)

	want := []Link{
		{Name: "lo", Up: true, AdminUp: true, LowerUp: true, Loopback: true, MTU: 65536, Kind: "", LinkType: "loopback"},
		{Name: "v0", Up: true, AdminUp: true, LowerUp: true, Multicast: true, MTU: 1400, Kind: "veth", LinkType: "ether"},
		{Name: "v1", Up: true, AdminUp: true, LowerUp: true, Multicast: true, MTU: 1500, Kind: "veth", LinkType: "ether", Master: a.IfIndex("br0")},
		// Whether a dummy has IFF_MULTICAST depends on the kernel (6.1's
		// dummy clears it, 6.18's keeps it; ifb never has it): iproute2
		// says what this kernel set, and Links must say the same.
		{Name: "d0", Up: true, AdminUp: true, LowerUp: true, Multicast: ipLinkFlag(t, a, "d0", "MULTICAST"), MTU: 1500, Kind: kind, LinkType: "ether"},
		{Name: "br0", Up: true, AdminUp: true, LowerUp: true, Multicast: true, MTU: 1500, Kind: "bridge", LinkType: "ether"},
		{Name: "br1", Multicast: true, MTU: 1500, Kind: "bridge", LinkType: "ether"},
	}
	for i := range want {
		want[i].Index = a.IfIndex(want[i].Name)
	}
	// The kernel sets IFF_RUNNING from the carrier asynchronously
	// (linkwatch, up to a second later for a bridge), so poll until the
	// state settles.
	var diff string
	for deadline := time.Now().Add(nlDeadline); ; time.Sleep(20 * time.Millisecond) {
		links, err := n.Links()
		if err != nil {
			t.Fatal(err)
		}
		diff = ""
		if len(links) != len(want) {
			diff = fmt.Sprintf("Links() = %d links, want %d: %+v\n", len(links), len(want), links)
		}
		for _, w := range want {
			if d := cmp.Diff(w, nlLink(t, links, w.Name)); d != "" {
				diff += fmt.Sprintf("link %s (-want +got):\n%s", w.Name, d)
			}
		}
		if diff == "" || time.Now().After(deadline) {
			break
		}
	}
	if diff != "" {
		t.Error(diff)
	}
}

// Link state changes arrive as LinkEvents: admin down and up, carrier
// lost and back when the peer namespace takes its end down and up, a link
// added and deleted, and a bridge port leaving its bridge (which the
// kernel also announces with an AF_BRIDGE RTM_DELLINK that must not read
// as the link being deleted).
func TestNetlinkSubscribeLinkEvents(t *testing.T) {
	p := newNLPair(t)
	ev := nlSubscribe(t, p.n, nil, nil)

	t.Run("admin down and up", func(t *testing.T) {
		ev.t = t
		p.a.MustRun("ip", "link", "set", "v0", "down")
		l := ev.waitForLink("v0", "down", func(e LinkEvent) bool { return !e.Link.AdminUp })
		if l.Deleted || l.Link.Up || l.Link.Index != p.v0 {
			t.Errorf("after ip link set down: %+v, want AdminUp, Up false, index %d", l, p.v0)
		}
		p.a.MustRun("ip", "link", "set", "v0", "up")
		l = ev.waitForLink("v0", "up", func(e LinkEvent) bool { return e.Link.Up })
		if !l.Link.AdminUp || !l.Link.LowerUp || l.Deleted {
			t.Errorf("after ip link set up: %+v", l)
		}
	})

	t.Run("carrier from the peer", func(t *testing.T) {
		ev.t = t
		p.b.MustRun("ip", "link", "set", "p0", "down")
		// Our end stays administratively up; it loses carrier, so it is
		// not Up.
		l := ev.waitForLink("v0", "without carrier", func(e LinkEvent) bool { return !e.Link.LowerUp })
		if want := (Link{Index: p.v0, Name: "v0", AdminUp: true, Multicast: true, MTU: 1500, Kind: "veth", LinkType: "ether"}); l.Deleted || l.Link != want {
			t.Errorf("peer down: %+v, want %+v", l, want)
		}
		p.b.MustRun("ip", "link", "set", "p0", "up")
		ev.waitForLink("v0", "with carrier again", func(e LinkEvent) bool { return e.Link.Up && e.Link.LowerUp })
	})

	t.Run("added and deleted", func(t *testing.T) {
		ev.t = t
		kind := nlAddDummy(t, p.a, "d1")
		l := ev.waitForLink("d1", "new", func(e LinkEvent) bool { return e.Link.Up })
		if l.Deleted || l.Link.Kind != kind || l.Link.Index != p.a.IfIndex("d1") {
			t.Errorf("new link: %+v, want kind %s", l, kind)
		}
		p.a.MustRun("ip", "link", "del", "d1")
		l = ev.waitForLink("d1", "deleted", func(e LinkEvent) bool { return e.Deleted })
		if l.Link.Kind != kind {
			t.Errorf("deleted link: %+v", l)
		}
	})

	t.Run("bridge port leaves", func(t *testing.T) {
		ev.t = t
		p.a.Bridge("br0", "v0")
		ev.waitForLink("v0", "in br0", func(e LinkEvent) bool { return e.Link.Master != 0 })
		p.a.MustRun("ip", "link", "set", "v0", "nomaster")
		p.a.MustRun("ip", "link", "set", "v0", "mtu", "1280") // a marker after nomaster
		var deleted []LinkEvent
		ev.waitFor("LinkEvent of v0 with MTU 1280", func(e Event) bool {
			le, ok := e.(LinkEvent)
			if ok && le.Link.Name == "v0" && le.Deleted {
				deleted = append(deleted, le)
			}
			return ok && le.Link.Name == "v0" && le.Link.MTU == 1280
		})
		if len(deleted) > 0 {
			t.Errorf("v0 left the bridge and was reported deleted: %+v", deleted)
		}
	})
}

// A subscription made by a goroutine outside the namespace reports that
// namespace's changes only, not those of other namespaces.
func TestNetlinkSubscribeNamespace(t *testing.T) {
	a, other, third := netns.New(t, "nlsa"), netns.New(t, "nlso"), netns.New(t, "nlst")
	ev := nlSubscribe(t, nlOpen(t, a), nil, nil)

	nlAddDummy(t, other, "x0")
	netns.Veth(t, other, "x1", third, "x2")
	other.AddAddr("x1", "2001:db8:f0::1/64")
	nlAddDummy(t, a, "mark0")

	ev.waitForLink("mark0", "new", func(LinkEvent) bool { return true })
	for _, e := range ev.seen {
		t.Errorf("an event from outside %s: %T%+v", a.Name, e, e)
	}
	// And nothing of theirs is listed.
	links, err := nlOpen(t, a).Links()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if strings.HasPrefix(l.Name, "x") {
			t.Errorf("Links() in %s shows %+v", a.Name, l)
		}
	}
}
