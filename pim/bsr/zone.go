package bsr

import (
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/engine"
	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Config is the setting of one zone's machine. The owner validates it
// (package pim builds it from a valid pim.Config).
type Config struct {
	// CandidateBSR makes the router a Candidate-BSR (RFC 5059 3.1.1); nil:
	// it runs the non-candidate machine (3.1.2).
	CandidateBSR *CandidateBSR
	// CandidateRP makes the router a Candidate-RP (3.2); nil: it is not.
	CandidateRP *CandidateRP
	// BootstrapPeriod is BS_Period (section 5); the Bootstrap Timer of
	// every router runs BS_Timeout = 2 * BS_Period + 10 s.
	BootstrapPeriod time.Duration
	// MaxRPSet is the most (group range, RP) pairs kept from BSMs and, at
	// the BSR, the most Candidate-RPs.
	MaxRPSet int
	// Rand draws the fragment tags of the BSMs this router originates.
	Rand func() uint32
	// Range is the group range of an administrative scope zone (RFC 5059
	// 1.3), an IPv6 multicast prefix; the zero Prefix is the global zone.
	// A scoped zone originates BSMs whose first range is Range with the
	// Admin Scope Zone bit, and takes only ranges within Range from BSMs,
	// from Candidate-RP-Advertisements and from CandidateRP.Groups (see
	// scope.go).
	Range netip.Prefix
}

// CandidateBSR is a Candidate-BSR setting (RFC 5059 3.1, 5): the global
// BSR address of this router, its priority (the highest wins, then the
// highest address) and the hash mask length its BSMs carry.
type CandidateBSR struct {
	Addr        netip.Addr
	Priority    uint8
	HashMaskLen uint8
}

// CandidateRP is a Candidate-RP setting (RFC 5059 3.2): the RP address,
// its priority (the lowest wins), the holdtime advertised in seconds, the
// advertisement interval C_RP_Adv_Period, and the group ranges served
// (empty: ff00::/8; each range is taken masked).
type CandidateRP struct {
	Addr     netip.Addr
	Priority uint8
	Holdtime uint16
	Interval time.Duration
	Groups   []netip.Prefix
}

// State is the state of the BSR election machine.
type State string

// States of the Candidate-BSR machine (RFC 5059 3.1.1) and of the
// non-candidate machine (3.1.2).
const (
	Candidate       State = "candidate"        // C-BSR: another candidate is the BSR
	Pending         State = "pending"          // P-BSR: waiting to become the BSR
	Elected         State = "elected"          // E-BSR: this router is the BSR
	NoInfo          State = "no-info"          // NI: no BSM yet
	AcceptPreferred State = "accept-preferred" // AP: accepts BSMs from the BSR or better ones
	AcceptAny       State = "accept-any"       // AA: the BSR timed out; any BSM is accepted
)

// timerKind says what a queued timer of the zone is for.
type timerKind uint8

const (
	timerBootstrap timerKind = iota + 1 // Bootstrap Timer (3.1)
	timerRPSet                          // the earliest RP-set expiry (rpset.go)
	timerCRPAdv                         // our Candidate-RP-Advertisement (3.2)
	timerCRPExpiry                      // the earliest Candidate-RP expiry at the BSR
)

// Zone is the BSR machine of one scope zone. It is not safe for concurrent
// use: one owner feeds it.
type Zone struct {
	cfg   Config
	q     *timerq.Queue[timerKind]
	frame engine.Frame[Output] // zone time and the input's outputs so far
	// dirty: RP(G) may have changed in this input (RPSetChanged).
	dirty bool

	started bool
	state   State
	// The elected BSR as known (this router's address when Elected).
	addr     netip.Addr
	has      bool
	prio     uint8
	hashMask uint8
	bst      timerq.ID // Bootstrap Timer
	bstAt    int64

	// settled: a BSM was accepted from the RPF neighbor, or originated;
	// no start-up refresh is used any more (refreshable).
	settled bool
	// The accepted BSM: its fragment tag and fragments (sent to new
	// neighbors), and the ranges not complete yet.
	tag     uint16
	hasTag  bool
	frags   []*pimmsg.Bootstrap
	partial map[netip.Prefix]*partialRange

	set      rpSet
	setTimer timerq.ID

	// At the elected BSR: the Candidate-RPs, their expiry timer, the ranges
	// advertised empty, and when the last BSM went out.
	crps     map[netip.Addr]*crpEntry
	crpTimer timerq.ID
	dead     map[netip.Prefix]int
	lastOrig int64
	hasOrig  bool

	// This router's Candidate-RP advertisement timer.
	adv   timerq.ID
	advAt int64

	setLimitHit bool
	lastEvent   Change
}

// New returns the machine of one zone. Its timers take their IDs from ids,
// the allocator the owner's timers use, so that every timer of the daemon
// has its own ID.
func New(ids *timerq.IDs, cfg Config) *Zone {
	return &Zone{cfg: cloneConfig(cfg), q: timerq.New[timerKind](ids)}
}

func cloneConfig(c Config) Config {
	c.Range = c.Range.Masked()
	if b := c.CandidateBSR; b != nil {
		cb := *b
		cb.Addr = cb.Addr.WithZone("")
		c.CandidateBSR = &cb
	}
	if p := c.CandidateRP; p != nil {
		cp := *p
		cp.Addr = cp.Addr.WithZone("")
		cp.Groups = engine.CandidateRPGroups(cp.Groups)
		c.CandidateRP = &cp
		if c.Range.IsValid() {
			c.CandidateRP = c.scopedCRP(&cp)
		}
	}
	return c
}

// Times inside the zone are nanoseconds since the first `now` it saw
// (engine.Frame).
func (z *Zone) rel(t time.Time) int64  { return z.frame.Rel(t) }
func (z *Zone) abs(ns int64) time.Time { return z.frame.Abs(ns) }

// left is the time from now to the zone time `at`, at least 0.
func left(at, now int64) time.Duration { return time.Duration(max(at-now, 0)) }

// begin starts an input: the machine starts at the first one.
func (z *Zone) begin(now time.Time) int64 {
	n := z.rel(now)
	z.start(n)
	return n
}

func (z *Zone) emit(o Output) { z.frame.Emit(o) }

// end ends an input and returns its outputs.
func (z *Zone) end() []Output {
	if z.dirty {
		z.dirty = false
		z.emit(RPSetChanged{})
	}
	return z.frame.Take()
}

// Start starts the election machine at now, if no input has yet: a
// Candidate-BSR enters Pending, a Candidate-RP's advertisement timer
// starts. The owner calls it at its first event, so that the machine runs
// from the start of the router rather than from its first BSM.
func (z *Zone) Start(now time.Time) []Output {
	if z.started {
		return nil
	}
	z.begin(now)
	return z.end()
}

func (z *Zone) start(now int64) {
	if z.started {
		return
	}
	z.started = true
	z.state = NoInfo
	z.lastEvent = Change{State: NoInfo}
	if z.cfg.CandidateBSR != nil {
		z.state = Pending
		z.setBST(now + int64(z.startupWait()))
	}
	if z.cfg.CandidateRP != nil {
		z.setAdvTimer(now)
	}
	z.noteChange()
}

func (z *Zone) setBST(at int64) {
	z.bstAt = at
	z.q.Set(&z.bst, z.abs(at), timerBootstrap)
}

func (z *Zone) setAdvTimer(at int64) {
	z.advAt = at
	z.q.Set(&z.adv, z.abs(at), timerCRPAdv)
}

// noteChange emits Change when the BSR or the state changed.
func (z *Zone) noteChange() {
	ev := Change{State: z.state}
	if z.has {
		ev.BSR, ev.Priority = z.addr, z.prio
	}
	if ev != z.lastEvent {
		z.lastEvent = ev
		z.emit(ev)
	}
}

// Next returns the deadline of the zone's earliest timer and its ID. An
// owner with timers of its own fires the zone's (Fire) and its own in one
// order, by deadline then ID (timerq.Earlier), as one queue would.
func (z *Zone) Next() (time.Time, timerq.ID, bool) {
	id, at, ok := z.q.Peek()
	return at, id, ok
}

// Fire fires the zone's earliest timer if it is due at now.
func (z *Zone) Fire(now time.Time) []Output {
	n := z.begin(now)
	if id, kind, ok := z.q.Pop(now); ok {
		z.fire(n, id, kind)
	}
	return z.end()
}

// Expire fires every timer of the zone due at now.
func (z *Zone) Expire(now time.Time) []Output {
	n := z.begin(now)
	for {
		id, kind, ok := z.q.Pop(now)
		if !ok {
			break
		}
		z.fire(n, id, kind)
	}
	return z.end()
}

// Timers lists the zone's pending timers in deadline order.
func (z *Zone) Timers() []timerq.Pending { return z.q.All() }

func (z *Zone) fire(now int64, id timerq.ID, kind timerKind) {
	switch kind {
	case timerBootstrap:
		if z.bst == id {
			z.bst = 0
			z.bootstrapTimerExpired(now)
		}
	case timerRPSet:
		if z.setTimer == id {
			z.setTimer = 0
			if z.set.expire(now) {
				z.dirty = true
			}
			z.resetSetTimer()
		}
	case timerCRPAdv:
		if z.adv == id {
			z.adv = 0
			if cp := z.cfg.CandidateRP; cp != nil {
				z.advertiseCRP(now, cp, cp.Holdtime)
				z.setAdvTimer(now + int64(cp.Interval))
			}
		}
	case timerCRPExpiry:
		if z.crpTimer == id {
			z.crpTimer = 0
			z.crpsExpired(now)
		}
	}
}

// Shutdown is the router stopping: a Candidate-RP says goodbye to the BSR
// (RFC 5059 3.2: holdtime 0).
func (z *Zone) Shutdown(now time.Time) []Output {
	n := z.begin(now)
	z.advertiseCRP(n, z.cfg.CandidateRP, 0)
	return z.end()
}

// SetConfig applies a new configuration (a reload). A new, changed or
// removed Candidate-BSR moves the election machine:
//
//   - a new candidacy: Candidate when the known BSR is preferred to it,
//     else Pending (rand_override against the known BSR, or the start-up
//     wait when none is known);
//   - a candidacy removed: the non-candidate machine (AcceptPreferred
//     while another BSR is known, else NoInfo; the elected BSR forgets its
//     Candidate-RP table and the BSR);
//   - a changed candidacy: the elected BSR originates its new BSM at once;
//     a Candidate now preferred to the BSR goes Pending.
//
// A Candidate-RP that stops, or changes its address, advertises holdtime 0
// first; a new or changed one advertises at once; a new interval applies
// from the next advertisement, or sooner.
func (z *Zone) SetConfig(now time.Time, cfg Config) []Output {
	n := z.begin(now)
	old := z.cfg
	z.cfg = cloneConfig(cfg)
	ob, nb := old.CandidateBSR, z.cfg.CandidateBSR
	switch {
	case ob == nil && nb != nil:
		switch {
		case z.state == AcceptPreferred && preferred(z.prio, z.addr, nb.Priority, nb.Addr) > 0:
			z.state = Candidate
		case z.state == AcceptPreferred || z.state == AcceptAny:
			z.state = Pending
			z.setBST(n + int64(z.randOverride(z.prio, z.addr)))
		default:
			z.state = Pending
			z.setBST(n + int64(z.startupWait()))
		}
	case ob != nil && nb == nil:
		switch z.state {
		case Candidate:
			z.state = AcceptPreferred
		case Elected:
			z.crps, z.dead, z.hasOrig = nil, nil, false
			z.q.Stop(&z.crpTimer)
			z.has = false
			z.state = NoInfo
			z.q.Stop(&z.bst)
		default:
			z.state = NoInfo
			z.q.Stop(&z.bst)
		}
	case ob != nil && *ob != *nb:
		switch {
		case z.state == Elected:
			z.originateBSM(n)
			z.setBST(n + int64(z.cfg.BootstrapPeriod))
		case z.state == Candidate && preferred(z.prio, z.addr, nb.Priority, nb.Addr) <= 0:
			z.state = Pending
			z.setBST(n + int64(z.randOverride(z.prio, z.addr)))
		}
	}
	oc, nc := old.CandidateRP, z.cfg.CandidateRP
	switch {
	case oc != nil && nc == nil:
		z.advertiseCRP(n, oc, 0)
		z.q.Stop(&z.adv)
	case nc != nil && (oc == nil || oc.Addr != nc.Addr || oc.Priority != nc.Priority || oc.Holdtime != nc.Holdtime || !slices.Equal(oc.Groups, nc.Groups)):
		if oc != nil && oc.Addr != nc.Addr {
			z.advertiseCRP(n, oc, 0)
		}
		z.setAdvTimer(n)
	case nc != nil && oc.Interval != nc.Interval:
		z.setAdvTimer(min(z.advAt, n+int64(nc.Interval)))
	}
	z.noteChange()
	return z.end()
}

// State returns the state of the election machine (NoInfo before Start).
func (z *Zone) State() State {
	if z.state == "" {
		return NoInfo
	}
	return z.state
}

// BSR returns the elected BSR as known (this router's address when it is
// the BSR), false when none is.
func (z *Zone) BSR() (netip.Addr, bool) { return z.addr, z.has }

// Lookup is RP(G) from the RP-set (RFC 7761 section 4.7.2, see
// rpSet.lookup), false when no range of the set covers g. Package pim
// weighs it against the static and embedded mappings.
func (z *Zone) Lookup(g netip.Addr) (netip.Addr, bool) {
	return z.set.lookup(g, z.hashMask)
}

// Info is the state of a zone, for the operator.
type Info struct {
	// Range is the scope zone's range (Config.Range; zero: the global
	// zone).
	Range netip.Prefix
	State State
	// BSR is the elected BSR (zero: none known), with the priority and
	// hash mask length of its BSM; Timeout is the Bootstrap Timer left.
	BSR         netip.Addr
	Priority    uint8
	HashMaskLen uint8
	Timeout     time.Duration
	// NextAdvertisement is the time to this router's next
	// Candidate-RP-Advertisement (0 when it is no Candidate-RP).
	NextAdvertisement time.Duration
	// RPSet is the RP-set in use, by range (longest first) then RP.
	RPSet []RPSetEntry
	// Pairs is the number of (range, RP) pairs that count against
	// Config.MaxRPSet.
	Pairs int
}

// Info returns the zone's state at now.
func (z *Zone) Info(now time.Time) Info {
	n := z.rel(now)
	info := Info{Range: z.cfg.Range, State: z.State(), RPSet: z.set.entries(n), Pairs: z.set.pairs}
	if z.has {
		info.BSR, info.Priority, info.HashMaskLen = z.addr, z.prio, z.hashMask
	}
	if z.bst != 0 {
		info.Timeout = left(z.bstAt, n)
	}
	if z.adv != 0 {
		info.NextAdvertisement = left(z.advAt, n)
	}
	return info
}
