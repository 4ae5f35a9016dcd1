package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// nlBurst adds count /128 addresses to v0 in one ip -batch run: a burst of
// address and route notifications.
func nlBurst(t *testing.T, p *nlPair, subnet, count int) {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= count; i++ {
		fmt.Fprintf(&b, "addr add 2001:db8:%x::%x/128 dev v0 nodad\n", subnet, i)
	}
	f := filepath.Join(t.TempDir(), "burst")
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p.a.MustRun("ip", "-6", "-batch", f)
}

// tinyBuffers make the kernel overrun the subscription sockets soon after
// the consumer stops reading: 64 KiB (the kernel doubles what it is
// asked) holds a few dozen notifications, not a burst of 500 addresses.
var tinyBuffers = subscribeConfig{rcvbuf: 32 << 10, libChan: 1, outChan: 1}

// A consumer too slow for a burst makes the kernel drop notifications
// (ENOBUFS). That must not pass silently: a ResyncEvent comes, and the
// subscription goes on (a change made afterwards is reported).
func TestNetlinkSubscribeOverrun(t *testing.T) {
	p := newNLPair(t)
	ev := nlSubscribe(t, p.n, &tinyBuffers, nil)
	nlBurst(t, p, 0x40, 500) // nobody reads meanwhile

	r := ev.waitFor("ResyncEvent", func(e Event) bool { _, ok := e.(ResyncEvent); return ok }).(ResyncEvent)
	t.Logf("%d events before the ResyncEvent", len(ev.seen))
	if r.Err == nil || !strings.Contains(r.Err.Error(), "no buffer space") {
		t.Errorf("ResyncEvent.Err = %v, want the ENOBUFS overrun", r.Err)
	}
	for _, e := range ev.seen {
		if _, ok := e.(ErrorEvent); ok {
			t.Fatalf("ErrorEvent before the resync: %+v", e)
		}
	}
	// What the consumer does on a ResyncEvent: read again. Nothing of the
	// burst is missing.
	addrs, err := p.n.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	burst := 0
	for _, a := range addrs {
		if a.Prefix.Bits() == 128 && strings.HasPrefix(a.Prefix.String(), "2001:db8:40::") {
			burst++
		}
	}
	if burst != 500 {
		t.Errorf("Addrs() after the resync lists %d addresses of the burst, want 500", burst)
	}
	// The subscription goes on. Each kind overruns and resyncs on its
	// own, so a marker added now may still fall into a later overrun: then
	// a ResyncEvent comes instead (and the marker is in Addrs). Try new
	// markers until one arrives as an AddrEvent.
	for i := 1; ; i++ {
		marker := fmt.Sprintf("2001:db8:41::%x/64", i)
		if i > 20 {
			t.Fatalf("no marker address arrived as an AddrEvent")
		}
		p.a.AddAddr("v0", marker)
		e := ev.waitFor("AddrEvent of "+marker+" or a ResyncEvent", func(e Event) bool {
			ae, ok := e.(AddrEvent)
			_, resync := e.(ResyncEvent)
			return resync || ok && ae.Addr.Prefix == nlPrefix(marker)
		})
		if _, ok := e.(AddrEvent); ok {
			return
		}
		if !nlHasAddr(t, p.n, marker) {
			t.Fatalf("a ResyncEvent came, and Addrs() misses %s", marker)
		}
	}
}

func nlHasAddr(t *testing.T, n *Netlink, prefix string) bool {
	t.Helper()
	addrs, err := n.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if a.Prefix == nlPrefix(prefix) {
			return true
		}
	}
	return false
}

// When a lost subscription cannot be made again, an ErrorEvent is the
// last event and the channel closes, although done is still open.
func TestNetlinkSubscribeFails(t *testing.T) {
	p := newNLPair(t)
	injected := errors.New("injected failure")
	ev := nlSubscribe(t, p.n, &tinyBuffers, func(string) error { return injected })
	nlBurst(t, p, 0x42, 500)

	deadline := time.After(nlDeadline)
	var last Event
	for {
		select {
		case e, ok := <-ev.ch:
			if ok {
				last = e
				continue
			}
			ee, isErr := last.(ErrorEvent)
			if !isErr || !errors.Is(ee.Err, injected) || !strings.Contains(ee.Err.Error(), "no buffer space") {
				t.Errorf("last event = %T%+v, want an ErrorEvent with the injected error and the overrun", last, last)
			}
			return
		case <-deadline:
			t.Fatalf("the channel did not close within %v; last event %T%+v", nlDeadline, last, last)
		}
	}
}

// Closing done closes the channel, also while the consumer lags behind a
// backlog, and leaves no goroutine or file descriptor behind.
func TestNetlinkSubscribeDone(t *testing.T) {
	p := newNLPair(t)
	goroutines, fds := runtime.NumGoroutine(), nlOpenFDs(t)

	done := make(chan struct{})
	ch, err := p.n.subscribe(done, subscribeConfig{libChan: 1, outChan: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := nlOpenFDs(t); got != fds+4 {
		t.Errorf("a subscription holds %d file descriptors, want 4 (3 sockets and the namespace)", got-fds)
	}
	nlBurst(t, p, 0x43, 20) // a backlog nobody reads
	close(done)
	timeout := time.After(nlDeadline)
	for open := true; open; {
		select {
		case _, open = <-ch:
		case <-timeout:
			t.Fatalf("the channel is still open %v after done was closed", nlDeadline)
		}
	}
	for deadline := time.Now().Add(nlDeadline); ; time.Sleep(10 * time.Millisecond) {
		g, f := runtime.NumGoroutine(), nlOpenFDs(t)
		if g <= goroutines && f <= fds {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("after the subscription ended: %d goroutines (was %d), %d fds (was %d)\n%s",
				g, goroutines, f, fds, buf[:runtime.Stack(buf, true)])
		}
	}

	// A subscription outlives the Netlink that made it.
	var n *Netlink
	if err := p.a.Do(func() (err error) { n, err = OpenNetlink(); return err }); err != nil {
		t.Fatal(err)
	}
	ev := nlSubscribe(t, n, nil, nil)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	nlAddDummy(t, p.a, "d9")
	ev.waitForLink("d9", "new", func(LinkEvent) bool { return true })
}

func nlOpenFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}
