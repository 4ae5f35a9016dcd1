package ctl_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/ctl/ctltest"
)

// fakeEvents is a daemon's event source for the server: each Watch gets
// the next channel from subs, and stop is counted.
type fakeEvents struct {
	subs    chan chan ctl.Event
	stopped atomic.Int32
	stops   chan struct{}
}

func newFakeEvents() *fakeEvents {
	return &fakeEvents{subs: make(chan chan ctl.Event, 16), stops: make(chan struct{}, 16)}
}

// next makes the channel of the next watcher.
func (f *fakeEvents) next(buffer int) chan ctl.Event {
	ch := make(chan ctl.Event, buffer)
	f.subs <- ch
	return ch
}

func (f *fakeEvents) watch(ctx context.Context) (<-chan ctl.Event, func(), error) {
	select {
	case ch := <-f.subs:
		return ch, func() { f.stopped.Add(1); f.stops <- struct{}{} }, nil
	default:
		return nil, nil, errors.New("no more watchers")
	}
}

func (f *fakeEvents) waitStop(t *testing.T) {
	t.Helper()
	select {
	case <-f.stops:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not end the subscription")
	}
}

var eventOpts = cmp.Options{cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})}

func sampleEvent(n int) ctl.Event {
	return ctl.Event{
		Time: time.Date(2025, 6, 1, 10, 0, n, 0, time.UTC), Type: ctl.EventNeighborUp,
		Iface: "eth1", Neighbor: netip.MustParseAddr("fe80::2"), Reason: "new",
	}
}

func TestWatchStream(t *testing.T) {
	f := newFakeEvents()
	// One slot: the watcher must not hold it, or the ping below is "busy".
	s := serve(t, ctl.ServerConfig{MaxConns: 1}, ctl.Handler{Watch: f.watch, Snapshot: seedHandler().Snapshot})
	ch := f.next(8)
	cl := &ctl.Client{Path: s.Path(), Timeout: 5 * time.Second}
	w, err := cl.Watch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	want := []ctl.Event{sampleEvent(1), sampleEvent(2), {Type: ctl.EventLost, Lost: 3}}
	for _, e := range want {
		ch <- e
	}
	for i, e := range want {
		got, err := w.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if diff := cmp.Diff(e, got, eventOpts); diff != "" {
			t.Errorf("event %d (-want +got):\n%s", i, diff)
		}
	}
	// The one-shot commands go on while a watcher is connected: it holds
	// no slot. (A slot is freed just after its answer is written, so a
	// client quick enough may still find it taken for a moment: retry
	// "busy" a little.)
	for _, cmd := range []string{ctl.CommandPing, ctl.CommandSnapshot, ctl.CommandPing} {
		var err error
		for try := 0; try < 100; try++ {
			if _, err = cl.Do(context.Background(), ctl.Request{Version: ctl.ProtocolVersion, Command: cmd}); err == nil || !strings.Contains(err.Error(), "busy") {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("%s during a watch: %v", cmd, err)
		}
	}
	// The client leaves: the subscription ends.
	w.Close()
	f.waitStop(t)
	if _, err := w.Next(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Next after Close: %v, want net.ErrClosed", err)
	}
}

// The wire: the ok Response, then one JSON event per line.
func TestWatchWire(t *testing.T) {
	f := newFakeEvents()
	s := serve(t, ctl.ServerConfig{}, ctl.Handler{Watch: f.watch})
	ch := f.next(8)
	c, err := net.Dial("unix", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(`{"version":1,"command":"watch"}`)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil || line != `{"version":1,"ok":true}`+"\n" {
		t.Fatalf("first line %q (%v), want the ok Response", line, err)
	}
	ch <- sampleEvent(1)
	line, err = r.ReadString('\n')
	want := `{"time":"2025-06-01T10:00:01Z","type":"neighbor-up","iface":"eth1","neighbor":"fe80::2","reason":"new"}` + "\n"
	if err != nil || line != want {
		t.Fatalf("event line %q (%v), want %q", line, err, want)
	}
	// The daemon stops (it closes the channel): the connection ends.
	close(ch)
	if rest, err := r.ReadString('\n'); rest != "" || err == nil {
		t.Errorf("after the end: %q, %v; want EOF", rest, err)
	}
	f.waitStop(t)
}

func TestWatchEndedByDaemon(t *testing.T) {
	f := newFakeEvents()
	s := serve(t, ctl.ServerConfig{}, ctl.Handler{Watch: f.watch})
	ch := f.next(1)
	w, err := (&ctl.Client{Path: s.Path()}).Watch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	close(ch)
	_, err = w.Next()
	var se *ctl.StreamEndedError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "closed the event stream") {
		t.Errorf("Next: %v, want a StreamEndedError", err)
	}
}

// Close ends the watchers and waits for them.
func TestWatchServerClose(t *testing.T) {
	f := newFakeEvents()
	path := ctltest.SocketPath(t)
	s, err := ctl.Listen(ctl.ServerConfig{Path: path}, ctl.Handler{Watch: f.watch})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	f.next(1)
	f.next(1)
	var ws []*ctl.Watcher
	for range 2 {
		w, err := (&ctl.Client{Path: path}).Watch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		ws = append(ws, w)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with watchers connected")
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if n := f.stopped.Load(); n != 2 {
		t.Errorf("%d subscriptions ended by Close, want 2", n)
	}
	for i, w := range ws {
		var se *ctl.StreamEndedError
		if _, err := w.Next(); !errors.As(err, &se) {
			t.Errorf("watcher %d: Next after Close: %v, want a StreamEndedError", i, err)
		}
	}
}

func TestWatchContext(t *testing.T) {
	f := newFakeEvents()
	s := serve(t, ctl.ServerConfig{}, ctl.Handler{Watch: f.watch})
	f.next(1)
	ctx, cancel := context.WithCancel(context.Background())
	w, err := (&ctl.Client{Path: s.Path()}).Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := w.Next(); !errors.Is(err, context.Canceled) {
		t.Errorf("Next: %v, want context.Canceled", err)
	}
	f.waitStop(t)
}

func TestWatchRefused(t *testing.T) {
	t.Run("not supported", func(t *testing.T) {
		s := serve(t, ctl.ServerConfig{}, ctl.Handler{})
		_, err := (&ctl.Client{Path: s.Path()}).Watch(context.Background())
		var de *ctl.DaemonError
		if !errors.As(err, &de) || de.Msg != "watch: not supported by this daemon" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("handler error", func(t *testing.T) {
		f := newFakeEvents() // no channel: refused
		s := serve(t, ctl.ServerConfig{}, ctl.Handler{Watch: f.watch})
		_, err := (&ctl.Client{Path: s.Path()}).Watch(context.Background())
		var de *ctl.DaemonError
		if !errors.As(err, &de) || de.Msg != "watch: no more watchers" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("listed as known", func(t *testing.T) {
		s := serve(t, ctl.ServerConfig{}, ctl.Handler{})
		_, err := (&ctl.Client{Path: s.Path()}).Do(context.Background(), ctl.Request{Version: ctl.ProtocolVersion, Command: "nope"})
		if err == nil || !strings.Contains(err.Error(), "watch") {
			t.Errorf("got %v, want the known commands with watch", err)
		}
	})
	t.Run("other version", func(t *testing.T) {
		s := serve(t, ctl.ServerConfig{}, ctl.Handler{Watch: newFakeEvents().watch})
		_, err := (&ctl.Client{Path: s.Path()}).Do(context.Background(), ctl.Request{Version: 2, Command: ctl.CommandWatch})
		if err == nil || !strings.Contains(err.Error(), "version 2 is not supported") {
			t.Errorf("got %v", err)
		}
	})
}

func TestEventText(t *testing.T) {
	at := time.Date(2025, 6, 1, 10, 0, 0, 0, time.Local)
	prio := 64
	for _, tc := range []struct {
		ev   ctl.Event
		want string
	}{
		{sampleEvent(0), "PIM neighbor fe80::2 up on eth1 (new)"},
		{ctl.Event{Type: ctl.EventNeighborDown, Iface: "eth1", Neighbor: netip.MustParseAddr("fe80::2"), Reason: "goodbye"}, "PIM neighbor fe80::2 down on eth1 (goodbye)"},
		{ctl.Event{Type: ctl.EventDRChange, Iface: "eth1", DR: netip.MustParseAddr("fe80::1"), Self: true}, "DR on eth1 is fe80::1 (this router)"},
		{ctl.Event{Type: ctl.EventQuerierChange, Iface: "eth1", Querier: netip.MustParseAddr("fe80::1")}, "MLD querier on eth1 is fe80::1"},
		{ctl.Event{Type: ctl.EventBSRChange, BSR: netip.MustParseAddr("2001:db8::1"), Priority: &prio, State: "accept-preferred"}, "BSR 2001:db8::1 priority 64 (state accept-preferred)"},
		{ctl.Event{Type: ctl.EventBSRChange, State: "no-info"}, "no BSR (state no-info)"},
		{ctl.Event{Type: ctl.EventBSRChange, BSR: netip.MustParseAddr("2001:db8::1"), Priority: &prio, State: "elected", Zone: netip.MustParsePrefix("ff15::/16")},
			"BSR of scope zone ff15::/16 2001:db8::1 priority 64 (state elected)"},
		{ctl.Event{Type: ctl.EventBSRChange, State: "no-info", Zone: netip.MustParsePrefix("ff15::/16")}, "no BSR of scope zone ff15::/16 (state no-info)"},
		{ctl.Event{Type: ctl.EventRPChange, Group: netip.MustParseAddr("ff0e::1"), RP: netip.MustParseAddr("2001:db8::1"), Origin: "bsr"}, "RP of group ff0e::1 is 2001:db8::1 (bsr)"},
		{ctl.Event{Type: ctl.EventRPChange, Group: netip.MustParseAddr("ff0e::1")}, "group ff0e::1 has no RP now"},
		{ctl.Event{Type: ctl.EventRouteAdded, Group: netip.MustParseAddr("ff0e::1"), Kind: "*,G"}, "route (*, ff0e::1) added"},
		{ctl.Event{Type: ctl.EventRouteRemoved, Group: netip.MustParseAddr("ff0e::1"), Kind: "*,G"}, "route (*, ff0e::1) removed"},
		{ctl.Event{Type: ctl.EventRouteAdded, Source: netip.MustParseAddr("2001:db8::10"), Group: netip.MustParseAddr("ff3e::1"), IIF: "eth0", OIFs: []string{"eth1", "eth2"}}, "route (2001:db8::10, ff3e::1) added: in eth0, out eth1,eth2"},
		{ctl.Event{Type: ctl.EventRouteRemoved, Source: netip.MustParseAddr("2001:db8::10"), Group: netip.MustParseAddr("ff3e::1")}, "route (2001:db8::10, ff3e::1) removed"},
		{ctl.Event{Type: ctl.EventLimitHit, Subsystem: "mld", Iface: "eth1", Kind: "groups", Limit: 100}, "MLD limit reached on eth1: groups (limit 100); further state is refused"},
		{ctl.Event{Type: ctl.EventLost, Lost: 5}, "5 events lost: this watcher read too slowly"},
		{ctl.Event{Type: "future-thing", Kind: "x", Limit: 2}, "future-thing kind=x limit=2"},
	} {
		tc.ev.Time = at
		want := "2025-06-01 10:00:00.000  " + tc.want
		if got := tc.ev.Text(); got != want {
			t.Errorf("%s: %q, want %q", tc.ev.Type, got, want)
		}
	}
	// Unknown fields and types are kept out of the way of old clients.
	var e ctl.Event
	if err := json.Unmarshal([]byte(`{"time":"2025-06-01T10:00:00Z","type":"x","new-field":1}`), &e); err != nil {
		t.Error(err)
	}
}
