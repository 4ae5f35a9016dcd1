package pim

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/engine"
	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/bsr"
)

// Router is the PIM-SM engine of every PIM interface of the daemon. It is
// not safe for concurrent use: one event loop owns it.
type Router struct {
	cfg         Config
	rps         rpMap // static mappings without Override
	rpsOverride rpMap // static mappings with Override
	// zones are the BSR zones: the global zone first, then the scope
	// zones, most specific range first (zones.go). ids is the timer ID
	// allocator that zones made later take their IDs from;
	// zoneLimitHit: a LimitHit for zones was emitted and the count is
	// still at the limit.
	zones        []*bsrZone
	ids          *timerq.IDs
	zoneLimitHit bool
	// nEmbedded counts the groups whose RP is embedded in their address;
	// rpDirty: the RP-set changed in this event, every group's RP(G) is
	// looked up again when it ends.
	nEmbedded int
	rpDirty   bool
	local     []addrKey // the router's addresses (SetLocalAddresses), sorted
	q         *timerq.Queue[timerRef]
	ifaces    map[int]*iface
	sgs       map[sgKey]*sgEntry
	nWatching int // entries under WatchActivity (WatchedActivity)
	groups    map[addrKey]*group
	nStars    int // (*,G) entries
	// nAsserts counts the Assert machines out of NoInfo, so that a lost
	// neighbor costs a walk over the entries only when some exist.
	nAsserts int
	sources  map[addrKey]*source
	stats    counters // the router's own (Stats(0))

	// regStops: when a Register-Stop last went to a DR for an (S,G) (rate
	// limit); regTAT: the Register rate limit's theoretical arrival time.
	regStops map[regStopKey]int64
	regTAT   int64
	// anycastCount: Registers exchanged with each Anycast-RP member.
	anycastCount map[addrKey]*AnycastPeerCounters

	closed bool
	// routeLimitHit, embLimitHit: a LimitHit for routes (for Embedded-RP
	// groups) was emitted and the count is still at the limit.
	routeLimitHit bool
	embLimitHit   bool

	// Per-event state: engine time and the actions so far, entries whose
	// state changed (their machines and route are brought up to date when
	// the event ends), Join/Prune entries to send, sources that may be
	// unused.
	frame        engine.Frame[Action]
	touched      []*sgEntry
	touchedStars []*starEntry
	jps          []jpItem
	unwatch      []addrKey
	// refused: Registers to our Candidate-RP address refused because
	// RP(G) was another's, by (S,G), with when (rpregister.go).
	refused map[sgKey]int64
	// adoptPending: a group got us as its RP in this event while some
	// refusals are remembered.
	adoptPending bool
	// scratch
	olist, jdBuf, rptBuf, asBuf []int32
}

// ErrShutdown is returned by calls that would create state after Shutdown.
var ErrShutdown = errors.New("pim: router shut down")

// New returns a Router with no interfaces whose timers take their IDs from
// ids, shared with the daemon's other engines.
func New(ids *timerq.IDs, cfg Config) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cloneConfig(cfg)
	if ids == nil {
		ids = new(timerq.IDs) // one allocator for the zone's timers and ours
	}
	global := &bsrZone{}
	global.zone = bsr.New(ids, bsrConfig(&cfg, global))
	r := &Router{
		cfg:         cfg,
		rps:         newRPMap(cfg.RPs, false),
		rpsOverride: newRPMap(cfg.RPs, true),
		zones:       []*bsrZone{global},
		ids:         ids,
		q:           timerq.New[timerRef](ids),
		ifaces:      make(map[int]*iface),
		sgs:         make(map[sgKey]*sgEntry),
		groups:      make(map[addrKey]*group),
		sources:     make(map[addrKey]*source),
		regStops:    make(map[regStopKey]int64),
	}
	r.addConfiguredZones() // zones.go
	return r, nil
}

// Times inside the engine are nanoseconds since the first `now` it saw
// (engine.Frame).
func (r *Router) rel(t time.Time) int64  { return r.frame.Rel(t) }
func (r *Router) abs(ns int64) time.Time { return r.frame.Abs(ns) }

// begin starts an event and returns `now` in engine time.
func (r *Router) begin(now time.Time) int64 {
	n := r.frame.Begin(now)
	if !r.closed {
		for _, z := range r.zones {
			r.applyBSR(z, z.zone.Start(now), &r.stats, "")
		}
	}
	return n
}

func (r *Router) emit(a Action) { r.frame.Emit(a) }

// maxScratch is the most per-event scratch capacity kept between events.
const maxScratch = 1 << 14

// finish ends an event. The (*,G) entries whose inputs changed run their
// Assert and upstream machines (4.6.2, 4.5.4) first, as the (S,G) entries
// inherit from them; then every touched (S,G) entry (which includes every
// entry of a touched (*,G)'s group) runs its Assert rows, its Register
// machine (4.4.1), and its upstream (S,G) and (S,G,rpt) machines (4.5.5,
// 4.5.7), each once against the final state of the event. The Join/Prune
// messages of the event go out aggregated per interface and upstream
// neighbor; then the routes are computed and entries that nothing keeps are
// deleted. Actions come out in a fixed order: those of the event in the
// order they happened (Hellos, Asserts, Registers, neighbor and DR
// changes, limits, WatchRPF), then Join/Prune messages by interface and
// neighbor, Routes (each followed by its WatchActivity or UnwatchActivity)
// by group and source, and UnwatchRPF by address.
func (r *Router) finish(now int64) []Action {
	r.pruneZones() // zones.go
	for i := 0; r.rpDirty && i < 2; i++ {
		r.rpDirty = false
		r.remapGroups()
	}
	if r.adoptPending {
		r.adoptPending = false
		r.adoptRefused(now) // rpregister.go
	}
	slices.SortFunc(r.touchedStars, func(a, b *starEntry) int { return a.grp.key.Compare(b.grp.key) })
	for i := 0; i < len(r.touchedStars); i++ {
		r.updateStarAsserts(r.touchedStars[i], now)
	}
	for _, st := range r.touchedStars {
		r.updateStarUpstream(st, now)
	}
	slices.SortFunc(r.touched, func(a, b *sgEntry) int { return a.key.compare(b.key) })
	for _, sg := range r.touched {
		r.updateSGAsserts(sg, now)
		r.updateRegister(sg)
	}
	for _, sg := range r.touched {
		r.updateUpstream(sg, now)
		r.updateRptUpstream(sg, now)
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
	for _, st := range r.touchedStars {
		if st.idle() {
			r.deleteStar(st)
		} else if !st.announced {
			st.announced = true
			r.emit(StarGChange{Group: st.grp.key.Addr(), Added: true})
		}
	}
	slices.SortFunc(r.unwatch, addrKey.Compare)
	for i, k := range r.unwatch {
		if i > 0 && r.unwatch[i-1] == k {
			continue
		}
		if s := r.sources[k]; s != nil && s.unused() {
			delete(r.sources, k)
			r.emit(UnwatchRPF{Addr: k.Addr()})
		}
	}
	if r.routeLimitHit && len(r.sgs)+r.nStars < r.cfg.MaxRoutes {
		r.routeLimitHit = false
	}
	clear(r.touched)
	clear(r.touchedStars)
	r.touched, r.touchedStars, r.unwatch = r.touched[:0], r.touchedStars[:0], r.unwatch[:0]
	if cap(r.touched) > maxScratch {
		r.touched, r.jps = nil, nil
	}
	if cap(r.touchedStars) > maxScratch {
		r.touchedStars = nil
	}
	return r.frame.Take()
}

// touch marks an entry whose inputs changed in this event.
func (r *Router) touch(sg *sgEntry) {
	if sg.touchEv == r.frame.Event() {
		return
	}
	sg.touchEv = r.frame.Event()
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
		listeners: make(map[addrKey]listenerSet),
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
	i32 := int32(ifindex)
	r.dropAssertsOn(i32)
	for _, sg := range r.sgs {
		changed := r.dropDownstream(dsHost{sg: sg}, i32)
		changed = deleteSorted(&sg.local, i32) || changed
		if x := sg.x; x != nil {
			changed = r.dropRptDownstream(sg, i32) || changed
			changed = deleteSorted(&x.excl, i32) || changed
		}
		if changed || sg.up.ifindex == i32 {
			r.touch(sg)
		}
	}
	for _, g := range r.groups {
		if st := g.star; st != nil {
			changed := r.dropDownstream(dsHost{star: st}, i32)
			changed = deleteSorted(&st.local, i32) || changed
			if changed || st.up.ifindex == i32 {
				r.touchStar(st)
			}
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
	// A Candidate-RP says goodbye to the BSR of each zone (RFC 5059 3.2).
	for _, z := range r.zones {
		r.applyBSR(z, z.zone.Shutdown(now), &r.stats, "")
	}
	for _, i := range r.Interfaces() {
		ifc := r.ifaces[i]
		r.sendHelloHoldtime(ifc, ifc.self, 0)
	}
	r.closed = true
	return r.frame.Take()
}

// Receive processes one PIM message received on the interface from src to
// dst; data is the PIM message from its first byte. See receive.
//
// Registers, Register-Stops and Candidate-RP-Advertisements are unicast:
// they may come in on any interface, PIM or not (counted on the router,
// Stats(0), when not). Other messages on an interface without PIM are
// ignored (isUnicastType).
func (r *Router) Receive(now time.Time, ifindex int, src, dst netip.Addr, data []byte) []Action {
	ifc := r.ifaces[ifindex]
	if ifc == nil && !isUnicastType(data) || r.closed {
		return nil
	}
	n := r.begin(now)
	r.receive(ifc, n, src.WithZone(""), dst.WithZone(""), data)
	return r.finish(n)
}

// Expire fires every timer due at now, the BSR zones' among ours in the
// order of one queue (deadline, then ID).
func (r *Router) Expire(now time.Time) []Action {
	if r.closed {
		return nil
	}
	n := r.begin(now)
	for {
		z, zat, zid, zok := r.nextZoneTimer()
		if zok && !zat.After(now) {
			if id, at, ok := r.q.Peek(); !ok || timerq.Earlier(zat, zid, at, id) {
				r.applyBSR(z, z.zone.Fire(now), &r.stats, "")
				continue
			}
		}
		id, ref, ok := r.q.Pop(now)
		if !ok {
			break
		}
		r.fire(n, id, ref)
	}
	return r.finish(n)
}

// nextZoneTimer returns the zone whose timer is the earliest of all the
// zones' (deadline, then ID), with its deadline and ID.
func (r *Router) nextZoneTimer() (*bsrZone, time.Time, timerq.ID, bool) {
	var (
		best   *bsrZone
		bestAt time.Time
		bestID timerq.ID
	)
	for _, z := range r.zones {
		if at, id, ok := z.zone.Next(); ok && (best == nil || timerq.Earlier(at, id, bestAt, bestID)) {
			best, bestAt, bestID = z, at, id
		}
	}
	return best, bestAt, bestID, best != nil
}

// NextDeadline returns when Expire should be called next. It may be earlier
// than any real expiry: refreshed timers are lazy (see the package
// documentation).
func (r *Router) NextDeadline() (time.Time, bool) {
	if r.closed {
		return time.Time{}, false
	}
	at, ok := r.q.Next()
	if _, zat, _, zok := r.nextZoneTimer(); zok && (!ok || zat.Before(at)) {
		return zat, true
	}
	return at, ok
}

// timerKind says what a queued timer is for.
type timerKind uint8

const (
	timerHello            timerKind = iota + 1 // Hello Timer (4.3.1)
	timerNeighbor                              // Neighbor Liveness Timer (4.3.1)
	timerJoin                                  // upstream Join Timer JT(S,G) (4.5.5)
	timerExpiry                                // downstream Expiry Timer ET(S,G,I) (4.5.2)
	timerPrunePending                          // downstream Prune-Pending Timer PPT(S,G,I) (4.5.2)
	timerStarJoin                              // upstream Join Timer JT(*,G) (4.5.4)
	timerStarExpiry                            // downstream ET(*,G,I) (4.5.1)
	timerStarPrunePending                      // downstream PPT(*,G,I) (4.5.1)
	timerRptExpiry                             // downstream ET(S,G,rpt,I) (4.5.3)
	timerRptPrunePending                       // downstream PPT(S,G,rpt,I) (4.5.3)
	timerOverride                              // upstream Override Timer OT(S,G,rpt) (4.5.7)
	timerKeepalive                             // Keepalive Timer KAT(S,G) (4.1.3)
	timerRegisterStop                          // Register-Stop Timer (4.4.1)
	timerAssert                                // Assert Timer AT(S,G,I) (4.6.1)
	timerStarAssert                            // Assert Timer AT(*,G,I) (4.6.2)
	timerDataIdle                              // a cache entry's idle timer (cache.go)
)

// timerRef is the value of a queued timer.
type timerRef struct {
	sg      *sgEntry
	star    *starEntry
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
	case timerExpiry, timerStarExpiry:
		h := dsHost{sg: ref.sg, star: ref.star}
		if d := h.downstreamOf(ref.ifindex); d != nil && r.lazyDue(&d.et, id, now, ref) {
			r.expiryTimerExpired(h, d)
		}
	case timerPrunePending, timerStarPrunePending:
		h := dsHost{sg: ref.sg, star: ref.star}
		if d := h.downstreamOf(ref.ifindex); d != nil && d.ppt == id {
			d.ppt = 0
			r.prunePendingTimerExpired(h, d, now)
		}
	case timerStarJoin:
		st := ref.star
		if !st.deleted && r.lazyDue(&st.jt, id, now, ref) {
			r.starJoinTimerExpired(st, now)
		}
	case timerStarAssert:
		st := ref.star
		if as := findAssert(st.asserts, ref.ifindex); !st.deleted && as != nil && as.at == id {
			as.at = 0
			r.assertTimerExpired(asHost{star: st}, as, now)
		}
	default:
		r.fireSG(now, id, ref)
	}
}

// fireSG handles the timers of the extended (S,G) state.
func (r *Router) fireSG(now int64, id timerq.ID, ref timerRef) {
	sg := ref.sg
	x := sg.x
	if sg.deleted || x == nil {
		return
	}
	switch ref.kind {
	case timerRptExpiry:
		if d := x.rptDownstream(ref.ifindex); d != nil && r.lazyDue(&d.et, id, now, ref) {
			r.dropRptDownstream(sg, ref.ifindex)
			r.touch(sg)
		}
	case timerRptPrunePending:
		if d := x.rptDownstream(ref.ifindex); d != nil && d.ppt == id {
			d.ppt = 0
			r.rptPrunePendingExpired(sg, d)
		}
	case timerOverride:
		if x.ot == id {
			x.ot = 0
			r.overrideTimerExpired(sg)
		}
	case timerKeepalive:
		if r.lazyDue(&x.kat, id, now, ref) {
			r.katExpired(sg)
		}
	case timerRegisterStop:
		if x.rst == id {
			x.rst = 0
			r.registerStopTimerExpired(sg, now)
		}
	case timerAssert:
		if as := sg.assertOn(ref.ifindex); as != nil && as.at == id {
			as.at = 0
			r.assertTimerExpired(asHost{sg: sg}, as, now)
		}
	case timerDataIdle:
		if r.lazyDue(&x.dataIdle, id, now, ref) {
			r.dataIdleExpired(sg)
		}
	}
}

// deleteSorted removes i from the sorted list l and reports whether it was
// there.
func deleteSorted(l *[]int32, i int32) bool {
	k, ok := slices.BinarySearch(*l, i)
	if !ok {
		return false
	}
	*l = slices.Delete(*l, k, k+1)
	if len(*l) == 0 {
		*l = nil
	}
	return true
}

// insertSorted adds i to the sorted list l and reports whether it was new.
func insertSorted(l *[]int32, i int32) bool {
	k, ok := slices.BinarySearch(*l, i)
	if ok {
		return false
	}
	*l = slices.Insert(*l, k, i)
	return true
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

// Timers lists the engine's pending timers in deadline order (then by ID),
// the BSR zone's among them, for the report's CallOut queue. Lazy timers
// (Expiry, Neighbor Liveness, Join) may show an earlier deadline than their
// true one (see Snapshot).
func (r *Router) Timers() []timerq.Pending {
	out := r.q.All()
	var zt []timerq.Pending
	for _, z := range r.zones {
		zt = append(zt, z.zone.Timers()...)
	}
	if len(zt) == 0 {
		return out
	}
	out = append(out, zt...)
	slices.SortFunc(out, func(a, b timerq.Pending) int {
		switch {
		case timerq.Earlier(a.At, a.ID, b.At, b.ID):
			return -1
		case timerq.Earlier(b.At, b.ID, a.At, a.ID):
			return 1
		}
		return 0
	})
	return out
}
