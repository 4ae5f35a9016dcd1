package pim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// A tiny simulator: routers joined by in-memory links, one fake clock.
// Messages are marshalled, delivered to every other router on the link at
// the same instant (in FIFO order) and parsed by Receive, checksum
// included. Each router has a static RIB that answers WatchRPF (in one
// SetRPFs per action list, as the daemon does) and an MFC that Route
// actions write.

type simRouter struct {
	name   string
	r      *Router
	links  map[int]*simLink   // by ifindex
	self   map[int]netip.Addr // link-local per ifindex
	rib    map[netip.Addr]RPF // route to each source
	mfc    map[[2]netip.Addr]Route
	routes []string // Route actions, with times
	down   bool     // silent: sends and hears nothing
}

type simLink struct {
	name string
	ends []simEnd
}

type simEnd struct {
	rt      *simRouter
	ifindex int
}

type delivery struct {
	to      simEnd
	src     netip.Addr
	dst     netip.Addr
	data    []byte
	summary string
}

type sim struct {
	t       *testing.T
	ids     timerq.IDs
	now     time.Time
	routers map[string]*simRouter
	queue   []delivery
	trace   []string // Join/Prune messages sent and routes, with times
}

func newSim(t *testing.T) *sim {
	return &sim{t: t, now: tR, routers: map[string]*simRouter{}}
}

func (s *sim) at() float64 { return s.now.Sub(tR).Seconds() }

func (s *sim) logf(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf("%g ", s.at())+fmt.Sprintf(format, args...))
}

// router adds a router numbered n (its addresses are fe80::n:ifindex).
func (s *sim) router(name string, n int) *simRouter {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	cfg := DefaultConfig()
	cfg.Rand = rng.Uint32
	r, err := New(&s.ids, cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	rt := &simRouter{name: name, r: r, links: map[int]*simLink{}, self: map[int]netip.Addr{},
		rib: map[netip.Addr]RPF{}, mfc: map[[2]netip.Addr]Route{}}
	s.routers[name] = rt
	return rt
}

// connect puts interface ifindex of rt on link l and starts PIM on it.
func (s *sim) connect(l *simLink, rt *simRouter, ifindex int, n int, cfg IfConfig) {
	self := netip.MustParseAddr(fmt.Sprintf("fe80::%d:%d", n, ifindex))
	rt.links[ifindex], rt.self[ifindex] = l, self
	l.ends = append(l.ends, simEnd{rt, ifindex})
	acts, err := rt.r.AddInterface(s.now, ifindex, fmt.Sprintf("%s-%s", rt.name, l.name), self, nil, cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.handle(rt, acts)
}

// handle carries out a router's actions.
func (s *sim) handle(rt *simRouter, acts []Action) {
	var watch []RPFUpdate
	for _, a := range acts {
		switch a := a.(type) {
		case SendPIM:
			if rt.down {
				continue
			}
			b, err := pimmsg.Marshal(a.Msg, a.Src, a.Dst)
			if err != nil {
				s.t.Fatalf("%s: marshal: %v", rt.name, err)
			}
			sum := strings.Join(renderOne(a), "; ")
			if a.Msg.Type() == pimmsg.TypeJoinPrune {
				s.logf("%s %s", rt.name, sum)
			}
			for _, e := range rt.links[a.IfIndex].ends {
				if e.rt != rt {
					s.queue = append(s.queue, delivery{to: e, src: a.Src, dst: a.Dst, data: b, summary: sum})
				}
			}
		case WatchRPF:
			watch = append(watch, RPFUpdate{a.Addr, rt.rib[a.Addr]})
		case Route:
			k := [2]netip.Addr{a.Source, a.Group}
			if a.Delete() {
				delete(rt.mfc, k)
			} else {
				rt.mfc[k] = a
			}
			line := strings.Join(renderOne(a), "")
			rt.routes = append(rt.routes, fmt.Sprintf("%g %s", s.at(), line))
			s.logf("%s %s", rt.name, line)
		}
	}
	if watch != nil {
		s.handle(rt, rt.r.SetRPFs(s.now, watch))
	}
}

// drain delivers queued messages until none is left.
func (s *sim) drain() {
	for len(s.queue) > 0 {
		d := s.queue[0]
		s.queue = s.queue[1:]
		if d.to.rt.down {
			continue
		}
		s.handle(d.to.rt, d.to.rt.r.Receive(s.now, d.to.ifindex, d.src, d.dst, d.data))
	}
}

// run advances the clock to `until`, firing every router's timers.
func (s *sim) run(until float64) {
	end := at(until)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range s.routers {
			if !yield(n) {
				return
			}
		}
	})
	for {
		s.drain()
		var next time.Time
		for _, n := range names {
			if d, ok := s.routers[n].r.NextDeadline(); ok && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
		if next.IsZero() || next.After(end) {
			break
		}
		s.now = maxTime(next, s.now)
		for _, n := range names {
			rt := s.routers[n]
			if d, ok := rt.r.NextDeadline(); ok && !d.After(s.now) {
				s.handle(rt, rt.r.Expire(s.now))
			}
		}
	}
	s.now = end
}

// listen is MLD on rt's interface: INCLUDE {sources} for g.
func (s *sim) listen(rt *simRouter, ifindex int, g netip.Addr, sources ...netip.Addr) {
	s.handle(rt, rt.r.SetListeners(s.now, ListenerInput{IfIndex: ifindex, Group: g, Sources: sources}))
	s.drain()
}

// reroute changes rt's RIB entry for src and tells the router.
func (s *sim) reroute(rt *simRouter, src netip.Addr, rpf RPF) {
	rt.rib[src] = rpf
	s.handle(rt, rt.r.SetRPF(s.now, src, rpf))
	s.drain()
}

// oifs returns rt's installed OIFs for (S,G), nil when there is no entry.
func (rt *simRouter) oifs(src, g netip.Addr) []int {
	if r, ok := rt.mfc[[2]netip.Addr{src, g}]; ok {
		return r.OIFs
	}
	return nil
}

func (rt *simRouter) iif(src, g netip.Addr) int { return rt.mfc[[2]netip.Addr{src, g}].IIF }

// since returns the trace lines at or after time t0.
func (s *sim) since(t0 float64, prefixes ...string) []string {
	var out []string
	for _, l := range s.trace {
		var ts float64
		fmt.Sscanf(l, "%g", &ts)
		if ts < t0 {
			continue
		}
		rest := l[strings.Index(l, " ")+1:]
		if len(prefixes) == 0 {
			out = append(out, l)
			continue
		}
		for _, p := range prefixes {
			if strings.HasPrefix(rest, p) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}
