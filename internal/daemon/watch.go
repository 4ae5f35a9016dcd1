package daemon

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/view"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
)

// The event stream of the control socket (ctl.CommandWatch). The loop
// publishes; it never waits for a watcher: each has a bounded buffer, and
// what does not fit is dropped and counted, then announced by a
// ctl.EventLost before the next event that fits. A watcher that stops
// reading is disconnected by the control server (its write deadline), not
// here. With no watcher, publishing costs one atomic load.

const (
	// eventBuffer is each watcher's buffer, in events.
	eventBuffer = 1024
	// maxWatchers bounds the watchers at once.
	maxWatchers = 16
)

var errTooManyWatchers = fmt.Errorf("too many watchers (%d); try again later", maxWatchers)

// eventHub fans events out to its subscribers. The zero value is ready.
type eventHub struct {
	n  atomic.Int32 // len(subs), read without the lock
	mu sync.Mutex
	// subs are the subscribers; a subscriber's channel is closed when it
	// leaves the map, under mu, so a send under mu never meets a closed
	// channel.
	subs   map[*eventSub]struct{}
	closed bool
}

type eventSub struct {
	ch   chan ctl.Event
	lost int // events dropped since the last that fitted (under mu)
}

func (h *eventHub) subscribe(buffer int) (*eventSub, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, ErrStopped
	case len(h.subs) >= maxWatchers:
		return nil, errTooManyWatchers
	}
	if h.subs == nil {
		h.subs = make(map[*eventSub]struct{})
	}
	s := &eventSub{ch: make(chan ctl.Event, buffer)}
	h.subs[s] = struct{}{}
	h.n.Store(int32(len(h.subs)))
	return s, nil
}

// unsubscribe removes s and closes its channel; again is harmless.
func (h *eventHub) unsubscribe(s *eventSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.ch)
		h.n.Store(int32(len(h.subs)))
	}
}

// close ends every subscription and refuses new ones.
func (h *eventHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		close(s.ch)
	}
	h.subs = nil
	h.n.Store(0)
}

// active says whether anybody watches: events are worth making.
func (h *eventHub) active() bool { return h.n.Load() > 0 }

// publish hands ev to every subscriber that has room, without waiting.
func (h *eventHub) publish(ev ctl.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.lost > 0 {
			// The marker and the event must both fit, so that the
			// marker sits where the gap is.
			if cap(s.ch)-len(s.ch) < 2 {
				s.lost++
				continue
			}
			s.ch <- ctl.Event{Time: ev.Time, Type: ctl.EventLost, Lost: s.lost}
			s.lost = 0
		}
		select {
		case s.ch <- ev:
		default:
			s.lost++
		}
	}
}

// Watch subscribes to the daemon's events (ctl.Handler.Watch). The channel
// is closed once the daemon has stopped (after the events of its shutdown)
// or after stop. It may be called from any goroutine.
func (d *Daemon) Watch(ctx context.Context) (<-chan ctl.Event, func(), error) {
	return d.watch(ctx, eventBuffer)
}

func (d *Daemon) watch(ctx context.Context, buffer int) (<-chan ctl.Event, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	select {
	case <-d.stopped:
		return nil, nil, ErrStopped
	default:
	}
	s, err := d.events.subscribe(buffer)
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	var once sync.Once
	stop := func() {
		once.Do(func() {
			close(done)
			d.events.unsubscribe(s)
		})
	}
	go func() {
		select {
		case <-d.stopped:
			// The loop has ended: nothing more comes.
			d.events.unsubscribe(s)
		case <-done:
		}
	}()
	return s.ch, stop, nil
}

// publish stamps ev with now and hands it to the watchers.
func (d *Daemon) publish(now time.Time, ev ctl.Event) {
	ev.Time = now
	d.events.publish(ev)
}

// publishPIM hands the event a PIM action makes, if any (view.PIMEvent),
// to the watchers. A Route must be given before the MRIB applies it:
// whether the entry is new or gone is read from the MRIB's desired state.
func (d *Daemon) publishPIM(now time.Time, a pim.Action) {
	if !d.events.active() {
		return
	}
	if ev, ok := view.PIMEvent(a, d.name, d.mrib); ok {
		d.publish(now, ev)
	}
}

// publishMLD hands the event an MLD action makes, if any, to the
// watchers.
func (d *Daemon) publishMLD(now time.Time, a mld.Action) {
	if !d.events.active() {
		return
	}
	if ev, ok := view.MLDEvent(a, d.name); ok {
		d.publish(now, ev)
	}
}
