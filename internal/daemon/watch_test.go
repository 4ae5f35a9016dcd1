package daemon

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/mrib"
	"github.com/pim6sd/pim6sd/pim"
)

// eventDaemon is just enough of a Daemon for its event stream.
func eventDaemon() *Daemon {
	return &Daemon{stopped: make(chan struct{}), ifs: map[int]*iface{}, mrib: mrib.New()}
}

var evOpts = cmp.Options{cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})}

func ev(typ string, n int) ctl.Event {
	return ctl.Event{Time: time.Unix(int64(n), 0), Type: typ, Limit: n}
}

// drain reads what is buffered on ch now.
func drain(ch <-chan ctl.Event) (got []ctl.Event, closed bool) {
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return got, true
			}
			got = append(got, e)
		default:
			return got, false
		}
	}
}

func mustWatch(t *testing.T, d *Daemon, buffer int) (<-chan ctl.Event, func()) {
	t.Helper()
	ch, stop, err := d.watch(context.Background(), buffer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return ch, stop
}

func TestEventHubFanOut(t *testing.T) {
	d := eventDaemon()
	if d.events.active() {
		t.Fatal("active with no watcher")
	}
	a, _ := mustWatch(t, d, 8)
	b, _ := mustWatch(t, d, 8)
	want := []ctl.Event{ev("x", 1), ev("y", 2), ev("z", 3)}
	for _, e := range want {
		d.events.publish(e)
	}
	for name, ch := range map[string]<-chan ctl.Event{"a": a, "b": b} {
		got, closed := drain(ch)
		if closed {
			t.Errorf("%s: closed", name)
		}
		if diff := cmp.Diff(want, got, evOpts); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// A slow watcher loses what does not fit, learns how much with one "lost"
// event where the gap is, and slows nobody else down.
func TestEventHubSlowSubscriber(t *testing.T) {
	d := eventDaemon()
	slow, _ := mustWatch(t, d, 4)
	fast, _ := mustWatch(t, d, 4)
	var fastGot []ctl.Event
	for i := range 10 {
		d.events.publish(ev("e", i)) // never blocks
		got, _ := drain(fast)
		fastGot = append(fastGot, got...)
	}
	if len(fastGot) != 10 {
		t.Errorf("the fast watcher got %d of 10 events", len(fastGot))
	}
	// The slow one's buffer holds e0..e3; e4..e9 are lost. With room for
	// only one, e10 is lost too (the marker must fit with it).
	<-slow
	d.events.publish(ev("e", 10))
	<-slow
	<-slow
	// Now room for three: the marker and e11 fit.
	d.events.publish(ev("e", 11))
	got, _ := drain(slow)
	want := []ctl.Event{ev("e", 3), {Time: time.Unix(11, 0), Type: ctl.EventLost, Lost: 7}, ev("e", 11)}
	if diff := cmp.Diff(want, got, evOpts); diff != "" {
		t.Errorf("slow watcher (-want +got):\n%s", diff)
	}
	// Caught up: no marker any more.
	d.events.publish(ev("e", 12))
	got, _ = drain(slow)
	if diff := cmp.Diff([]ctl.Event{ev("e", 12)}, got, evOpts); diff != "" {
		t.Errorf("after catching up (-want +got):\n%s", diff)
	}
}

func TestEventHubUnsubscribe(t *testing.T) {
	d := eventDaemon()
	a, stopA := mustWatch(t, d, 4)
	b, _ := mustWatch(t, d, 4)
	stopA()
	stopA() // again: harmless
	d.events.publish(ev("x", 1))
	if got, closed := drain(a); len(got) != 0 || !closed {
		t.Errorf("after stop: got %v, closed %v; want nothing, closed", got, closed)
	}
	if got, _ := drain(b); len(got) != 1 {
		t.Errorf("the other watcher got %v", got)
	}
	if n := d.events.n.Load(); n != 1 {
		t.Errorf("%d watchers counted, want 1", n)
	}
}

func TestEventHubDaemonStopped(t *testing.T) {
	d := eventDaemon()
	a, _ := mustWatch(t, d, 4)
	d.events.publish(ev("goodbye", 1))
	close(d.stopped)
	// The events published before the end are still read, then the end.
	select {
	case e := <-a:
		if e.Type != "goodbye" {
			t.Errorf("got %v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	select {
	case _, ok := <-a:
		if ok {
			t.Error("an event after the end")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the channel is not closed after the daemon stopped")
	}
	if _, _, err := d.Watch(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Watch after the stop: %v, want ErrStopped", err)
	}
}

func TestEventHubLimitAndClose(t *testing.T) {
	d := eventDaemon()
	for range maxWatchers {
		mustWatch(t, d, 1)
	}
	if _, _, err := d.watch(context.Background(), 1); !errors.Is(err, errTooManyWatchers) {
		t.Errorf("watcher %d: %v, want errTooManyWatchers", maxWatchers+1, err)
	}
	d.events.close()
	if d.events.active() {
		t.Error("active after close")
	}
	if _, _, err := d.watch(context.Background(), 1); !errors.Is(err, ErrStopped) {
		t.Errorf("after close: %v, want ErrStopped", err)
	}
}

// The loop publishes the events its engines' actions make (view.PIMEvent
// and view.MLDEvent) stamped with its now, and nothing while nobody
// watches.
func TestPublishActions(t *testing.T) {
	d := eventDaemon()
	d.ifs[3] = &iface{index: 3, name: "eth1"}
	now := time.Unix(100, 0)
	nbr := netip.MustParseAddr("fe80::2")

	d.publishPIM(now, pim.NeighborChange{IfIndex: 3, Neighbor: nbr, Up: true, Reason: pim.NeighborNew})
	ch, _ := mustWatch(t, d, 64)
	d.publishPIM(now, pim.NeighborChange{IfIndex: 3, Neighbor: nbr, Up: true, Reason: pim.NeighborNew})
	d.publishPIM(now, pim.SendPIM{}) // not an event
	d.publishMLD(now, mld.QuerierChange{IfIndex: 3, Querier: nbr})

	want := []ctl.Event{
		{Time: now, Type: ctl.EventNeighborUp, Iface: "eth1", Neighbor: nbr, Reason: "new"},
		{Time: now, Type: ctl.EventQuerierChange, Iface: "eth1", Querier: nbr},
	}
	got, _ := drain(ch)
	if diff := cmp.Diff(want, got, evOpts); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
