package mld

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/engine"
	"github.com/pim6sd/pim6sd/internal/timerq"
)

// Packet is a received MLD message with what the IPv6 layer told about it.
type Packet struct {
	Src, Dst    netip.Addr
	HopLimit    int
	RouterAlert bool
	// Data is the ICMPv6 message from its Type byte. The Router does not
	// keep it.
	Data []byte
}

// Router is the MLD router of every MLD interface of the daemon. It is not
// safe for concurrent use: one event loop owns it.
type Router struct {
	q      *timerq.Queue[timerRef]
	ifaces map[int]*iface

	// Engine time and the actions of the event so far; then the groups
	// whose forwarding view may have changed in the event, with their
	// views from before it.
	frame   engine.Frame[Action]
	touched []touched
	oldView []key
	newView []key
}

// New returns a Router with no interfaces whose timers take their IDs from
// ids, shared with the daemon's other engines.
func New(ids *timerq.IDs) *Router {
	return &Router{q: timerq.New[timerRef](ids), ifaces: make(map[int]*iface)}
}

// Times inside the engine are nanoseconds since the first `now` it saw
// (engine.Frame): int64 deadlines keep the per-source state small.
func (r *Router) rel(t time.Time) int64  { return r.frame.Rel(t) }
func (r *Router) abs(ns int64) time.Time { return r.frame.Abs(ns) }

// begin starts an event and returns `now` in engine time.
func (r *Router) begin(now time.Time) int64 { return r.frame.Begin(now) }

func (r *Router) emit(a Action) { r.frame.Emit(a) }

// maxScratch is the most per-event scratch capacity kept between events.
const maxScratch = 1 << 16

// finish ends an event: it deletes records left empty, emits a
// ListenerUpdate for each routable group whose view changed (sorted by
// interface and group, after the other actions) and returns the actions.
func (r *Router) finish() []Action {
	var updates []ListenerUpdate
	for _, t := range r.touched {
		g := t.g
		if !g.deleted && g.mode == Include && len(g.sources) == 0 {
			r.removeGroup(g)
		}
		if g.srcLimitHit && len(g.sources) < g.ifc.cfg.MaxSources {
			g.srcLimitHit = false
		}
		if !g.routable {
			continue
		}
		r.newView = g.appendView(r.newView[:0])
		slices.SortFunc(r.newView, key.Compare)
		old := r.oldView[t.off : t.off+t.n]
		if t.mode == g.mode && slices.Equal(old, r.newView) {
			continue
		}
		u := ListenerUpdate{IfIndex: g.ifc.index, Group: g.addr.Addr(), Mode: g.mode}
		if len(r.newView) > 0 {
			u.Sources = make([]netip.Addr, len(r.newView))
			for i, k := range r.newView {
				u.Sources[i] = k.Addr()
			}
		}
		updates = append(updates, u)
	}
	slices.SortFunc(updates, func(a, b ListenerUpdate) int {
		if c := cmp.Compare(a.IfIndex, b.IfIndex); c != 0 {
			return c
		}
		return a.Group.Compare(b.Group)
	})
	for _, u := range updates {
		r.emit(u)
	}
	clear(r.touched) // drop the group pointers
	r.touched, r.oldView = r.touched[:0], r.oldView[:0]
	if cap(r.oldView) > maxScratch { // after a big event, such as RemoveInterface
		r.touched, r.oldView, r.newView = nil, nil, nil
	}
	return r.frame.Take()
}

// AddInterface starts MLD on an interface whose link-local address is self.
// The router starts as the Querier and sends its Startup Queries (RFC 3810
// section 7.6.2, 9.6, 9.7). An interface that exists already gets cfg and
// self as by SetConfig and SetAddress.
func (r *Router) AddInterface(now time.Time, ifindex int, name string, self netip.Addr, cfg Config) ([]Action, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	self = self.WithZone("")
	if !self.Is6() || self.Is4In6() || !self.IsLinkLocalUnicast() {
		return nil, fmt.Errorf("mld: interface %s: %v is not a link-local address", name, self)
	}
	if r.ifaces[ifindex] != nil {
		acts, err := r.SetConfig(now, ifindex, cfg)
		if err != nil {
			return nil, err
		}
		return append(acts, r.SetAddress(now, ifindex, self)...), nil
	}
	n := r.begin(now)
	ifc := &iface{index: ifindex, name: name, self: self, cfg: cloneConfig(cfg), groups: make(map[key]*group)}
	r.ifaces[ifindex] = ifc
	r.becomeQuerier(ifc, n, cfg.StartupQueryCount, true)
	return r.finish(), nil
}

// RemoveInterface stops MLD on an interface: every group's listeners are
// withdrawn (ListenerUpdates with no listeners) and its timers stopped.
func (r *Router) RemoveInterface(now time.Time, ifindex int) []Action {
	ifc := r.ifaces[ifindex]
	if ifc == nil {
		return nil
	}
	r.begin(now)
	for _, g := range ifc.groups {
		r.removeGroup(g)
	}
	r.q.Stop(&ifc.genQuery)
	r.q.Stop(&ifc.otherQuerier)
	r.q.Stop(&ifc.olderQuerier)
	delete(r.ifaces, ifindex)
	return r.finish()
}

// Interfaces returns the indexes of the MLD interfaces, sorted.
func (r *Router) Interfaces() []int {
	out := make([]int, 0, len(r.ifaces))
	for i := range r.ifaces {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

// Receive processes one MLD message received on the interface.
func (r *Router) Receive(now time.Time, ifindex int, pkt Packet) []Action {
	ifc := r.ifaces[ifindex]
	if ifc == nil {
		return nil
	}
	n := r.begin(now)
	r.receive(ifc, n, pkt)
	return r.finish()
}

// Expire fires every timer due at now.
func (r *Router) Expire(now time.Time) []Action {
	n := r.begin(now)
	for {
		id, ref, ok := r.q.Pop(now)
		if !ok {
			break
		}
		r.fire(n, id, ref)
	}
	return r.finish()
}

// NextDeadline returns when Expire should be called next. It may be earlier
// than any real expiry (see Timers in the package documentation).
func (r *Router) NextDeadline() (time.Time, bool) { return r.q.Next() }

// timerKind says what a queued timer is for.
type timerKind uint8

const (
	timerSource       timerKind = iota + 1 // source timer (7.2.1)
	timerFilter                            // Filter Timer (7.2.2)
	timerCompat                            // Older Version Host Present timer (8.3.2)
	timerRexmit                            // specific Query retransmission (7.6.3)
	timerGeneralQuery                      // next General Query (7.1, 9.2, 9.6)
	timerOtherQuerier                      // Other Querier Present timer (7.6.2)
	timerOlderQuerier                      // Older Version Querier Present timer (8.3.1)
)

// timerRef is the value of a queued timer: 32 octets, as one exists per
// source.
type timerRef struct {
	g       *group // group timers
	src     key    // source timers
	ifindex int32  // interface timers
	kind    timerKind
}

// lazySet sets a lazy timer (source or Filter Timer) whose true deadline is
// *at and queued timer *id to the deadline to. A later deadline is only
// written down; the queue is touched when the timer is not queued or moves
// earlier. See Timers in the package documentation.
func (r *Router) lazySet(id *timerq.ID, at *int64, to int64, ref timerRef) {
	if *id == 0 || to < *at {
		r.q.Set(id, r.abs(to), ref)
	}
	*at = to
}

// fire handles one popped timer; a lazy timer whose true deadline is later
// is queued again (it gets the same ID back: the queue reuses the ID it
// just released first).
func (r *Router) fire(now int64, id timerq.ID, ref timerRef) {
	switch ref.kind {
	case timerSource:
		g := ref.g
		s, ok := g.sources[ref.src]
		if !ok || s.id != id {
			return
		}
		s.id = 0
		if s.at > now {
			r.q.Set(&s.id, r.abs(s.at), ref)
			g.sources[ref.src] = s
			return
		}
		r.sourceExpired(g, ref.src, s)
	case timerFilter:
		g := ref.g
		if g.filter != id {
			return
		}
		g.filter = 0
		if g.filterAt > now {
			r.q.Set(&g.filter, r.abs(g.filterAt), ref)
			return
		}
		r.switchToInclude(g)
	case timerCompat:
		if ref.g.compat == id {
			ref.g.compat = 0
		}
	case timerRexmit:
		g := ref.g
		if g.rexmit != id {
			return
		}
		g.rexmit = 0
		r.sendSpecific(g, now)
	default:
		ifc := r.ifaces[int(ref.ifindex)]
		if ifc == nil {
			return
		}
		r.ifaceTimer(ifc, now, id, ref.kind)
	}
}

// sourceExpired is the expiry of a source timer (7.5, and the table of
// 7.2.3): in INCLUDE mode the source is deleted (an empty record is deleted
// when the event ends); in EXCLUDE mode it joins the Exclude List.
func (r *Router) sourceExpired(g *group, k key, s source) {
	r.touch(g)
	if g.mode == Include {
		delete(g.sources, k)
		return
	}
	s.rexmit = 0
	g.sources[k] = s
}

// Timers lists the engine's pending timers in deadline order, for the
// report's CallOut queue. Source and Filter Timers are lazy (see Snapshot
// for their true time left), so a deadline here can be earlier.
func (r *Router) Timers() []timerq.Pending { return r.q.All() }
