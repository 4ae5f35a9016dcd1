package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/netns"
)

// The soak (issue 14, section 5; docs/RELIABILITY.md): for
// PIM6SD_SOAK_DURATION (default 2m) receivers join and leave at random, a
// PIM neighbor is stopped (SIGTERM, kill -9) and started, links flap, and
// the routers are reloaded (SIGHUP) and restarted in place (SIGUSR2),
// while two sentinel flows are checked all along: they must lose nothing.
// Each daemon's goroutines, descriptors, MIFs, MFC entries and heap are
// sampled; once the churn stops they must come back to where they were
// before it, and their slopes over the second half are reported.
//
//	snd ── r1 ── r2 (RP) ── r3 ══ LAN ══ rcvA (sentinels), rcvB (churn), r4
//	             └── r4      └── rcvC (churn)
//
// The sentinel flows (one SSM, one ASM, 50 datagrams/s each) go snd - r1 -
// r2 - r3 - LAN - rcvA. Nothing on that path is ever broken on purpose:
// r1, r2 and r3 are only reloaded and restarted with SIGUSR2, which must
// not lose a datagram (docs/OPERATIONS.md, "Restarts"); links flap and a
// daemon stops only off the path (r3's link to rcvC, r4's links, r4
// itself). So the sentinels must lose nothing at all, and any loss is
// reported with the events just before it.
//
// r4 is the neighbor that comes and goes: a PIM router on the LAN (MLD off
// there, DR priority below r3's) and on a link to r2, with no route to the
// source or the RP, so it never joins and never forwards.
//
// PIM6SD_SOAK_SEED replays a run's sequence of choices (the timing of the
// kernel and the daemons differs from run to run).

const (
	soakSSMGrp  = "ff3e::5:1"
	soakASMGrp  = "ff0e::5:1"
	soakSSMPort = 7601
	soakASMPort = 7602

	soakSentinelEvery = 20 * time.Millisecond  // 50 datagrams/s per sentinel flow
	soakChurnEvery    = 100 * time.Millisecond // 10 datagrams/s per churn flow

	// The timers of the soak's configuration (soakConf), from which its
	// deadlines derive.
	soakKeepalive = 15 * time.Second // pim.keepalive-period
	soakRegSupp   = 6 * time.Second  // pim.register-suppression-time
	soakRegProbe  = 2 * time.Second  // pim.register-probe-time
	soakGrace     = 5 * time.Second  // global.restart-grace
	soakQueryResp = 2 * time.Second  // mld.query-response-interval

	// soakSettle bounds how long a churned flow's state may outlive the
	// churn: the first-hop router keeps an (S,G) for its Keepalive after
	// the source stops, and a Null-Register sent meanwhile sets the RP's
	// Keepalive to RP_Keepalive_Period (3 x suppression + probe, 20 s).
	// Twice their sum, plus a restart's grace.
	soakSettle = 2*(soakKeepalive+3*soakRegSupp+soakRegProbe) + soakGrace

	// soakJoinBound: a churn receiver joined at least this long must have
	// received something. An ASM join may wait for the first-hop router's
	// Null-Register (suppression minus probe, then the probe) when the RP
	// was just restarted, and a join may wait for a restarted last-hop
	// router's startup query (query response interval); twice that.
	soakJoinBound = 2 * (soakRegSupp + soakRegProbe + soakQueryResp)
)

// soakGroup is a flow: a source ("" for any source, ASM) and a group, and
// the UDP port its datagrams go to (one port per group, so that a socket
// gets only its own group's datagrams).
type soakGroup struct {
	src, grp string
	port     int
}

func (g soakGroup) String() string {
	if g.src == "" {
		return fmt.Sprintf("(*,%s)", g.grp)
	}
	return fmt.Sprintf("(%s,%s)", g.src, g.grp)
}

// soakChurnGroups are the flows the churn receivers join and leave.
var soakChurnGroups = []soakGroup{
	{srcAddr, "ff3e::5:10", 7610}, {srcAddr, "ff3e::5:11", 7611}, {srcAddr, "ff3e::5:12", 7612},
	{"", "ff0e::5:10", 7620}, {"", "ff0e::5:11", 7621}, {"", "ff0e::5:12", 7622},
}

var (
	soakRouters    = []string{"r1", "r2", "r3", "r4"}
	soakChurnHosts = []string{"rcvB", "rcvC"}
)

// soakConf is router name's configuration with the given hello-period:
// reloads alternate between "2s" and "3s", a change that must disturb
// nothing. r3 is the LAN's DR; r4 runs only PIM on the LAN.
func soakConf(name, hello string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `[global]
restart-grace = %q
[mld]
query-response-interval = %q
[pim]
hello-period = %q
triggered-hello-delay = "1s"
keepalive-period = %q
register-suppression-time = %q
register-probe-time = %q
[[rp]]
address = %q
groups = ["ff0e::/16"]
`, soakGrace, soakQueryResp, hello, soakKeepalive, soakRegSupp, soakRegProbe, rpAddr)
	switch name {
	case "r3":
		b.WriteString("[[interface]]\nname = \"to-lan\"\n[interface.pim]\ndr-priority = 100\n")
	case "r4":
		b.WriteString("[[interface]]\nname = \"to-lan\"\n[interface.mld]\nenable = false\n")
	}
	return b.String()
}

// soakFlap is a link end the soak sets down and up again.
type soakFlap struct {
	name   string
	ns     *netns.NS
	ifname string
	ll, gl string
	// own: the interface is a router's own; setting it down removes its
	// addresses (IPv6 does on admin down), so it generates none itself
	// (addr_gen_mode 1) and gets its fixed ones back after.
	own bool
	// host is the churn host whose path the flap cuts ("" for none).
	host string
}

func (f soakFlap) restore(t *testing.T) {
	t.Helper()
	if f.own {
		f.ns.MustRun("ip", "-6", "addr", "flush", "dev", f.ifname, "scope", "link")
	}
	f.ns.MustRun("ip", "-6", "addr", "replace", f.ll+"/64", "dev", f.ifname, "nodad")
	f.ns.MustRun("ip", "-6", "addr", "replace", f.gl, "dev", f.ifname, "nodad")
}

// soakNet is the soak's topology.
type soakNet struct {
	snd   *netns.NS
	rtr   map[string]*netns.NS // r1..r4
	host  map[string]*netns.NS // rcvA, rcvB, rcvC
	flaps []soakFlap
}

func newSoakNet(t *testing.T) *soakNet {
	t.Helper()
	n := &soakNet{snd: newNS(t, "snd"), rtr: map[string]*netns.NS{}, host: map[string]*netns.NS{}}
	for _, r := range soakRouters {
		n.rtr[r] = router(t, r)
	}
	for _, h := range []string{"rcvA", "rcvB", "rcvC"} {
		n.host[h] = newNS(t, strings.ToLower(h))
	}
	r1, r2, r3, r4 := n.rtr["r1"], n.rtr["r2"], n.rtr["r3"], n.rtr["r4"]
	link(t, r1, "to-snd", "fe80::1", "2001:db8:1::1/64", n.snd, "eth0", "fe80::10", srcAddr+"/64")
	link(t, r1, "to-r2", "fe80::1", "2001:db8:12::1/64", r2, "to-r1", "fe80::2", "2001:db8:12::2/64")
	link(t, r2, "to-r3", "fe80::2", "2001:db8:23::2/64", r3, "to-r2", "fe80::3", "2001:db8:23::3/64")
	link(t, r2, "to-r4", "fe80::2", "2001:db8:24::2/64", r4, "to-r2", "fe80::4", "2001:db8:24::4/64")
	link(t, r3, "to-rcvc", "fe80::3", "2001:db8:3::3/64", n.host["rcvC"], "eth0", "fe80::30", "2001:db8:3::30/64")
	// The LAN: a bridge (flooding multicast) in a namespace of its own,
	// each member with a fixed link-local address only.
	l := newNS(t, "lan")
	var ports []string
	for i, m := range []struct {
		ns             *netns.NS
		ifname, ll, gl string
	}{
		{r3, "to-lan", "fe80::3", "2001:db8:2::3/64"},
		{r4, "to-lan", "fe80::4", "2001:db8:2::4/64"},
		{n.host["rcvA"], "eth0", "fe80::20", "2001:db8:2::20/64"},
		{n.host["rcvB"], "eth0", "fe80::21", "2001:db8:2::21/64"},
	} {
		p := fmt.Sprintf("p%d", i)
		netns.Veth(t, l, p, m.ns, m.ifname)
		ports = append(ports, p)
		m.ns.MustRun("ip", "-6", "addr", "flush", "dev", m.ifname, "scope", "link")
		m.ns.AddAddr(m.ifname, m.ll+"/64")
		m.ns.AddAddr(m.ifname, m.gl)
	}
	l.Bridge("br0", ports...)
	r2.AddAddr("lo", rpAddr+"/128")
	realChecksums(t, n.snd, "eth0")
	n.snd.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
	r1.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::2", "dev", "to-r2")
	r3.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::2", "dev", "to-r2")
	r2.MustRun("ip", "-6", "route", "add", "2001:db8:1::/64", "via", "fe80::1", "dev", "to-r1")
	r2.MustRun("ip", "-6", "route", "add", "2001:db8:2::/64", "via", "fe80::3", "dev", "to-r3")
	r2.MustRun("ip", "-6", "route", "add", "2001:db8:3::/64", "via", "fe80::3", "dev", "to-r3")
	// r4: connected routes only.

	n.flaps = []soakFlap{
		{name: "r3 to-rcvc (r3's end)", ns: r3, ifname: "to-rcvc", ll: "fe80::3", gl: "2001:db8:3::3/64", own: true, host: "rcvC"},
		{name: "r3 to-rcvc (rcvC's end)", ns: n.host["rcvC"], ifname: "eth0", ll: "fe80::30", gl: "2001:db8:3::30/64", host: "rcvC"},
		{name: "r2 to-r4 (r4's end)", ns: r4, ifname: "to-r2", ll: "fe80::4", gl: "2001:db8:24::4/64", own: true},
		{name: "r4 to-lan", ns: r4, ifname: "to-lan", ll: "fe80::4", gl: "2001:db8:2::4/64", own: true},
	}
	for _, f := range n.flaps {
		if f.own {
			f.ns.Sysctl("net.ipv6.conf."+f.ifname+".addr_gen_mode", "1")
		}
	}
	return n
}

// soakJoin is one join of a churn receiver, from its join to its leave.
type soakJoin struct {
	host     string
	g        soakGroup
	r        *receiver
	from, to time.Time
	got      int // distinct datagrams received
}

type soakEvent struct {
	at   time.Time
	what string
}

type soakWindow struct{ from, to time.Time }

// soakRun is the state of one soak.
type soakRun struct {
	t     *testing.T
	rng   *rand.Rand
	net   *soakNet
	ds    map[string]*daemon
	hello map[string]string
	t0    time.Time // the test's start
	half  time.Time // r1, r2 and r3 are restarted only before this

	events []soakEvent
	kinds  map[string]int
	joined map[string]*soakJoin // by host and group
	joins  []soakJoin           // ended
	cut    map[string][]soakWindow
}

func (s *soakRun) event(format string, args ...any) {
	e := soakEvent{at: time.Now(), what: fmt.Sprintf(format, args...)}
	s.events = append(s.events, e)
	s.t.Logf("%+8.1fs %s", e.at.Sub(s.t0).Seconds(), e.what)
}

func (s *soakRun) randDur(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)))
}

func (s *soakRun) startDaemon(name string) *daemon {
	return startPim6sd(s.t, s.net.rtr[name], soakConf(name, s.hello[name]), "--metrics-listen", metricsAddr)
}

// step carries out one random event.
func (s *soakRun) step() {
	switch w := s.rng.IntN(24); {
	case w < 12:
		s.toggleJoin()
	case w < 16:
		s.reload(soakRouters[s.rng.IntN(len(soakRouters))])
	case w < 19:
		name := "r4"
		if time.Now().Before(s.half) {
			name = soakRouters[s.rng.IntN(len(soakRouters))]
		}
		s.restart(name)
	case w < 21:
		s.stopStartR4()
	default:
		s.flap()
	}
}

// toggleJoin makes a random churn host join a random churn flow, or leave
// it if it is joined.
func (s *soakRun) toggleJoin() {
	k := s.rng.IntN(len(soakChurnHosts) * len(soakChurnGroups))
	host, g := soakChurnHosts[k/len(soakChurnGroups)], soakChurnGroups[k%len(soakChurnGroups)]
	key := host + " " + g.grp
	if j := s.joined[key]; j != nil {
		s.leave(j)
		delete(s.joined, key)
		s.kinds["leave"]++
		s.event("%s leaves %v (%d datagrams in %v)", host, g, j.got, j.to.Sub(j.from).Round(100*time.Millisecond))
		return
	}
	s.event("%s joins %v", host, g)
	r := joinSSM(s.t, s.net.host[host], "eth0", g.src, g.grp, g.port)
	s.joined[key] = &soakJoin{host: host, g: g, r: r, from: time.Now()}
	s.kinds["join"]++
}

func (s *soakRun) leave(j *soakJoin) {
	j.r.leave()
	j.to = time.Now()
	j.got = j.r.distinct()
	j.r.raw.Close()
	s.joins = append(s.joins, *j)
}

// reload alternates the router's hello-period and sends SIGHUP; the
// daemon shows the new value once it applied it.
func (s *soakRun) reload(name string) {
	h := "3s"
	if s.hello[name] == "3s" {
		h = "2s"
	}
	s.hello[name] = h
	s.event("%s: SIGHUP, hello-period %s", name, h)
	want, err := time.ParseDuration(h)
	if err != nil {
		s.t.Fatal(err)
	}
	d := s.ds[name]
	d.reload(soakConf(name, h))
	d.waitFor(15*time.Second, name+" applies the reload", func(sn *ctl.Snapshot) bool { return helloPeriodIs(sn, want) })
	s.kinds["reload (SIGHUP)"]++
}

// helloPeriodIs says whether every PIM interface has hello-period want.
func helloPeriodIs(s *ctl.Snapshot, want time.Duration) bool {
	n := 0
	for _, i := range s.Interfaces {
		if i.Register || i.HelloPeriod == 0 {
			continue
		}
		if time.Duration(i.HelloPeriod) != want {
			return false
		}
		n++
	}
	return n > 0
}

// restart sends SIGUSR2 and waits for the new program to answer. A daemon
// still in the grace of its previous restart is reloaded instead.
func (s *soakRun) restart(name string) {
	d := s.ds[name]
	before, err := d.snapshot()
	if err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
	if r := before.Daemon.Restart; r != nil && r.GraceLeft > 0 {
		s.reload(name)
		return
	}
	s.event("%s: SIGUSR2, restart in place", name)
	d.signal(syscall.SIGUSR2)
	var after *ctl.Snapshot
	d.waitFor(30*time.Second, name+" restarted by SIGUSR2", func(sn *ctl.Snapshot) bool {
		after = sn
		return sn.Daemon.Restart != nil && sn.Daemon.Started.After(before.Daemon.Started)
	})
	if after.Daemon.PID != before.Daemon.PID {
		s.t.Errorf("%s: pid %d after SIGUSR2, was %d", name, after.Daemon.PID, before.Daemon.PID)
	}
	s.event("%s: restarted, took over %d MIFs and %d entries", name, after.Daemon.Restart.MIFs, after.Daemon.Restart.Entries)
	s.kinds["restart (SIGUSR2) "+name]++
}

// stopStartR4 stops r4 (SIGTERM: goodbye Hellos; or kill -9: its
// neighbors time it out or see a new Generation ID) and starts it again.
func (s *soakRun) stopStartR4() {
	d := s.ds["r4"]
	if s.rng.IntN(3) == 0 {
		s.event("r4: kill -9")
		if err := d.proc.Cmd.Process.Kill(); err != nil {
			s.t.Fatal(err)
		}
		if err := d.proc.Wait(15 * time.Second); err != nil && strings.Contains(err.Error(), "still running") {
			s.t.Fatalf("r4 still runs after kill -9")
		}
		s.kinds["r4 kill -9 and start"]++
	} else {
		s.event("r4: SIGTERM")
		d.signal(syscall.SIGTERM)
		if err := d.proc.Wait(15 * time.Second); err != nil {
			s.t.Errorf("r4 did not stop cleanly on SIGTERM: %v\n%s", err, soakTail(d.proc.Output(), 20))
			if strings.Contains(err.Error(), "still running") {
				s.t.FailNow()
			}
		}
		s.kinds["r4 SIGTERM and start"]++
	}
	time.Sleep(s.randDur(500*time.Millisecond, 4*time.Second))
	s.ds["r4"] = s.startDaemon("r4")
	s.event("r4: started")
}

// flap sets a link end down and up again.
func (s *soakRun) flap() {
	f := s.net.flaps[s.rng.IntN(len(s.net.flaps))]
	down := s.randDur(200*time.Millisecond, 3*time.Second)
	s.event("%s: link down for %v", f.name, down.Round(10*time.Millisecond))
	from := time.Now()
	f.ns.MustRun("ip", "link", "set", f.ifname, "down")
	time.Sleep(down)
	f.ns.LinkUp(f.ifname)
	f.restore(s.t)
	if f.host != "" {
		s.cut[f.host] = append(s.cut[f.host], soakWindow{from, time.Now()})
	}
	s.kinds["link flap"]++
}

// soakTail is the last n lines of out.
func soakTail(out string, n int) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// distinct is how many different datagrams arrived since the last count.
func (r *receiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func soakSettings(t *testing.T) (time.Duration, uint64) {
	t.Helper()
	dur := 2 * time.Minute
	if v := os.Getenv("PIM6SD_SOAK_DURATION"); v != "" {
		var err error
		if dur, err = time.ParseDuration(v); err != nil || dur < 10*time.Second {
			t.Fatalf("PIM6SD_SOAK_DURATION=%q: want a Go duration of at least 10s (2m, 1h)", v)
		}
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PIM6SD_SOAK_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("PIM6SD_SOAK_SEED=%q: %v", v, err)
		}
	}
	return dur, seed
}

func TestSoak(t *testing.T) {
	dur, seed := soakSettings(t)
	every := min(max(dur/120, 2*time.Second), 30*time.Second)
	s := &soakRun{
		t: t, rng: rand.New(rand.NewPCG(seed, seed)), t0: time.Now(),
		ds: map[string]*daemon{}, hello: map[string]string{}, kinds: map[string]int{},
		joined: map[string]*soakJoin{}, cut: map[string][]soakWindow{},
	}
	t.Logf("soak: %v of churn, samples every %v, seed %d (PIM6SD_SOAK_SEED=%d replays its choices)", dur, every, seed, seed)
	s.net = newSoakNet(t)
	for _, name := range soakRouters {
		s.hello[name] = "2s"
		s.ds[name] = s.startDaemon(name)
	}
	adjacent := map[string][][2]string{
		"r1": {{"to-r2", "fe80::2"}},
		"r2": {{"to-r1", "fe80::1"}, {"to-r3", "fe80::3"}, {"to-r4", "fe80::4"}},
		"r3": {{"to-r2", "fe80::2"}, {"to-lan", "fe80::4"}},
		"r4": {{"to-r2", "fe80::2"}, {"to-lan", "fe80::3"}},
	}
	for _, name := range soakRouters {
		s.ds[name].waitFor(20*time.Second, name+"'s neighbors", func(sn *ctl.Snapshot) bool {
			for _, a := range adjacent[name] {
				if !neighborOn(sn, a[0], a[1]) {
					return false
				}
			}
			return true
		})
	}
	s.ds["r3"].waitFor(10*time.Second, "r3 is the LAN's DR (priority 100)", func(sn *ctl.Snapshot) bool {
		dr, self := drOn(sn, "to-lan")
		return dr == "fe80::3" && self
	})

	// The sentinels: a receiver that never leaves, on the path nothing
	// breaks.
	rcvA := s.net.host["rcvA"]
	sentSSM := joinSSM(t, rcvA, "eth0", srcAddr, soakSSMGrp, soakSSMPort)
	sentASM := joinASM(t, rcvA, "eth0", soakASMGrp, soakASMPort)
	stSSM := startStream(t, newSender(t, s.net.snd, "eth0", soakSSMGrp, soakSSMPort), soakSentinelEvery)
	stASM := startStream(t, newSender(t, s.net.snd, "eth0", soakASMGrp, soakASMPort), soakSentinelEvery)
	for _, name := range []string{"r1", "r2", "r3"} {
		ns := s.net.rtr[name]
		waitMroute(t, ns, srcAddr, soakSSMGrp, 20*time.Second, "the SSM sentinel's (S,G) on "+name, func(_ mroute, ok bool) bool { return ok })
		waitMroute(t, ns, srcAddr, soakASMGrp, 20*time.Second, "the ASM sentinel on the source tree on "+name, func(m mroute, ok bool) bool {
			return ok && !strings.HasPrefix(m.IIF, "pim6reg")
		})
	}
	window := s.settleKernel()
	base := soakBaseline(window)
	s.event("baseline: %s", base.describe())

	// The churn.
	var churnStreams []*stream
	for _, g := range soakChurnGroups {
		churnStreams = append(churnStreams, startStream(t, newSender(t, s.net.snd, "eth0", g.grp, g.port), soakChurnEvery))
	}
	start := time.Now()
	s.half = start.Add(dur / 2)
	end := start.Add(dur)
	s.event("churn starts: %v; r1, r2 and r3 are restarted only in the first half", dur)
	var samples []soakSample
	sentinelSeen := [2]int{sentSSM.distinct(), sentASM.distinct()}
	nextSample, nextEvent := start, start
	for {
		now := time.Now()
		if !now.Before(end) {
			break
		}
		if !now.Before(nextSample) {
			smp := s.sample()
			samples = append(samples, smp)
			seen := [2]int{sentSSM.distinct(), sentASM.distinct()}
			s.event("sample: %s; sentinels +%d SSM, +%d ASM", smp.describe(), seen[0]-sentinelSeen[0], seen[1]-sentinelSeen[1])
			sentinelSeen = seen
			nextSample = time.Now().Add(every)
		}
		if !time.Now().Before(nextEvent) {
			s.step()
			nextEvent = time.Now().Add(s.randDur(300*time.Millisecond, 1500*time.Millisecond))
		}
		if wait := min(time.Until(nextSample), time.Until(nextEvent), time.Until(end)); wait > 0 {
			time.Sleep(wait)
		}
	}

	// The churn stops: the same receivers as before it, no churn flows.
	churnEnd := time.Now()
	s.event("churn ends: the churn receivers leave, the churn sources stop")
	for _, key := range sortedKeys(s.joined) {
		s.leave(s.joined[key])
		delete(s.joined, key)
	}
	for _, st := range churnStreams {
		st.halt()
	}
	after, settled := s.settleBack(base)
	settleEnd := time.Now()
	s.event("after the churn: %s", after.describe())

	stSSM.halt()
	stASM.halt()
	gotSSM, gotASM := sentSSM.count(time.Second), sentASM.count(time.Second)
	phases := []soakPhase{
		{"baseline (before the churn)", window[0].at, start},
		{"churn, first half (restarts of r1-r3)", start, s.half},
		{"churn, second half", s.half, churnEnd},
		{"settling after the churn", churnEnd, settleEnd},
	}
	rep := &soakReport{
		seed: seed, dur: dur, every: every, kinds: s.kinds, base: base, after: after, settled: settled,
		samples: samples, half: s.half, end: churnEnd,
	}
	rep.sentinels = []soakSentinelReport{
		s.sentinel(fmt.Sprintf("SSM sentinel (%s,%s)", srcAddr, soakSSMGrp), stSSM, gotSSM, phases),
		s.sentinel(fmt.Sprintf("ASM sentinel (*,%s)", soakASMGrp), stASM, gotASM, phases),
	}
	rep.joins = s.checkJoins()
	for _, name := range soakRouters {
		if sn, err := s.ds[name].snapshot(); err == nil {
			rep.audit = append(rep.audit, fmt.Sprintf("%s %+v", name, sn.Daemon.Audit.Found))
		}
	}
	t.Log(rep.String())
	for _, sr := range rep.sentinels {
		if sr.lost > 0 {
			t.Errorf("%s lost %d datagrams (see the report's phases and the events before each loss)", sr.name, sr.lost)
		}
	}
	if !settled.ok {
		t.Errorf("after the churn, not back to the baseline within %v: %s", soakSettle, strings.Join(settled.bad, "; "))
	}
	if rep.sentinels[0].lost+rep.sentinels[1].lost > 0 {
		lossDiagnostics(t, s.ds, s.net.rtr)
	}
}

// checkJoins checks that every churn join long enough got traffic, except
// joins whose path a flap cut, and sums them up.
func (s *soakRun) checkJoins() string {
	long, cutShort, empty := 0, 0, []string{}
	for _, j := range s.joins {
		if j.to.Sub(j.from) < soakJoinBound {
			continue
		}
		cut := false
		for _, w := range s.cut[j.host] {
			if w.from.Before(j.to) && w.to.After(j.from) {
				cut = true
			}
		}
		if cut {
			cutShort++
			continue
		}
		long++
		if j.got == 0 {
			empty = append(empty, fmt.Sprintf("%s %v from %+.1fs to %+.1fs", j.host, j.g, j.from.Sub(s.t0).Seconds(), j.to.Sub(s.t0).Seconds()))
		}
	}
	if len(empty) > 0 {
		s.t.Errorf("churn receivers joined at least %v got nothing: %s", soakJoinBound, strings.Join(empty, "; "))
	}
	return fmt.Sprintf("%d joins; %d of them lasted at least %v with their path intact, %d of those got nothing; %d more had their link flapped",
		len(s.joins), long, soakJoinBound, len(empty), cutShort)
}

// sentinel is what a sentinel flow lost in each phase, with the events
// around each run of losses.
func (s *soakRun) sentinel(name string, st *stream, got map[string]int, phases []soakPhase) soakSentinelReport {
	r := soakSentinelReport{name: name}
	for _, p := range phases {
		from, to := st.indexAt(p.from), st.indexAt(p.to)
		l := st.losses(got, from, to)
		r.phases = append(r.phases, fmt.Sprintf("%s: %v", p.name, l))
		r.lost += l.lost
		for i := from; i < to; i++ {
			if got[fmt.Sprintf("s-%d", i)] > 1 {
				r.dups++
			}
		}
		for _, run := range lostRuns(got, from, to) {
			first, last := st.at(run[0]), st.at(run[1])
			var near []string
			for _, e := range s.events {
				if !e.at.Before(first.Add(-3*time.Second)) && !e.at.After(last) && !strings.HasPrefix(e.what, "sample:") {
					near = append(near, fmt.Sprintf("%+.1fs %s", e.at.Sub(s.t0).Seconds(), e.what))
				}
			}
			r.runs = append(r.runs, fmt.Sprintf("datagrams %d..%d sent %+.2fs..%+.2fs; events from 3s before: %s",
				run[0], run[1], first.Sub(s.t0).Seconds(), last.Sub(s.t0).Seconds(), strings.Join(near, " | ")))
		}
	}
	return r
}

// lostRuns lists the runs of consecutive lost datagrams among [from, to).
func lostRuns(got map[string]int, from, to int) [][2]int {
	var runs [][2]int
	for i := from; i < to; i++ {
		if got[fmt.Sprintf("s-%d", i)] > 0 {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1][1] == i-1 {
			runs[n-1][1] = i
		} else {
			runs = append(runs, [2]int{i, i})
		}
	}
	return runs
}

type soakPhase struct {
	name     string
	from, to time.Time
}
