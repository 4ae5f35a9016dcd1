package pim

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
)

// Router is the PIM-SM engine of every PIM interface of the daemon. It is
// not safe for concurrent use: one event loop owns it.
type Router struct {
	cfg     Config
	q       *timerq.Queue[timerRef]
	ifaces  map[int]*iface
	sgs     map[sgKey]*sgEntry
	sources map[addrKey]*source

	epoch    time.Time
	hasEpoch bool
	closed   bool
	// routeLimitHit: a LimitHit for routes was emitted and the count is
	// still at the limit.
	routeLimitHit bool

	// Per-event state: actions so far, entries whose state changed (their
	// upstream machine and route are brought up to date when the event
	// ends), Join/Prune entries to send, sources no longer watched.
	ev      uint64
	acts    []Action
	touched []*sgEntry
	jps     []jpItem
	unwatch []addrKey
	olist   []int32 // scratch
}

// ErrShutdown is returned by calls that would create state after Shutdown.
var ErrShutdown = errors.New("pim: router shut down")

// New returns a Router with no interfaces whose timers take their IDs from
// ids, shared with the daemon's other engines.
func New(ids *timerq.IDs, cfg Config) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Router{
		cfg:     cloneConfig(cfg),
		q:       timerq.New[timerRef](ids),
		ifaces:  make(map[int]*iface),
		sgs:     make(map[sgKey]*sgEntry),
		sources: make(map[addrKey]*source),
	}, nil
}

// Times inside the engine are nanoseconds since the first `now` it saw.
func (r *Router) rel(t time.Time) int64 {
	if !r.hasEpoch {
		r.epoch, r.hasEpoch = t, true
	}
	return int64(t.Sub(r.epoch))
}

func (r *Router) abs(ns int64) time.Time { return r.epoch.Add(time.Duration(ns)) }

// begin starts an event and returns `now` in engine time.
func (r *Router) begin(now time.Time) int64 {
	r.ev++
	return r.rel(now)
}

func (r *Router) emit(a Action) { r.acts = append(r.acts, a) }

// maxScratch is the most per-event scratch capacity kept between events.
const maxScratch = 1 << 14

// finish ends an event. For every (S,G) entry whose inputs changed it runs
// the upstream state machine (4.5.5: JoinDesired and RPF' are evaluated
// once, on the final state of the event), computes the desired route and
// deletes the entry when nothing keeps it. Then it sends the Join/Prune
// messages the event produced, aggregated per interface and upstream
// neighbor. Actions come out in a fixed order: those of the event in the
// order they happened (Hellos, neighbor and DR changes, limits, WatchRPF),
// then Join/Prune messages by interface and neighbor, Routes by group and
// source, and UnwatchRPF by address.
func (r *Router) finish(now int64) []Action {
	slices.SortFunc(r.touched, func(a, b *sgEntry) int { return a.key.compare(b.key) })
	for _, sg := range r.touched {
		r.updateUpstream(sg, now)
	}
	r.flushJoinPrune(now)
	for _, sg := range r.touched {
		r.updateRoute(sg)
	}
	for _, sg := range r.touched {
		if sg.idle() {
			r.deleteSG(sg)
		}
	}
	slices.SortFunc(r.unwatch, addrKey.compare)
	for _, k := range r.unwatch {
		r.emit(UnwatchRPF{Addr: k.addr()})
	}
	if r.routeLimitHit && len(r.sgs) < r.cfg.MaxRoutes {
		r.routeLimitHit = false
	}
	clear(r.touched)
	r.touched, r.unwatch = r.touched[:0], r.unwatch[:0]
	if cap(r.touched) > maxScratch {
		r.touched, r.jps = nil, nil
	}
	acts := r.acts
	r.acts = nil
	return acts
}

// touch marks an entry whose inputs changed in this event.
func (r *Router) touch(sg *sgEntry) {
	if sg.touchEv == r.ev {
		return
	}
	sg.touchEv = r.ev
	r.touched = append(r.touched, sg)
}

// AddInterface starts PIM on an interface: a new Generation ID, and the
// first Hello after a random delay in [0, Triggered_Hello_Delay) (RFC 7761
// section 4.3.1). The router is the DR until it hears a better neighbor.
// An interface that exists already gets cfg and the addresses as by
// SetInterfaceConfig and SetAddresses.
func (r *Router) AddInterface(now time.Time, ifindex int, name string, linkLocal netip.Addr, globals []netip.Addr, cfg IfConfig) ([]Action, error) {
	if r.closed {
		return nil, ErrShutdown
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	linkLocal = linkLocal.WithZone("")
	if !isLinkLocal6(linkLocal) {
		return nil, fmt.Errorf("pim: interface %s: %v is not a link-local address", name, linkLocal)
	}
	if ifindex <= 0 || ifindex > 1<<31-1 {
		return nil, fmt.Errorf("pim: interface %s: index %d out of range", name, ifindex)
	}
	if r.ifaces[ifindex] != nil {
		acts, err := r.SetInterfaceConfig(now, ifindex, cfg)
		if err != nil {
			return nil, err
		}
		return append(acts, r.SetAddresses(now, ifindex, linkLocal, globals)...), nil
	}
	n := r.begin(now)
	ifc := &iface{
		index:     ifindex,
		name:      name,
		self:      linkLocal,
		globals:   cleanGlobals(globals),
		cfg:       cfg,
		genID:     r.cfg.Rand(),
		neighbors: make(map[addrKey]*neighbor),
		byAddr:    make(map[addrKey]*neighbor),
		listeners: make(map[addrKey][]addrKey),
	}
	r.ifaces[ifindex] = ifc
	r.setHelloTimer(ifc, n+int64(r.randBelow(cfg.TriggeredHelloDelay)))
	r.electDR(ifc)
	// Sources routed through this interface may now have an RPF neighbor
	// (none yet) and an incoming interface that PIM runs on.
	r.touchRPFInterface(ifc)
	return r.finish(n), nil
}

// RemoveInterface stops PIM on an interface: a Hello with Holdtime 0 tells
// the neighbors at once (4.3.1), and every state on the interface is
// dropped: neighbors, downstream Join state, local receivers. Entries whose
// RPF neighbor was there lose it; routes are recomputed.
func (r *Router) RemoveInterface(now time.Time, ifindex int) []Action {
	ifc := r.ifaces[ifindex]
	if ifc == nil || r.closed {
		return nil
	}
	n := r.begin(now)
	r.sendHelloHoldtime(ifc, ifc.self, 0)
	for _, nb := range ifc.sortedNeighbors() {
		r.dropNeighbor(nb, NeighborInterfaceRemoved)
	}
	r.q.Stop(&ifc.hello)
	for _, sg := range r.sgs {
		changed := r.dropDownstream(sg, int32(ifindex))
		if i, ok := slices.BinarySearch(sg.local, int32(ifindex)); ok {
			sg.local = slices.Delete(sg.local, i, i+1)
			changed = true
		}
		if changed || sg.up.ifindex == int32(ifindex) {
			r.touch(sg)
		}
	}
	r.touchRPFInterface(ifc)
	delete(r.ifaces, ifindex)
	return r.finish(n)
}

// Interfaces returns the indexes of the PIM interfaces, sorted.
func (r *Router) Interfaces() []int {
	out := make([]int, 0, len(r.ifaces))
	for i := range r.ifaces {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

// Shutdown says goodbye: a Hello with Holdtime 0 on every interface (RFC
// 7761 section 4.3.1), in interface order. After it the Router is inert:
// every call returns nothing and NextDeadline reports no deadline.
func (r *Router) Shutdown(now time.Time) []Action {
	if r.closed {
		return nil
	}
	r.begin(now)
	for _, i := range r.Interfaces() {
		ifc := r.ifaces[i]
		r.sendHelloHoldtime(ifc, ifc.self, 0)
	}
	r.closed = true
	acts := r.acts
	r.acts = nil
	return acts
}

// Receive processes one PIM message received on the interface from src to
// dst; data is the PIM message from its first byte. See receive.
func (r *Router) Receive(now time.Time, ifindex int, src, dst netip.Addr, data []byte) []Action {
	ifc := r.ifaces[ifindex]
	if ifc == nil || r.closed {
		return nil
	}
	n := r.begin(now)
	r.receive(ifc, n, src.WithZone(""), dst.WithZone(""), data)
	return r.finish(n)
}

// Expire fires every timer due at now.
func (r *Router) Expire(now time.Time) []Action {
	if r.closed {
		return nil
	}
	n := r.begin(now)
	for {
		id, ref, ok := r.q.Pop(now)
		if !ok {
			break
		}
		r.fire(n, id, ref)
	}
	return r.finish(n)
}

// NextDeadline returns when Expire should be called next. It may be earlier
// than any real expiry: refreshed timers are lazy (see the package
// documentation).
func (r *Router) NextDeadline() (time.Time, bool) {
	if r.closed {
		return time.Time{}, false
	}
	return r.q.Next()
}

// timerKind says what a queued timer is for.
type timerKind uint8

const (
	timerHello        timerKind = iota + 1 // Hello Timer (4.3.1)
	timerNeighbor                          // Neighbor Liveness Timer (4.3.1)
	timerJoin                              // upstream Join Timer JT(S,G) (4.5.5)
	timerExpiry                            // downstream Expiry Timer ET(S,G,I) (4.5.2)
	timerPrunePending                      // downstream Prune-Pending Timer PPT(S,G,I) (4.5.2)
)

// timerRef is the value of a queued timer.
type timerRef struct {
	sg      *sgEntry
	nbr     *neighbor
	ifindex int32
	kind    timerKind
}

// lazyTimer is a timer that is often pushed later (the Expiry Timer by
// every Join, the Neighbor Liveness Timer by every Hello, the Join Timer by
// suppression). at is the true deadline; the queued one is at or before it.
// Pushing it later only writes at; when the queued timer fires early it is
// queued again at the true deadline. id is 0 when it is not running.
type lazyTimer struct {
	at int64
	id timerq.ID
}

func (t *lazyTimer) running() bool { return t.id != 0 }

// setLazy sets t to the deadline `to`.
func (r *Router) setLazy(t *lazyTimer, to int64, ref timerRef) {
	if t.id == 0 || to < t.at {
		r.q.Set(&t.id, r.abs(to), ref)
	}
	t.at = to
}

func (r *Router) stopLazy(t *lazyTimer) {
	r.q.Stop(&t.id)
	t.at = 0
}

// lazyDue handles the queued timer id of t popping at now: it reports
// whether t really expired, and queues it again if its deadline is later.
func (r *Router) lazyDue(t *lazyTimer, id timerq.ID, now int64, ref timerRef) bool {
	if t.id != id {
		return false
	}
	t.id = 0
	if t.at > now {
		r.q.Set(&t.id, r.abs(t.at), ref)
		return false
	}
	return true
}

// left is the time from now to the engine time `at`, at least 0.
func left(at, now int64) time.Duration { return time.Duration(max(at-now, 0)) }

// fire handles one popped timer.
func (r *Router) fire(now int64, id timerq.ID, ref timerRef) {
	switch ref.kind {
	case timerHello:
		ifc := r.ifaces[int(ref.ifindex)]
		if ifc != nil && ifc.hello == id {
			ifc.hello = 0
			r.sendHello(ifc, now)
		}
	case timerNeighbor:
		nb := ref.nbr
		if !nb.deleted && r.lazyDue(&nb.nlt, id, now, ref) {
			r.neighborExpired(nb)
		}
	case timerJoin:
		sg := ref.sg
		if !sg.deleted && r.lazyDue(&sg.jt, id, now, ref) {
			r.joinTimerExpired(sg, now)
		}
	case timerExpiry:
		if d := ref.sg.downstream(ref.ifindex); d != nil && r.lazyDue(&d.et, id, now, ref) {
			r.expiryTimerExpired(ref.sg, d)
		}
	case timerPrunePending:
		if d := ref.sg.downstream(ref.ifindex); d != nil && d.ppt == id {
			d.ppt = 0
			r.prunePendingTimerExpired(ref.sg, d, now)
		}
	}
}

// randBelow returns a random duration in [0, d) (RFC 7761's rand(0, d)).
func (r *Router) randBelow(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	// (d * rand) >> 32 in 128 bits: d can be hours of nanoseconds.
	hi, lo := bits.Mul64(uint64(d), uint64(r.cfg.Rand()))
	return time.Duration(hi<<32 | lo>>32)
}

// Timers lists the engine's pending timers in deadline order, for the
// report's CallOut queue. Lazy timers (Expiry, Neighbor Liveness, Join)
// may show an earlier deadline than their true one (see Snapshot).
func (r *Router) Timers() []timerq.Pending { return r.q.All() }
