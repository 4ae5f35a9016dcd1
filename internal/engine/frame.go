package engine

import "time"

// Frame is the frame of an engine's events: engine time, the count of
// events, and the actions the current event has emitted.
//
// An engine's entry point calls Begin with the caller's `now`, Emits its
// actions as it goes, and returns Take when the event ends. Inside the
// engine, times are int64 nanoseconds since the first `now` the frame saw:
// deadlines that small keep per-entry state small, and they never read the
// wall clock. The zero Frame is ready to use.
type Frame[A any] struct {
	epoch   time.Time
	started bool
	ev      uint64
	acts    []A
}

// Rel returns t in engine time. The first time the frame sees becomes its
// epoch, engine time 0.
func (f *Frame[A]) Rel(t time.Time) int64 {
	if !f.started {
		f.epoch, f.started = t, true
	}
	return int64(t.Sub(f.epoch))
}

// Abs returns the wall time of engine time ns.
func (f *Frame[A]) Abs(ns int64) time.Time { return f.epoch.Add(time.Duration(ns)) }

// Begin starts an event at now and returns now in engine time.
func (f *Frame[A]) Begin(now time.Time) int64 {
	f.ev++
	return f.Rel(now)
}

// Event returns the number of the current event, counted from 1 by Begin.
// State that must be visited once per event records it: 0 is before any.
func (f *Frame[A]) Event() uint64 { return f.ev }

// Emit adds a to the actions of the event.
func (f *Frame[A]) Emit(a A) { f.acts = append(f.acts, a) }

// Take returns the actions emitted since the last Take, in order, and
// leaves the frame with none; the caller owns the slice.
func (f *Frame[A]) Take() []A {
	acts := f.acts
	f.acts = nil
	return acts
}
