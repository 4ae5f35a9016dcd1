package kernel

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pim6sd/pim6sd/internal/netns"
)

// nlCmp lets go-cmp compare netip values.
var nlCmp = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})

// nlDeadline bounds every wait for a kernel event. Events arrive within
// milliseconds; the deadline only matters when a test fails.
const nlDeadline = 5 * time.Second

// nlOpen opens a Netlink inside ns and closes it when the test ends. The
// handle is then used from the test's goroutine, outside the namespace,
// which is how the tests check that it stays bound to ns.
func nlOpen(t *testing.T, ns *netns.NS) *Netlink {
	t.Helper()
	var n *Netlink
	if err := ns.Do(func() (err error) { n, err = OpenNetlink(); return err }); err != nil {
		t.Fatalf("OpenNetlink in %s: %v", ns.Name, err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

// nlEvents reads the events of one subscription.
type nlEvents struct {
	t    *testing.T
	ch   <-chan Event
	done chan struct{}
	seen []Event // skipped while waiting, for failure messages
}

// nlSubscribe subscribes with cfg (nil: the defaults) from the test's
// goroutine; done is closed when the test ends, and the channel must then
// close.
func nlSubscribe(t *testing.T, n *Netlink, cfg *subscribeConfig, hook func(string) error) *nlEvents {
	t.Helper()
	c := defaultSubscribeConfig
	if cfg != nil {
		c = *cfg
	}
	done := make(chan struct{})
	ch, err := n.subscribe(done, c, hook)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	e := &nlEvents{t: t, ch: ch, done: done}
	t.Cleanup(func() { e.stop(t) })
	return e
}

// stop closes done and waits for the channel to close.
func (e *nlEvents) stop(t *testing.T) {
	select {
	case <-e.done:
	default:
		close(e.done)
	}
	deadline := time.After(nlDeadline)
	for {
		select {
		case _, ok := <-e.ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Errorf("the event channel is still open %v after done was closed", nlDeadline)
			return
		}
	}
}

// next returns the next event, or fails the test at the deadline.
func (e *nlEvents) next(deadline <-chan time.Time, what string) (Event, bool) {
	e.t.Helper()
	select {
	case ev, ok := <-e.ch:
		if !ok {
			e.t.Fatalf("waiting for %s: the event channel closed; events before: %s", what, nlFormat(e.seen))
		}
		return ev, true
	case <-deadline:
		e.t.Fatalf("no %s within %v; events seen meanwhile: %s", what, nlDeadline, nlFormat(e.seen))
	}
	return nil, false
}

// waitFor reads events until one matches, skipping the others (the
// kernel sends many events a test does not care about).
func (e *nlEvents) waitFor(what string, match func(Event) bool) Event {
	e.t.Helper()
	e.seen = e.seen[:0]
	deadline := time.After(nlDeadline)
	for {
		ev, _ := e.next(deadline, what)
		if match(ev) {
			return ev
		}
		e.seen = append(e.seen, ev)
	}
}

// waitForLink waits for a LinkEvent of the named link that satisfies ok.
func (e *nlEvents) waitForLink(name, what string, ok func(LinkEvent) bool) LinkEvent {
	e.t.Helper()
	return e.waitFor("LinkEvent of "+name+" "+what, func(ev Event) bool {
		le, isLink := ev.(LinkEvent)
		return isLink && le.Link.Name == name && ok(le)
	}).(LinkEvent)
}

// waitForAddr waits for an AddrEvent of prefix that satisfies ok.
func (e *nlEvents) waitForAddr(prefix, what string, ok func(AddrEvent) bool) AddrEvent {
	e.t.Helper()
	p := netip.MustParsePrefix(prefix)
	return e.waitFor("AddrEvent of "+prefix+" "+what, func(ev Event) bool {
		ae, isAddr := ev.(AddrEvent)
		return isAddr && ae.Addr.Prefix == p && ok(ae)
	}).(AddrEvent)
}

// waitForRoute waits for a RouteEvent of dst that satisfies ok.
func (e *nlEvents) waitForRoute(dst, what string, ok func(RouteEvent) bool) RouteEvent {
	e.t.Helper()
	p := netip.MustParsePrefix(dst)
	return e.waitFor("RouteEvent of "+dst+" "+what, func(ev Event) bool {
		re, isRoute := ev.(RouteEvent)
		return isRoute && re.Route.Dst == p && ok(re)
	}).(RouteEvent)
}

func nlFormat(evs []Event) string {
	if len(evs) == 0 {
		return "none"
	}
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "\n\t%T%+v", ev, ev)
	}
	return b.String()
}

// nlAddDummy adds an always-up, carrier-on link without a peer: a dummy
// link, or an ifb link where the kernel lacks the dummy driver (ifb
// behaves the same for these tests). It returns the kind it made.
func nlAddDummy(t *testing.T, ns *netns.NS, name string) string {
	t.Helper()
	kind := "dummy"
	if _, err := ns.Run("ip", "link", "add", name, "type", "dummy"); err != nil {
		kind = "ifb"
		if _, err2 := ns.Run("ip", "link", "add", name, "type", "ifb"); err2 != nil {
			t.Fatalf("neither a dummy nor an ifb link: %v; %v", err, err2)
		}
	}
	ns.LinkUp(name)
	return kind
}

// ipLinkFlag reports whether `ip -json link show NAME` lists flag (as
// "MULTICAST"): iproute2's reading of the kernel, independent of ours.
func ipLinkFlag(t *testing.T, ns *netns.NS, name, flag string) bool {
	t.Helper()
	var links []struct {
		Flags []string `json:"flags"`
	}
	out := ns.MustRun("ip", "-json", "link", "show", name)
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -json link show %s: %v: %s", name, err, out)
	}
	return slices.Contains(links[0].Flags, flag)
}

// nlLink finds the link called name.
func nlLink(t *testing.T, links []Link, name string) Link {
	t.Helper()
	for _, l := range links {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("no link %s in %+v", name, links)
	return Link{}
}

// nlPair is the topology most tests use: namespace a ("us") with veth v0
// to namespace b (peer end p0) and a dummy-like link d0.
type nlPair struct {
	a, b   *netns.NS
	n      *Netlink // in a
	v0, d0 int      // indexes in a
	d0Kind string
}

func newNLPair(t *testing.T) *nlPair {
	t.Helper()
	a, b := netns.New(t, "nla"), netns.New(t, "nlb")
	netns.Veth(t, a, "v0", b, "p0")
	kind := nlAddDummy(t, a, "d0")
	return &nlPair{a: a, b: b, n: nlOpen(t, a), v0: a.IfIndex("v0"), d0: a.IfIndex("d0"), d0Kind: kind}
}

func nlPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func nlAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }
