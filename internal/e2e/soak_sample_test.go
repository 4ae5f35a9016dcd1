package e2e

import (
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pim6sd/pim6sd/internal/netns"
)

// The soak's resource samples: per daemon, what it holds, read from
// outside it where the kernel can tell (descriptors, MIFs, MFC entries)
// and from its metrics where only the Go runtime can (goroutines, heap).

const (
	resGoroutines = iota
	resFDs
	resMIFs
	resMFC
	resHeap // MiB
	nRes
)

var resNames = [nRes]string{"goroutines", "descriptors", "MIFs", "MFC entries", "heap in use, MiB"}

// Tolerances of the comparison after the churn with the baseline. MIFs and
// MFC entries are state: exactly as before. Goroutines and descriptors are
// waited for until they come back (a connection of the last scrape or
// pim6stat may still be closing), with a little room for what the Go
// runtime or net/http start once and keep (a leak of one per event shows
// as dozens after the soak's events). The heap is the Go collector's: it
// lets the heap grow to twice what is live and does not collect below
// 4 MiB, so only more than twice the baseline plus that floor is growth.
const (
	tolGoroutines = 2
	tolFDs        = 1
	heapFloorMiB  = 4
)

// soakSample is one sample of every daemon.
type soakSample struct {
	at time.Time
	v  map[string][nRes]float64 // NaN where a value could not be read
}

func (s soakSample) describe() string {
	var b strings.Builder
	for _, name := range soakRouters {
		v := s.v[name]
		fmt.Fprintf(&b, "%s g%.0f fd%.0f mif%.0f mfc%.0f heap%.1f  ", name, v[resGoroutines], v[resFDs], v[resMIFs], v[resMFC], v[resHeap])
	}
	return strings.TrimSpace(b.String())
}

func (s *soakRun) sample() soakSample {
	out := soakSample{at: time.Now(), v: map[string][nRes]float64{}}
	for _, name := range soakRouters {
		v, err := measure(s.net.rtr[name], s.ds[name])
		if err != nil {
			s.t.Logf("sampling %s: %v", name, err)
		}
		out.v[name] = v
	}
	return out
}

// measure reads one daemon's resources; what it cannot read is NaN.
func measure(ns *netns.NS, d *daemon) ([nRes]float64, error) {
	var v [nRes]float64
	for i := range v {
		v[i] = math.NaN()
	}
	pid := d.proc.Cmd.Process.Pid
	var errs []string
	// Descriptors first, before this sample opens a connection to it.
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		v[resFDs] = float64(len(fds))
	} else {
		errs = append(errs, err.Error())
	}
	// The kernel's tables of the daemon's namespace (the default table).
	if n, err := procNetLines(pid, "ip6_mr_vif", false); err == nil {
		v[resMIFs] = float64(n)
	} else {
		errs = append(errs, err.Error())
	}
	if n, err := procNetLines(pid, "ip6_mr_cache", true); err == nil {
		v[resMFC] = float64(n)
	} else {
		errs = append(errs, err.Error())
	}
	m, err := scrapeMetrics(ns, metricsAddr)
	if err != nil {
		errs = append(errs, err.Error())
	} else {
		if g, ok := m.get("go_goroutines"); ok {
			v[resGoroutines] = g
		} else {
			errs = append(errs, "no go_goroutines in the metrics")
		}
		if h, ok := m.get("go_memstats_heap_inuse_bytes"); ok {
			v[resHeap] = h / (1 << 20)
		} else if sn, err := d.snapshot(); err == nil {
			v[resHeap] = float64(sn.Daemon.Memory.HeapInuse) / (1 << 20)
		} else {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return v, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return v, nil
}

// procNetLines counts the entries of /proc/PID/net/FILE (the network
// namespace of process pid) after the header line; resolved leaves out
// the kernel's unresolved MFC entries (incoming interface -1: packets
// waiting for the daemon's answer to an upcall).
func procNetLines(pid int, file string, resolved bool) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, file))
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	n := 0
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == 0 || resolved && len(f) > 2 && f[2] == "-1" {
			continue
		}
		n++
	}
	return n, nil
}

// settleKernel samples every second until three samples in a row have the
// same MIFs and MFC entries in every router, and returns them: the
// baseline's window.
func (s *soakRun) settleKernel() []soakSample {
	s.t.Helper()
	var w []soakSample
	deadline := time.Now().Add(30 * time.Second)
	for {
		w = append(w, s.sample())
		if len(w) > 3 {
			w = w[1:]
		}
		if len(w) == 3 && kernelStable(w) {
			return w
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, x := range w {
				b.WriteString("\n" + x.describe())
			}
			s.t.Fatalf("the kernel's MIFs and MFC entries did not settle within 30s before the churn:%s", b.String())
		}
		time.Sleep(time.Second)
	}
}

// kernelStable says whether every value of the window was read and the
// MIFs and MFC entries are the same in each sample.
func kernelStable(w []soakSample) bool {
	for _, name := range soakRouters {
		for _, x := range w {
			for r := range nRes {
				if math.IsNaN(x.v[name][r]) {
					return false
				}
			}
		}
		for _, r := range []int{resMIFs, resMFC} {
			v := w[0].v[name][r]
			for _, x := range w[1:] {
				if x.v[name][r] != v {
					return false
				}
			}
		}
	}
	return true
}

// soakBase is each daemon's baseline: the most goroutines, descriptors and
// heap of the window, and its (stable) MIFs and MFC entries.
type soakBase map[string][nRes]float64

func soakBaseline(w []soakSample) soakBase {
	b := soakBase{}
	for _, name := range soakRouters {
		var v [nRes]float64
		for r := range nRes {
			v[r] = math.Inf(-1)
			for _, x := range w {
				v[r] = max(v[r], x.v[name][r])
			}
		}
		b[name] = v
	}
	return b
}

func (b soakBase) describe() string {
	return soakSample{v: b}.describe()
}

// soakSettled is the comparison after the churn: ok, or what is not back.
type soakSettled struct {
	ok   bool
	took time.Duration
	bad  []string
}

// settleBack samples every second until every daemon is back at its
// baseline (within the tolerances), for at most soakSettle.
func (s *soakRun) settleBack(base soakBase) (soakSample, soakSettled) {
	start := time.Now()
	for {
		smp := s.sample()
		bad := compareBase(base, smp)
		if len(bad) == 0 {
			return smp, soakSettled{ok: true, took: time.Since(start)}
		}
		if time.Since(start) > soakSettle {
			return smp, soakSettled{took: time.Since(start), bad: bad}
		}
		time.Sleep(time.Second)
	}
}

func compareBase(base soakBase, smp soakSample) []string {
	var bad []string
	for _, name := range soakRouters {
		b, v := base[name], smp.v[name]
		limit := [nRes]float64{
			resGoroutines: b[resGoroutines] + tolGoroutines,
			resFDs:        b[resFDs] + tolFDs,
			resMIFs:       b[resMIFs],
			resMFC:        b[resMFC],
			resHeap:       2*b[resHeap] + heapFloorMiB,
		}
		for r := range nRes {
			switch {
			case math.IsNaN(v[r]):
				bad = append(bad, fmt.Sprintf("%s %s: not read", name, resNames[r]))
			case (r == resMIFs || r == resMFC) && v[r] != limit[r]:
				bad = append(bad, fmt.Sprintf("%s %s: %.0f, %.0f before the churn", name, resNames[r], v[r], b[r]))
			case v[r] > limit[r]:
				bad = append(bad, fmt.Sprintf("%s %s: %.1f, %.1f before the churn (at most %.1f)", name, resNames[r], v[r], b[r], limit[r]))
			}
		}
	}
	return bad
}

// slope is the least-squares slope of resource r of daemon name over the
// samples taken in [from, to], per hour (NaN with fewer than 3 samples).
func slope(samples []soakSample, name string, r int, from, to time.Time) float64 {
	var xs, ys []float64
	for _, s := range samples {
		if s.at.Before(from) || s.at.After(to) || math.IsNaN(s.v[name][r]) {
			continue
		}
		xs = append(xs, s.at.Sub(from).Hours())
		ys = append(ys, s.v[name][r])
	}
	if len(xs) < 3 {
		return math.NaN()
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(ys))
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return math.NaN()
	}
	return sxy / sxx
}

type soakSentinelReport struct {
	name   string
	phases []string
	runs   []string
	lost   int
	dups   int
}

// soakReport is what the soak prints at the end (scripts/soak.sh shows it
// again after the log).
type soakReport struct {
	seed      uint64
	dur       time.Duration
	every     time.Duration
	kinds     map[string]int
	sentinels []soakSentinelReport
	joins     string
	base      soakBase
	after     soakSample
	settled   soakSettled
	samples   []soakSample
	half, end time.Time
	audit     []string
}

func (r *soakReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "----- soak report -----\n")
	fmt.Fprintf(&b, "%v of churn, seed %d, a sample every %v (%d samples)\n", r.dur, r.seed, r.every, len(r.samples))
	b.WriteString("events:")
	for _, k := range slices.Sorted(maps.Keys(r.kinds)) {
		fmt.Fprintf(&b, " %s %d;", k, r.kinds[k])
	}
	b.WriteString("\n")
	for _, s := range r.sentinels {
		fmt.Fprintf(&b, "%s, %v between datagrams: %d lost, %d duplicated\n", s.name, soakSentinelEvery, s.lost, s.dups)
		for _, p := range s.phases {
			fmt.Fprintf(&b, "  %s\n", p)
		}
		for i, run := range s.runs {
			if i == 20 {
				fmt.Fprintf(&b, "  ... %d more runs of losses\n", len(s.runs)-i)
				break
			}
			fmt.Fprintf(&b, "  lost: %s\n", run)
		}
	}
	fmt.Fprintf(&b, "churn receivers: %s\n", r.joins)
	if r.settled.ok {
		fmt.Fprintf(&b, "after the churn: every daemon back at its baseline after %v\n", r.settled.took.Round(time.Second))
	} else {
		fmt.Fprintf(&b, "after the churn: NOT back at the baseline after %v: %s\n", r.settled.took.Round(time.Second), strings.Join(r.settled.bad, "; "))
	}
	fmt.Fprintf(&b, "resources: before the churn -> after it; range during it; least-squares slope over its second half, per hour\n")
	fmt.Fprintf(&b, "  %-4s %-17s %10s %10s %21s %12s\n", "", "", "before", "after", "during", "slope/h")
	for _, name := range soakRouters {
		for res := range nRes {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, s := range r.samples {
				if v := s.v[name][res]; !math.IsNaN(v) {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
			fmt.Fprintf(&b, "  %-4s %-17s %10.1f %10.1f %10.1f..%-10.1f %+12.2f\n", name, resNames[res],
				r.base[name][res], r.after.v[name][res], lo, hi, slope(r.samples, name, res, r.half, r.end))
		}
	}
	b.WriteString("  (r1-r3 run unrestarted through the second half; r4 is stopped and started all along, so its figures span processes)\n")
	fmt.Fprintf(&b, "kernel audit repairs since each daemon's last start: %s\n", strings.Join(r.audit, "; "))
	b.WriteString("----- end of soak report -----")
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
