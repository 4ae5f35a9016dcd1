// Package timerq is the timer queue of the protocol engines: a min-heap of
// deadlines with small integer timer IDs. It is pure data: nothing here
// reads the clock or sleeps. Engines keep the ID of each running timer in
// their state, set and stop timers as the RFCs say, and pop the expired ones
// when the daemon's loop calls them with `now`. The daemon arms one real
// timer for the earliest deadline over all queues.
//
// IDs come from an allocator (IDs) that several queues share, so that a
// timer ID is unique in the whole daemon: they are what `pim6stat` shows in
// the MLD section and the CallOut queue of the report. IDs are reused after
// the timer stops or fires, keeping them small.
//
// Cost: Set, Stop and Pop are O(log n) in the number of pending timers of
// the queue; timers that are not due cost nothing.
package timerq

import (
	"sort"
	"time"
)

// ID names a pending timer. 0 is never issued: state uses it for "no timer".
type ID uint32

// IDs allocates timer IDs. The zero value is ready to use.
type IDs struct {
	next ID
	free []ID
}

// alloc returns the smallest free ID, a new one when none is free. Taking
// the smallest (a min-heap of the free IDs) makes the IDs handed out
// independent of the order in which timers were released: an engine that
// stops timers while walking a map still numbers its next timers the same
// way in every run, so a simulation is deterministic and timers of equal
// deadline fire in the same order.
func (a *IDs) alloc() ID {
	n := len(a.free)
	if n == 0 {
		a.next++
		return a.next
	}
	id := a.free[0]
	n--
	a.free[0] = a.free[n]
	a.free = a.free[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && a.free[l] < a.free[m] {
			m = l
		}
		if r := l + 1; r < n && a.free[r] < a.free[m] {
			m = r
		}
		if m == i {
			break
		}
		a.free[i], a.free[m] = a.free[m], a.free[i]
		i = m
	}
	return id
}

func (a *IDs) release(id ID) {
	a.free = append(a.free, id)
	for i := len(a.free) - 1; i > 0; {
		p := (i - 1) / 2
		if a.free[p] <= a.free[i] {
			break
		}
		a.free[p], a.free[i] = a.free[i], a.free[p]
		i = p
	}
}

type item[V any] struct {
	at  int64 // nanoseconds since the queue's epoch
	id  ID
	val V
}

// Queue holds pending timers, each with a value V saying what it is for.
type Queue[V any] struct {
	ids      *IDs
	epoch    time.Time
	hasEpoch bool
	items    []item[V]
	// pos is the heap index of each pending timer, by ID, -1 when not in
	// this queue. IDs are small and dense (reused), so a slice beats a map.
	pos []int32
}

// New returns an empty queue drawing IDs from ids.
func New[V any](ids *IDs) *Queue[V] {
	if ids == nil {
		ids = new(IDs)
	}
	return &Queue[V]{ids: ids}
}

// index returns the heap index of a pending timer.
func (q *Queue[V]) index(id ID) (int32, bool) {
	if int(id) >= len(q.pos) || q.pos[id] < 0 {
		return 0, false
	}
	return q.pos[id], true
}

func (q *Queue[V]) setPos(id ID, i int32) {
	for int(id) >= len(q.pos) {
		q.pos = append(q.pos, -1)
	}
	q.pos[id] = i
}

func (q *Queue[V]) rel(t time.Time) int64 {
	if !q.hasEpoch {
		q.epoch, q.hasEpoch = t, true
	}
	return int64(t.Sub(q.epoch))
}

func (q *Queue[V]) abs(ns int64) time.Time { return q.epoch.Add(time.Duration(ns)) }

// Set starts the timer *id at `at` with value v, or moves it if it is
// already pending (*id != 0), keeping its ID. It stores a new ID in *id.
func (q *Queue[V]) Set(id *ID, at time.Time, v V) {
	ns := q.rel(at)
	if *id != 0 {
		if i, ok := q.index(*id); ok {
			old := q.items[i].at
			q.items[i].at = ns
			q.items[i].val = v
			if ns < old {
				q.up(int(i))
			} else {
				q.down(int(i))
			}
			return
		}
	}
	*id = q.ids.alloc()
	q.items = append(q.items, item[V]{at: ns, id: *id, val: v})
	q.setPos(*id, int32(len(q.items)-1))
	q.up(len(q.items) - 1)
}

// Stop cancels the timer *id if it is pending and sets *id to 0.
func (q *Queue[V]) Stop(id *ID) {
	if *id == 0 {
		return
	}
	if i, ok := q.index(*id); ok {
		q.remove(int(i))
	}
	*id = 0
}

// When returns the deadline of a pending timer.
func (q *Queue[V]) When(id ID) (time.Time, bool) {
	i, ok := q.index(id)
	if !ok {
		return time.Time{}, false
	}
	return q.abs(q.items[i].at), true
}

// Remaining returns how long the timer id has left at now (0 when not
// pending or already due).
func (q *Queue[V]) Remaining(id ID, now time.Time) time.Duration {
	at, ok := q.When(id)
	if !ok || !at.After(now) {
		return 0
	}
	return at.Sub(now)
}

// Next returns the earliest deadline.
func (q *Queue[V]) Next() (time.Time, bool) {
	if len(q.items) == 0 {
		return time.Time{}, false
	}
	return q.abs(q.items[0].at), true
}

// Peek returns the earliest timer's ID and deadline, leaving it queued.
// An owner of several queues that share one IDs fires their timers in the
// order one queue would (see Earlier): the one whose Peek is earliest
// first.
func (q *Queue[V]) Peek() (ID, time.Time, bool) {
	if len(q.items) == 0 {
		return 0, time.Time{}, false
	}
	return q.items[0].id, q.abs(q.items[0].at), true
}

// Earlier reports whether timer a (deadline aAt) comes before timer b in
// the order of a queue: the earlier deadline first, then the lower ID.
func Earlier(aAt time.Time, a ID, bAt time.Time, b ID) bool {
	return aAt.Before(bAt) || aAt.Equal(bAt) && a < b
}

// Pop removes and returns the earliest timer whose deadline is not after
// now. Its ID is released: the caller must clear the ID it stored.
func (q *Queue[V]) Pop(now time.Time) (ID, V, bool) {
	var zero V
	if len(q.items) == 0 || q.abs(q.items[0].at).After(now) {
		return 0, zero, false
	}
	it := q.items[0]
	q.remove(0)
	return it.id, it.val, true
}

// Len is the number of pending timers.
func (q *Queue[V]) Len() int { return len(q.items) }

// Pending is one pending timer, for status output.
type Pending struct {
	ID ID
	At time.Time
}

// All lists the pending timers in deadline order (ties by ID).
func (q *Queue[V]) All() []Pending {
	out := make([]Pending, len(q.items))
	for i, it := range q.items {
		out[i] = Pending{it.id, q.abs(it.at)}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (q *Queue[V]) remove(i int) {
	last := len(q.items) - 1
	id := q.items[i].id
	if i != last {
		q.swap(i, last)
	}
	var zero item[V]
	q.items[last] = zero // drop the reference held by val
	q.items = q.items[:last]
	q.pos[id] = -1
	q.ids.release(id)
	if i != last {
		q.down(i)
		q.up(i)
	}
}

func (q *Queue[V]) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	return a.at < b.at || a.at == b.at && a.id < b.id
}

func (q *Queue[V]) swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.pos[q.items[i].id] = int32(i)
	q.pos[q.items[j].id] = int32(j)
}

func (q *Queue[V]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			return
		}
		q.swap(i, p)
		i = p
	}
}

func (q *Queue[V]) down(i int) {
	n := len(q.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			return
		}
		q.swap(i, m)
		i = m
	}
}
