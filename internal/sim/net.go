package sim

import (
	"container/heap"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// Epoch is where every simulation's clock starts.
var Epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// LogEnv is the environment variable that makes the daemons log to the
// test log: debug, info, warn or error (the lowest level shown).
const LogEnv = "PIM6SD_SIM_LOG"

// Options configure a Net.
type Options struct {
	// Delay is how long a packet takes from one interface to another on
	// a link (each hop of a forwarded packet takes it again). 0 is
	// allowed: delivery is then at the same instant, after what is
	// already queued for that instant.
	Delay time.Duration
	// Seed is mixed into every router's and host's random source, so
	// that a test can try other (still deterministic) interleavings.
	Seed uint64
	// LogLevel, if set, makes the daemons log at that level and above to
	// the test log, as LogEnv does.
	LogLevel *slog.Level
}

// Net is a simulated network: links, routers (each a real daemon over a
// simulated Linux kernel) and hosts, with one virtual clock and one event
// queue. It is not safe for concurrent use: a test drives it from its own
// goroutine, and nothing in it starts a goroutine.
type Net struct {
	tb    testing.TB
	opts  Options
	now   time.Time
	queue eventQueue
	seq   uint64

	links   []*Link
	routers []*Router
	hosts   []*Host
	names   map[string]bool

	frames []Frame
	trace  []traceLine

	logLevel slog.Level
	logOn    bool

	// sameInstant counts timer steps without the clock moving: a daemon
	// whose deadline stays in the past would otherwise spin forever.
	sameInstant int
}

// New makes an empty network whose clock stands at Epoch.
func New(tb testing.TB, o Options) *Net {
	n := &Net{tb: tb, opts: o, now: Epoch, names: map[string]bool{}}
	if o.LogLevel != nil {
		n.logOn, n.logLevel = true, *o.LogLevel
	} else if v := os.Getenv(LogEnv); v != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(v)); err == nil {
			n.logOn, n.logLevel = true, l
		}
	}
	return n
}

// Now is the virtual time.
func (n *Net) Now() time.Time { return n.now }

// Elapsed is the virtual time since the start.
func (n *Net) Elapsed() time.Duration { return n.now.Sub(Epoch) }

func (n *Net) fatalf(format string, args ...any) {
	n.tb.Helper()
	n.tb.Fatalf("sim: "+format, args...)
}

func (n *Net) claim(name string) {
	n.tb.Helper()
	if name == "" || n.names[name] {
		n.fatalf("name %q is empty or taken", name)
	}
	n.names[name] = true
}

// rng returns a deterministic random source for the named node.
func (n *Net) rng(name string, generation int) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", name, generation)
	return rand.New(rand.NewPCG(h.Sum64(), n.opts.Seed))
}

func (n *Net) addr(s string) netip.Addr {
	n.tb.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		n.fatalf("%q is not an IPv6 address without zone", s)
	}
	return a
}

func (n *Net) prefix(s string) netip.Prefix {
	n.tb.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is6() {
		n.fatalf("%q is not an IPv6 prefix", s)
	}
	return p
}

// AddLink adds a LAN (a point-to-point link is a LAN of two). It is up.
func (n *Net) AddLink(name string) *Link {
	n.tb.Helper()
	n.claim(name)
	l := &Link{n: n, name: name, up: true, delay: n.opts.Delay}
	n.links = append(n.links, l)
	return l
}

// Link returns the link named name, or nil.
func (n *Net) Link(name string) *Link {
	for _, l := range n.links {
		if l.name == name {
			return l
		}
	}
	return nil
}

// Router returns the router named name, or nil.
func (n *Net) Router(name string) *Router {
	for _, r := range n.routers {
		if r.name == name {
			return r
		}
	}
	return nil
}

// Host returns the host named name, or nil.
func (n *Net) Host(name string) *Host {
	for _, h := range n.hosts {
		if h.name == name {
			return h
		}
	}
	return nil
}

// Routers lists the routers in the order they were added.
func (n *Net) Routers() []*Router { return append([]*Router(nil), n.routers...) }

// Hosts lists the hosts in the order they were added.
func (n *Net) Hosts() []*Host { return append([]*Host(nil), n.hosts...) }

// Links lists the links in the order they were added.
func (n *Net) Links() []*Link { return append([]*Link(nil), n.links...) }

// --- the event queue ---

type event struct {
	at   time.Time
	seq  uint64
	fn   func()
	dead bool
	idx  int
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].idx, q[j].idx = i, j
}
func (q *eventQueue) Push(x any) {
	e := x.(*event)
	e.idx = len(*q)
	*q = append(*q, e)
}
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

// schedule queues fn at `at` (not before now). Events of one instant run
// in the order they were scheduled.
func (n *Net) schedule(at time.Time, fn func()) *event {
	if at.Before(n.now) {
		at = n.now
	}
	n.seq++
	e := &event{at: at, seq: n.seq, fn: fn}
	heap.Push(&n.queue, e)
	return e
}

// cancel removes a scheduled event (nil and done events are fine).
func (n *Net) cancel(e *event) {
	if e == nil || e.dead {
		return
	}
	e.dead = true
	if e.idx >= 0 && e.idx < len(n.queue) && n.queue[e.idx] == e {
		heap.Remove(&n.queue, e.idx)
	}
}

// At runs f at the virtual time now+d, in order with the simulation's own
// events: the way to script a scenario (a host leaving at t=30s...).
func (n *Net) At(d time.Duration, f func()) {
	n.schedule(n.now.Add(d), f)
}

// --- driving ---

// startPending begins the routers that are waiting to start.
func (n *Net) startPending() {
	for _, r := range n.routers {
		if r.pendingStart {
			r.pendingStart = false
			r.begin()
		}
	}
}

// step processes the next thing due at or before limit: the first queued
// event, or else every daemon timer that is due. It reports false when
// nothing is due by limit.
func (n *Net) step(limit time.Time) bool {
	n.startPending()
	next, have := time.Time{}, false
	if len(n.queue) > 0 {
		next, have = n.queue[0].at, true
	}
	for _, r := range n.routers {
		if dl, ok := r.deadline(); ok && (!have || dl.Before(next)) {
			next, have = dl, true
		}
	}
	if !have || next.After(limit) {
		return false
	}
	if next.After(n.now) {
		n.now = next
		n.sameInstant = 0
	}
	if len(n.queue) > 0 && !n.queue[0].at.After(n.now) {
		e := heap.Pop(&n.queue).(*event)
		e.idx = -1
		if !e.dead {
			e.dead = true
			e.fn()
		}
		return true
	}
	n.sameInstant++
	if n.sameInstant > 100000 {
		n.fatalf("a daemon's timers stay due at %v without progress", n.Elapsed())
	}
	for _, r := range n.routers {
		if dl, ok := r.deadline(); ok && !dl.After(n.now) {
			r.expire()
		}
	}
	return true
}

// Run advances the virtual clock by d, processing every delivery, kernel
// event and daemon timer in time order.
func (n *Net) Run(d time.Duration) {
	n.tb.Helper()
	limit := n.now.Add(d)
	for n.step(limit) {
	}
	n.now = limit
	n.sameInstant = 0
}

// RunUntil runs until cond holds (checked before anything runs and after
// every step) or max has passed. It returns the virtual time it ran and
// whether cond held.
func (n *Net) RunUntil(cond func() bool, max time.Duration) (time.Duration, bool) {
	n.tb.Helper()
	start := n.now
	n.startPending()
	if cond() {
		return 0, true
	}
	limit := n.now.Add(max)
	for n.step(limit) {
		if cond() {
			return n.now.Sub(start), true
		}
	}
	n.now = limit
	n.sameInstant = 0
	return max, cond()
}

// --- logging ---

// logger returns the slog logger of a daemon: to the test log when asked
// (Options.LogLevel or LogEnv), else discarded.
func (n *Net) logger(name string) *slog.Logger {
	if !n.logOn {
		return slog.New(slog.DiscardHandler)
	}
	w := &logWriter{n: n, name: name}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: n.logLevel,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{} // the virtual time is the line's prefix
			}
			return a
		},
	}))
}

type logWriter struct {
	n    *Net
	name string
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.n.tb.Logf("%s %s: %s", fmtElapsed(w.n.Elapsed()), w.name, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func fmtElapsed(d time.Duration) string {
	return fmt.Sprintf("%11.6f", d.Seconds())
}
