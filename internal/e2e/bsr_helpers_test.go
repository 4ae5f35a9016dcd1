package e2e

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/netns"
	"github.com/pim6sd/pim6sd/internal/pcapread"
)

// bsrOpts are the RP-discovery keys of one router's configuration.
type bsrOpts struct {
	bsr       string // C-BSR address ("" = not a candidate)
	bsrPrio   int
	crp       string // C-RP address ("" = not a candidate)
	crpPrio   int
	period    string // BS_Period ("" = default)
	crpPeriod string // C_RP_Adv_Period and holdtime ("" = defaults)
	crpHold   string
	spt       string // pim.spt-switch ("" = default)
	regSupp   string // pim.register-suppression-time ("" = default; probe 2s)
	noEmbed   bool
}

// bsrConf is a pim6sd configuration with fast Hellos, short timers and
// no static RP: the RP comes from the BSR (or from the group address).
func bsrConf(o bsrOpts) string {
	var b strings.Builder
	b.WriteString("[pim]\nhello-period = \"2s\"\ntriggered-hello-delay = \"1s\"\nkeepalive-period = \"15s\"\n")
	if o.spt != "" {
		fmt.Fprintf(&b, "spt-switch = %q\n", o.spt)
	}
	if o.regSupp != "" {
		fmt.Fprintf(&b, "register-suppression-time = %q\nregister-probe-time = \"2s\"\n", o.regSupp)
	}
	b.WriteString("[bsr]\n")
	if o.period != "" {
		fmt.Fprintf(&b, "period = %q\n", o.period)
	}
	if o.bsr != "" {
		fmt.Fprintf(&b, "candidate = true\naddress = %q\npriority = %d\n", o.bsr, o.bsrPrio)
	}
	if o.crp != "" {
		fmt.Fprintf(&b, "[candidate-rp]\nenable = true\naddress = %q\npriority = %d\ngroups = [\"ff00::/8\"]\n", o.crp, o.crpPrio)
		if o.crpPeriod != "" {
			fmt.Fprintf(&b, "interval = %q\nholdtime = %q\n", o.crpPeriod, o.crpHold)
		}
	}
	if o.noEmbed {
		b.WriteString("[embedded-rp]\nenable = false\n")
	}
	return b.String()
}

// reload writes a new configuration for d and sends SIGHUP.
func (d *daemon) reload(config string) {
	d.t.Helper()
	if err := os.WriteFile(filepath.Join(d.dir, "pim6sd.toml"), []byte(config), 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.signal(syscall.SIGHUP)
}

// bsrOf is the elected BSR a snapshot shows ("" for none).
func bsrOf(s *ctl.Snapshot) string {
	if !s.RPSet.BSR.IsValid() {
		return ""
	}
	return s.RPSet.BSR.String()
}

// rpSetRPs lists the RPs of the given origin as "addr/prio" for logs and
// comparisons, sorted.
func rpSetRPs(s *ctl.Snapshot, origin string) []string {
	var out []string
	for _, rp := range s.RPSet.RPs {
		if rp.Origin != origin {
			continue
		}
		for _, g := range rp.Groups {
			out = append(out, fmt.Sprintf("%s/%d", rp.Address, g.Priority))
		}
	}
	sort.Strings(out)
	return out
}

// rpLeft is the time left on rp's BSR-learned mapping (the shortest over
// its ranges) and whether rp is in the set at all.
func rpLeft(s *ctl.Snapshot, rp string) (time.Duration, bool) {
	left, found := time.Duration(0), false
	for _, r := range s.RPSet.RPs {
		if r.Origin != "bsr" || r.Address.String() != rp {
			continue
		}
		for _, g := range r.Groups {
			if !found || time.Duration(g.Left) < left {
				left, found = time.Duration(g.Left), true
			}
		}
	}
	return left, found
}

// preferredRP is the RP of the given origin with the lowest priority among
// those whose ranges cover grp ("" for none). The tests give every
// candidate a different priority, so the hash never decides.
func preferredRP(s *ctl.Snapshot, origin, grp string) string {
	g := netip.MustParseAddr(grp)
	best, bestPrio := "", 1<<30
	for _, rp := range s.RPSet.RPs {
		if rp.Origin != origin {
			continue
		}
		for _, r := range rp.Groups {
			if r.Prefix.Contains(g) && r.Priority < bestPrio {
				best, bestPrio = rp.Address.String(), r.Priority
			}
		}
	}
	return best
}

// starGRP is the RP of the (*,G) entry of grp ("" when there is none).
func starGRP(s *ctl.Snapshot, grp string) string {
	for _, r := range s.Routes {
		if r.Kind == ctl.StarG && r.Group.String() == grp && r.RP.IsValid() {
			return r.RP.String()
		}
	}
	return ""
}

// starGJoined says whether the (*,G) entry of grp has a downstream Join.
func starGJoined(s *ctl.Snapshot, grp string) bool {
	for _, r := range s.Routes {
		if r.Kind == ctl.StarG && r.Group.String() == grp && len(r.Joined) > 0 {
			return true
		}
	}
	return false
}

// stream sends numbered datagrams every interval in the background and
// remembers when each went out, so that a gap at the receiver can be
// turned into a loss and a recovery time.
type stream struct {
	s        *sender
	interval time.Duration
	mu       sync.Mutex
	sent     []time.Time
	stop     chan struct{}
	done     chan struct{}
}

func startStream(t *testing.T, s *sender, interval time.Duration) *stream {
	st := &stream{s: s, interval: interval, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(st.done)
		for i := 0; ; i++ {
			select {
			case <-st.stop:
				return
			default:
			}
			st.mu.Lock()
			st.sent = append(st.sent, time.Now())
			st.mu.Unlock()
			// WriteTo errors (none expected) are not fatal from here.
			s.raw.WriteTo([]byte(fmt.Sprintf("s-%d", i)), s.dst)
			time.Sleep(interval)
		}
	}()
	t.Cleanup(st.halt)
	return st
}

func (st *stream) halt() {
	select {
	case <-st.stop:
	default:
		close(st.stop)
	}
	<-st.done
}

// n is how many datagrams went out so far.
func (st *stream) n() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.sent)
}

// at is when datagram i went out.
func (st *stream) at(i int) time.Time {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sent[i]
}

// lossReport describes what a receiver got of datagrams [from, to).
type lossReport struct {
	sent, got, lost int
	// The longest run of lost datagrams: its first and last numbers (-1
	// when nothing was lost) and the time from sending the first lost one
	// to sending the first one that arrived after it.
	gapFirst, gapLast int
	gap               time.Duration
}

func (l lossReport) String() string {
	if l.lost == 0 {
		return fmt.Sprintf("%d of %d arrived, none lost", l.got, l.sent)
	}
	return fmt.Sprintf("%d of %d arrived, %d lost; longest gap: datagrams %d..%d (%v of sending)", l.got, l.sent, l.lost, l.gapFirst, l.gapLast, l.gap.Round(time.Millisecond))
}

// losses compares what got holds (payload "s-N") with datagrams [from, to).
func (st *stream) losses(got map[string]int, from, to int) lossReport {
	l := lossReport{sent: to - from, gapFirst: -1, gapLast: -1}
	runStart := -1
	endRun := func(next time.Time, last int) {
		if runStart >= 0 && last-runStart+1 > l.gapLast-l.gapFirst+1 || runStart >= 0 && l.gapFirst < 0 {
			l.gapFirst, l.gapLast = runStart, last
			l.gap = next.Sub(st.at(runStart))
		}
		runStart = -1
	}
	for i := from; i < to; i++ {
		if got[fmt.Sprintf("s-%d", i)] > 0 {
			l.got++
			endRun(st.at(i), i-1)
			continue
		}
		l.lost++
		if runStart < 0 {
			runStart = i
		}
	}
	if to > from {
		endRun(st.at(to-1).Add(st.interval), to-1)
	}
	return l
}

// indexAt is the number of the first datagram sent at or after t.
func (st *stream) indexAt(t time.Time) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return sort.Search(len(st.sent), func(i int) bool { return !st.sent[i].Before(t) })
}

// rpSummary is one line per daemon: BSR, candidate state and RP-set.
func rpSummary(ds map[string]*daemon) string {
	var b strings.Builder
	names := make([]string, 0, len(ds))
	for n := range ds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s, err := ds[n].snapshot()
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", n, err)
			continue
		}
		state := "-"
		if s.RPSet.CandidateBSR != nil {
			state = s.RPSet.CandidateBSR.State
		}
		fmt.Fprintf(&b, "%s: BSR %q (C-BSR %s) RP-set %v\n", n, bsrOf(s), state, rpSetRPs(s, "bsr"))
	}
	return b.String()
}

// pimTimeline lists the Registers (with or without data), Register-Stops
// and Bootstrap messages of a capture, with times relative to since.
func pimTimeline(pkts []pcapread.Packet, since time.Time) string {
	var b strings.Builder
	names := map[int]string{1: "Register", 2: "Register-Stop", 4: "Bootstrap", 8: "C-RP-Adv"}
	last, repeat := "", 0
	flush := func() {
		if repeat > 1 {
			fmt.Fprintf(&b, "  (x%d)\n", repeat)
		} else if repeat == 1 {
			b.WriteString("\n")
		}
	}
	for _, p := range pkts {
		if p.Proto != 103 || len(p.Payload) < 4 {
			continue
		}
		name, ok := names[int(p.Payload[0]&0x0f)]
		if !ok {
			continue
		}
		if name == "Register" && len(p.Payload) > 8+40 && p.Payload[4]&0x40 == 0 {
			name = "data Register"
		}
		line := fmt.Sprintf("%s %s -> %s", name, p.Src, p.Dst)
		if line == last {
			repeat++
			continue
		}
		flush()
		fmt.Fprintf(&b, "%+.3fs %s", p.Time.Sub(since).Seconds(), line)
		last, repeat = line, 1
	}
	flush()
	return b.String()
}

// lossDiagnostics logs, for each router, the kernel's multicast routes with
// their counters (packets, wrong-interface arrivals) and the daemon's drop
// counters: where a lost datagram stopped.
func lossDiagnostics(t *testing.T, ds map[string]*daemon, nss map[string]*netns.NS) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(ds)) {
		var drops []string
		if s, err := ds[name].snapshot(); err == nil {
			for _, scope := range slices.Sorted(maps.Keys(s.Counters)) {
				for _, reason := range slices.Sorted(maps.Keys(s.Counters[scope])) {
					if strings.HasPrefix(reason, "dropped/") || scope == "kernel" || strings.Contains(reason, "register") {
						drops = append(drops, fmt.Sprintf("%s %s=%d", scope, reason, s.Counters[scope][reason]))
					}
				}
			}
		}
		var mr string
		if ns := nss[name]; ns != nil {
			mr, _ = ns.Run("ip", "-6", "-s", "mroute")
		}
		t.Logf("%s: drops %v\nip -6 -s mroute:\n%s", name, drops, mr)
	}
}
