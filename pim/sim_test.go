package pim

import (
	"fmt"
	"maps"
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
// included; unicast ones (Register, Register-Stop) go to the router that
// owns the destination address. Each router has a static RIB that answers
// WatchRPF (in one SetRPFs per action list, as the daemon does) and an MFC
// that Route actions write.
//
// The data plane plays Linux's part (docs/KERNEL.md): a packet arriving
// at a router is looked up in its MFC: no entry is a NoCache upcall (and
// the packet is forwarded if the entry the router installs in answer
// matches); the wrong incoming interface is a WrongIIF upcall (at most one
// per entry every 3 s); otherwise the packet goes out of the OIFs, the
// register MIF (RegisterIf) being a WholePacket upcall. A Register that
// arrives at a router is also decapsulated, as pim6_rcv does, and the
// inner packet enters that router's MFC on RegisterIf. Entry counters
// (wrong-interface arrivals included) are read every ActivityInterval for
// the watched entries (DataActivity).

type simRouter struct {
	name   string
	r      *Router
	lo     netip.Addr         // the router's global address (on loopback)
	links  map[int]*simLink   // by ifindex
	self   map[int]netip.Addr // link-local per ifindex
	rib    map[netip.Addr]RPF // route to each source
	mfc    map[[2]netip.Addr]Route
	count  map[[2]netip.Addr]*simCount
	watch  map[[2]netip.Addr]bool
	routes []string // Route actions, with times
	down   bool     // silent: sends and hears nothing
}

type simCount struct {
	pkts, bytes uint64
	lastWrong   time.Time // the kernel's WRONGMIF rate limit
	wrongSent   bool
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
	t        *testing.T
	ids      timerq.IDs
	now      time.Time
	routers  map[string]*simRouter
	owners   map[netip.Addr]*simRouter
	queue    []delivery
	trace    []string // Join/Prune, Register, Register-Stop and Assert messages sent and routes, with times
	nextPoll time.Time
	// delivered counts data packets put on each link, by link and by
	// sender ("link" and "link/sender").
	delivered map[string]int
}

func newSim(t *testing.T) *sim {
	return &sim{t: t, now: tR, routers: map[string]*simRouter{}, owners: map[netip.Addr]*simRouter{},
		delivered: map[string]int{}, nextPoll: tR.Add(DefaultConfig().ActivityInterval)}
}

func (s *sim) at() float64 { return s.now.Sub(tR).Seconds() }

func (s *sim) logf(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf("%g ", s.at())+fmt.Sprintf(format, args...))
}

// router adds a router numbered n (its addresses are fe80::n:ifindex, and
// 2001:db8:ff::n on its loopback).
func (s *sim) router(name string, n int, mods ...func(*Config)) *simRouter {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	cfg := DefaultConfig()
	cfg.Rand = rng.Uint32
	for _, m := range mods {
		m(&cfg)
	}
	r, err := New(&s.ids, cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	rt := &simRouter{name: name, r: r, lo: simLo(n), links: map[int]*simLink{}, self: map[int]netip.Addr{},
		rib: map[netip.Addr]RPF{}, mfc: map[[2]netip.Addr]Route{}, count: map[[2]netip.Addr]*simCount{},
		watch: map[[2]netip.Addr]bool{}}
	s.routers[name] = rt
	s.owners[rt.lo] = rt
	s.handle(rt, r.SetLocalAddresses(s.now, []netip.Addr{rt.lo}))
	return rt
}

// simLo is the loopback address of router n.
func simLo(n int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("2001:db8:ff::%d", n)) }

// withRP maps every ASM group to the RP.
func withRP(rp netip.Addr) func(*Config) {
	return func(c *Config) {
		c.RPs = []StaticRP{{Addr: rp, Groups: []netip.Prefix{netip.MustParsePrefix("ff00::/8")}}}
	}
}

func withSPT(p SPTPolicy) func(*Config) { return func(c *Config) { c.SPT = p } }

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
			if a.Msg.Type() != pimmsg.TypeHello {
				s.logf("%s %s", rt.name, sum)
			}
			if a.IfIndex == 0 {
				if to := s.owners[a.Dst]; to != nil {
					s.queue = append(s.queue, delivery{to: simEnd{to, 0}, src: a.Src, dst: a.Dst, data: b, summary: sum})
				}
				continue
			}
			for _, e := range rt.links[a.IfIndex].ends {
				if e.rt != rt {
					s.queue = append(s.queue, delivery{to: e, src: a.Src, dst: a.Dst, data: b, summary: sum})
				}
			}
		case WatchActivity:
			rt.watch[[2]netip.Addr{a.Source, a.Group}] = true
		case UnwatchActivity:
			delete(rt.watch, [2]netip.Addr{a.Source, a.Group})
		case WatchRPF:
			watch = append(watch, RPFUpdate{a.Addr, rt.rib[a.Addr]})
		case Route:
			k := [2]netip.Addr{a.Source, a.Group}
			if a.Delete() {
				delete(rt.mfc, k)
				delete(rt.count, k)
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
		if m, err := pimmsg.Parse(d.data); err == nil {
			if reg, ok := m.(*pimmsg.Register); ok && !reg.Null {
				src, grp := innerAddrs(reg.Packet)
				s.ingress(d.to.rt, RegisterIf, src, grp, 0)
			}
		}
	}
}

// dataPacket is a data packet from src to grp: an IPv6 header and 8 bytes.
func dataPacket(src, grp netip.Addr) []byte {
	b := make([]byte, 48)
	b[0], b[5], b[6], b[7] = 0x60, 8, 17, 64
	s, g := src.As16(), grp.As16()
	copy(b[8:], s[:])
	copy(b[24:], g[:])
	return b
}

// send is a host on link l sending one packet from src to grp.
func (s *sim) send(l *simLink, src, grp netip.Addr) {
	s.delivered[l.name]++
	for _, e := range l.ends {
		if !e.rt.down {
			s.ingress(e.rt, e.ifindex, src, grp, 0)
		}
	}
	s.drain()
}

// stream sends a packet every `every` seconds from the current time until
// `until`, running the clock in between.
func (s *sim) stream(l *simLink, src, grp netip.Addr, until, every float64) {
	for t := s.at(); t < until; t += every {
		s.run(t)
		s.send(l, src, grp)
	}
	s.run(until)
}

// ingress is the kernel of rt receiving a packet on ifindex.
func (s *sim) ingress(rt *simRouter, ifindex int, src, grp netip.Addr, depth int) {
	if depth > 16 {
		s.t.Fatalf("%s: forwarding loop for %s,%s", rt.name, src, grp)
	}
	k := [2]netip.Addr{src, grp}
	e, ok := rt.mfc[k]
	if !ok {
		s.handle(rt, rt.r.NoCache(s.now, ifindex, src, grp))
		if e, ok = rt.mfc[k]; !ok || e.IIF != ifindex {
			return // the kernel's unresolved queue is dropped
		}
	}
	c := rt.count[k]
	if c == nil {
		c = &simCount{}
		rt.count[k] = c
	}
	c.pkts++
	c.bytes += 48
	if e.IIF != ifindex {
		if !c.wrongSent || s.now.Sub(c.lastWrong) >= 3*time.Second {
			c.wrongSent, c.lastWrong = true, s.now
			s.handle(rt, rt.r.WrongIIF(s.now, ifindex, src, grp))
		}
		return
	}
	for _, o := range e.OIFs {
		if o == RegisterIf {
			s.handle(rt, rt.r.WholePacket(s.now, src, grp, dataPacket(src, grp)))
			continue
		}
		l := rt.links[o]
		s.delivered[l.name]++
		s.delivered[l.name+"/"+rt.name]++
		for _, end := range l.ends {
			if end.rt != rt && !end.rt.down {
				s.ingress(end.rt, end.ifindex, src, grp, depth+1)
			}
		}
	}
}

// poll reads the watched entries' counters of every router (the daemon's
// ActivityInterval polling), in name order.
func (s *sim) poll() {
	for _, n := range slices.Sorted(maps.Keys(s.routers)) {
		rt := s.routers[n]
		keys := slices.SortedFunc(maps.Keys(rt.watch), func(a, b [2]netip.Addr) int {
			if c := a[1].Compare(b[1]); c != 0 {
				return c
			}
			return a[0].Compare(b[0])
		})
		for _, k := range keys {
			var p, b uint64
			if c := rt.count[k]; c != nil {
				p, b = c.pkts, c.bytes
			}
			s.handle(rt, rt.r.DataActivity(s.now, k[0], k[1], p, b))
		}
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
		next := s.nextPoll
		for _, n := range names {
			if d, ok := s.routers[n].r.NextDeadline(); ok && d.Before(next) {
				next = d
			}
		}
		if next.After(end) {
			break
		}
		s.now = maxTime(next, s.now)
		if !s.now.Before(s.nextPoll) {
			s.nextPoll = s.now.Add(DefaultConfig().ActivityInterval)
			s.poll()
			s.drain()
		}
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
