package metrics

import (
	"cmp"
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// SnapshotFunc takes one snapshot of the daemon (daemon.Daemon.Snapshot:
// run on the loop, giving up when ctx ends).
type SnapshotFunc func(ctx context.Context) (*ctl.Snapshot, error)

const (
	// DefaultMaxSGSeries bounds the per-(S,G) series of one scrape.
	DefaultMaxSGSeries = 1000
	// DefaultTimeout bounds the wait for the snapshot.
	DefaultTimeout = 5 * time.Second
)

// maxMIFs is the kernel's limit on multicast interfaces (MAXMIFS of
// linux/mroute6.h, kernel.MaxMIFs). It is stated again here so that the
// metrics, a view of snapshots, do not depend on the kernel package and
// through it on sockets and netlink; TestMaxMIFsIsTheKernels keeps the two
// equal.
const maxMIFs = 32

// Options configure a Collector.
type Options struct {
	Snapshot SnapshotFunc
	// Timeout bounds the wait for the loop (0: DefaultTimeout).
	Timeout time.Duration
	// MaxSGSeries is how many installed (S,G) entries get their own
	// pim6sd_sg_* series (0: DefaultMaxSGSeries; negative: none).
	MaxSGSeries int
	// Log, if set, gets a warning when a scrape gets no snapshot.
	Log *slog.Logger
}

// Collector is a prometheus.Collector over daemon snapshots.
type Collector struct{ o Options }

// NewCollector returns a Collector taking its snapshots with o.Snapshot.
func NewCollector(o Options) *Collector {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxSGSeries == 0 {
		o.MaxSGSeries = DefaultMaxSGSeries
	}
	if o.MaxSGSeries < 0 {
		o.MaxSGSeries = 0
	}
	return &Collector{o: o}
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("pim6sd_"+name, help, labels, nil)
}

var (
	descUp             = desc("up", "1 when this scrape got a snapshot of the daemon's state; 0 when the daemon's loop did not answer in time (then only the Go and process metrics come with it).")
	descScrapeDuration = desc("scrape_snapshot_duration_seconds", "How long taking the daemon's snapshot for this scrape took.")

	descInfo      = desc("info", "Always 1: the daemon's version and the kernel multicast routing table (MRT6_TABLE) it uses.", "version", "mrt_table")
	descStartTime = desc("start_time_seconds", "When the daemon started, seconds since the Unix epoch.")
	descUptime    = desc("uptime_seconds", "How long the daemon has been running.")

	descIfInfo   = desc("interface_info", "Always 1: one series per multicast interface (MIF) with its MIF index; register is \"true\" for the PIM register MIF.", "interface", "mif", "register")
	descIfUp     = desc("interface_up", "1 when the interface's link is up.", "interface")
	descNeigh    = desc("pim_neighbors", "Number of PIM neighbors on the interface.", "interface")
	descDR       = desc("pim_dr", "1 when this router is the PIM Designated Router of the link.", "interface")
	descQuerier  = desc("mld_querier", "1 when this router is the MLD Querier of the link.", "interface")
	descGroups   = desc("mld_groups", "Number of MLD multicast address records (groups with listeners) on the interface, link-scope groups included.", "interface")
	descSources  = desc("mld_sources", "Number of MLD source records on the interface, summed over its groups.", "interface")
	descMIFs     = desc("mifs", "Multicast interfaces (MIFs) in use in the kernel, the register MIF included.")
	descMIFsMax  = desc("mifs_max", "The kernel's limit on multicast interfaces (MAXMIFS).")
	descRoutes   = desc("route_entries", "Multicast routing entries by kind: star_g is (*,G), sg is (S,G), star_star_rp is (*,*,RP).", "kind")
	descMFC      = desc("mfc_entries", "Forwarding entries (MFCs) installed in the kernel.")
	descSGPkts   = desc("sg_packets_total", "Packets forwarded by the kernel for an installed (S,G) entry (kernel counter; restarts from 0 when the entry is reinstalled). At most the configured number of (S,G) series, the busiest by bytes; see pim6sd_sg_series_omitted.", "source", "group")
	descSGBytes  = desc("sg_bytes_total", "Bytes forwarded by the kernel for an installed (S,G) entry (kernel counter; restarts from 0 when the entry is reinstalled).", "source", "group")
	descSGWrong  = desc("sg_wrong_interface_total", "Packets of an installed (S,G) entry that arrived on another interface than its incoming one (kernel counter).", "source", "group")
	descSGOmit   = desc("sg_series_omitted", "Installed (S,G) entries left out of the pim6sd_sg_* series by the series bound.")
	descSGMax    = desc("sg_series_max", "The bound on (S,G) entries exported with pim6sd_sg_* series.")
	descRecv     = desc("messages_received_total", "Messages received and accepted, by engine (mld, pim), interface and message type.", "engine", "interface", "type")
	descSent     = desc("messages_sent_total", "Messages sent, by engine, interface and message type.", "engine", "interface", "type")
	descDropped  = desc("dropped_total", "Packets, messages or records dropped or ignored, by engine, interface and reason.", "engine", "interface", "reason")
	descUpcalls  = desc("upcalls_total", "Kernel upcalls, by interface and upcall type.", "engine", "interface", "type")
	descEvents   = desc("events_total", "Other event counters of the daemon, by engine, interface and event.", "engine", "interface", "event")
	descBSRKnown = desc("bsr_known", "1 when a Bootstrap Router is known (elected or heard).")
	descBSRInfo  = desc("bsr_info", "Always 1 while a BSR is known: its address.", "bsr")
	descBSRPrio  = desc("bsr_priority", "Priority of the current BSR.")
	descBSRHash  = desc("bsr_hash_mask_length", "Hash mask length of the current BSR.")
	descBSRLeft  = desc("bsr_timeout_seconds", "Time left on the Bootstrap Timer.")
	descCBSR     = desc("candidate_bsr_state", "This router's Candidate-BSR state (RFC 5059 3.1.1): 1 for the current state. Only when a Candidate-BSR is configured.", "state")
	descCBSRPrio = desc("candidate_bsr_priority", "This router's configured Candidate-BSR priority.")
	descCRP      = desc("candidate_rp_info", "Always 1 when this router is a configured Candidate-RP: its address.", "address")
	descRPs      = desc("rps", "Number of RPs known, by where the mapping comes from (bsr, static, embedded).", "origin")
	descRPSet    = desc("rp_set_entries", "Number of group-range-to-RP mappings, by origin.", "origin")
	descLimMax   = desc("limit_max", "A configured resource limit.", "name", "interface")
	descLimUsed  = desc("limit_used", "Current use of a configured resource limit.", "name", "interface")
	descLimRef   = desc("limit_refused_total", "What was refused because a resource limit was reached.", "name", "interface")

	descAuditRuns    = desc("kernel_audits_total", "Kernel audits run: what the kernel forwards compared with what the daemon installed.")
	descAuditErrors  = desc("kernel_audit_errors_total", "Kernel audits that could not read the kernel.")
	descAuditLast    = desc("kernel_audit_last_timestamp_seconds", "When the last kernel audit ran (Unix time).")
	descRepairs      = desc("kernel_repairs_total", "Differences the kernel audit found and repaired, by kind: missing (entry deleted behind our back), changed, extra (an entry that is not ours), mif (a MIF deleted behind our back).", "kind")
	descRestartKept  = desc("restart_kept_entries", "Kernel entries a restarted daemon took over and keeps through its grace although nothing has asked for them again yet.")
	descRestartSwept = desc("restart_swept_entries", "Kernel entries a restarted daemon removed when its grace ended.")
)

var allDescs = []*prometheus.Desc{
	descUp, descScrapeDuration, descInfo, descStartTime, descUptime,
	descIfInfo, descIfUp, descNeigh, descDR, descQuerier, descGroups, descSources, descMIFs, descMIFsMax,
	descRoutes, descMFC, descSGPkts, descSGBytes, descSGWrong, descSGOmit, descSGMax,
	descRecv, descSent, descDropped, descUpcalls, descEvents,
	descBSRKnown, descBSRInfo, descBSRPrio, descBSRHash, descBSRLeft, descCBSR, descCBSRPrio, descCRP, descRPs, descRPSet,
	descLimMax, descLimUsed, descLimRef,
	descAnycastMember, descAnycastRegs,
	descAuditRuns, descAuditErrors, descAuditLast, descRepairs, descRestartKept, descRestartSwept,
}

// Describe sends every family's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect takes one snapshot and sends its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Timeout)
	defer cancel()
	s, err := c.o.Snapshot(ctx)
	ch <- gauge(descScrapeDuration, time.Since(start).Seconds())
	if err != nil || s == nil {
		if c.o.Log != nil {
			c.o.Log.Warn("metrics: no snapshot for this scrape", "err", err)
		}
		ch <- gauge(descUp, 0)
		return
	}
	ch <- gauge(descUp, 1)
	export(s, c.o.MaxSGSeries, ch)
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// acc sums series by label values, so that a snapshot with repeated
// entries never yields duplicate series (which would fail the scrape);
// with last set, a repeated series takes the last value instead (gauges
// of one interface).
type acc struct {
	last  bool
	order []string
	vals  map[string]float64
	lbls  map[string][]string
}

func (a *acc) add(v float64, labels ...string) {
	if a.vals == nil {
		a.vals, a.lbls = map[string]float64{}, map[string][]string{}
	}
	k := strings.Join(labels, "\x00")
	if _, ok := a.vals[k]; !ok {
		a.order = append(a.order, k)
		a.lbls[k] = labels
	}
	if a.last {
		a.vals[k] = v
	} else {
		a.vals[k] += v
	}
}

func (a *acc) emit(ch chan<- prometheus.Metric, d *prometheus.Desc, t prometheus.ValueType) {
	for _, k := range a.order {
		ch <- prometheus.MustNewConstMetric(d, t, a.vals[k], a.lbls[k]...)
	}
}

// export sends the metrics of one snapshot.
func export(s *ctl.Snapshot, maxSG int, ch chan<- prometheus.Metric) {
	ch <- gauge(descInfo, 1, s.Daemon.Version, strconv.FormatUint(uint64(s.Daemon.Table), 10))
	if !s.Daemon.Started.IsZero() {
		ch <- gauge(descStartTime, float64(s.Daemon.Started.UnixNano())/1e9)
		ch <- gauge(descUptime, time.Duration(s.Daemon.Uptime()).Seconds())
	}
	exportInterfaces(s, ch)
	exportRoutes(s, maxSG, ch)
	exportCounters(s, ch)
	exportRP(s, ch)
	exportAnycast(s, ch)
	exportAudit(s, ch)
	lmax, lused, lref := acc{last: true}, acc{last: true}, acc{last: true}
	for _, l := range s.Limits {
		lmax.add(float64(l.Max), l.Name, l.Interface)
		lused.add(float64(l.Used), l.Name, l.Interface)
		lref.add(float64(l.Refused), l.Name, l.Interface)
	}
	lmax.emit(ch, descLimMax, prometheus.GaugeValue)
	lused.emit(ch, descLimUsed, prometheus.GaugeValue)
	lref.emit(ch, descLimRef, prometheus.CounterValue)
}

func exportInterfaces(s *ctl.Snapshot, ch chan<- prometheus.Metric) {
	neigh := map[string]int{}
	for _, n := range s.Neighbors {
		neigh[n.Interface]++
	}
	groups, sources := map[string]int{}, map[string]int{}
	for _, g := range s.Groups {
		groups[g.Interface]++
		sources[g.Interface] += len(g.Sources)
	}
	info := acc{last: true}
	up, nb, dr, q, gr, src := acc{last: true}, acc{last: true}, acc{last: true}, acc{last: true}, acc{last: true}, acc{last: true}
	for _, i := range s.Interfaces {
		info.add(1, i.Name, strconv.Itoa(i.MIF), strconv.FormatBool(i.Register))
		if i.Register {
			continue
		}
		up.add(b2f(!i.Down), i.Name)
		nb.add(float64(neigh[i.Name]), i.Name)
		dr.add(b2f(i.DR), i.Name)
		q.add(b2f(i.Querier), i.Name)
		gr.add(float64(groups[i.Name]), i.Name)
		src.add(float64(sources[i.Name]), i.Name)
	}
	info.emit(ch, descIfInfo, prometheus.GaugeValue)
	for _, f := range []struct {
		a *acc
		d *prometheus.Desc
	}{{&up, descIfUp}, {&nb, descNeigh}, {&dr, descDR}, {&q, descQuerier}, {&gr, descGroups}, {&src, descSources}} {
		f.a.emit(ch, f.d, prometheus.GaugeValue)
	}
	ch <- gauge(descMIFs, float64(len(s.Interfaces)))
	ch <- gauge(descMIFsMax, maxMIFs)
}

// routeKinds maps the snapshot's route kinds to label values.
var routeKinds = []struct {
	kind  ctl.RouteKind
	label string
}{{ctl.StarG, "star_g"}, {ctl.SG, "sg"}, {ctl.StarRP, "star_star_rp"}}

func exportRoutes(s *ctl.Snapshot, maxSG int, ch chan<- prometheus.Metric) {
	n := map[ctl.RouteKind]int{}
	for _, r := range s.Routes {
		n[r.Kind]++
	}
	for _, k := range routeKinds {
		ch <- gauge(descRoutes, float64(n[k.kind]), k.label)
	}
	ch <- gauge(descMFC, float64(s.CacheMirrors))

	shown, omitted := sgSeries(s.Routes, maxSG)
	for _, r := range shown {
		src, grp := r.Source.String(), r.Group.String()
		ch <- counter(descSGPkts, float64(r.Packets), src, grp)
		ch <- counter(descSGBytes, float64(r.Bytes), src, grp)
		ch <- counter(descSGWrong, float64(r.WrongIf), src, grp)
	}
	ch <- gauge(descSGOmit, float64(omitted))
	ch <- gauge(descSGMax, float64(maxSG))
}

// sgSeries chooses the (S,G) entries that get per-entry series: the
// entries installed in the kernel (flag CACHE), one per (S,G), ordered by
// bytes forwarded (most first), then packets, then source and group
// address, and cut at max. The choice depends only on the snapshot, so a
// scrape is deterministic; the busiest entries are the ones kept. It
// returns the chosen entries and how many were left out.
func sgSeries(routes []ctl.Route, max int) (shown []*ctl.Route, omitted int) {
	seen := make(map[[2]netip.Addr]bool, len(routes))
	all := make([]*ctl.Route, 0, len(routes))
	for i := range routes {
		r := &routes[i]
		if r.Kind != ctl.SG || !slices.Contains(r.Flags, "CACHE") {
			continue
		}
		k := [2]netip.Addr{r.Source, r.Group}
		if seen[k] {
			continue
		}
		seen[k] = true
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b *ctl.Route) int {
		return cmp.Or(
			cmp.Compare(b.Bytes, a.Bytes),
			cmp.Compare(b.Packets, a.Packets),
			a.Source.Compare(b.Source),
			a.Group.Compare(b.Group),
		)
	})
	if len(all) <= max {
		return all, 0
	}
	return all[:max], len(all) - max
}

// exportCounters maps the snapshot's Counters (scope "ENGINE/IFNAME" or
// "ENGINE"; key "received/TYPE", "sent/TYPE", "dropped/REASON",
// "upcall/TYPE", or anything else) to counter families.
func exportCounters(s *ctl.Snapshot, ch chan<- prometheus.Metric) {
	var recv, sent, dropped, upcalls, events acc
	for _, scope := range sortedKeys(s.Counters) {
		engine, ifname, _ := strings.Cut(scope, "/")
		m := s.Counters[scope]
		for _, key := range sortedKeys(m) {
			v := float64(m[key])
			kind, rest, ok := strings.Cut(key, "/")
			if !ok {
				events.add(v, engine, ifname, key)
				continue
			}
			switch kind {
			case "received":
				recv.add(v, engine, ifname, rest)
			case "sent":
				sent.add(v, engine, ifname, rest)
			case "dropped":
				dropped.add(v, engine, ifname, rest)
			case "upcall", "upcalls":
				upcalls.add(v, engine, ifname, rest)
			default:
				events.add(v, engine, ifname, key)
			}
		}
	}
	recv.emit(ch, descRecv, prometheus.CounterValue)
	sent.emit(ch, descSent, prometheus.CounterValue)
	dropped.emit(ch, descDropped, prometheus.CounterValue)
	upcalls.emit(ch, descUpcalls, prometheus.CounterValue)
	events.emit(ch, descEvents, prometheus.CounterValue)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// cbsrStates are the Candidate-BSR machine's states (RFC 5059 3.1.1).
var cbsrStates = []string{"candidate", "pending", "elected"}

func exportRP(s *ctl.Snapshot, ch chan<- prometheus.Metric) {
	set := s.RPSet
	ch <- gauge(descBSRKnown, b2f(set.BSR.IsValid()))
	if set.BSR.IsValid() {
		ch <- gauge(descBSRInfo, 1, set.BSR.String())
		ch <- gauge(descBSRPrio, float64(set.BSRPriority))
		ch <- gauge(descBSRHash, float64(set.BSRHashMaskLen))
		ch <- gauge(descBSRLeft, time.Duration(set.BSRTimeout).Seconds())
	}
	if cb := set.CandidateBSR; cb != nil {
		for _, st := range cbsrStates {
			ch <- gauge(descCBSR, b2f(cb.State == st), st)
		}
		if cb.State != "" && !slices.Contains(cbsrStates, cb.State) {
			ch <- gauge(descCBSR, 1, cb.State)
		}
		ch <- gauge(descCBSRPrio, float64(cb.Priority))
	}
	if cr := set.CandidateRP; cr != nil {
		ch <- gauge(descCRP, 1, cr.Address.String())
	}
	rps, entries := map[string]int{}, map[string]int{}
	// Every origin a snapshot's RP-set uses is reported, 0 when none has
	// it, so that a series does not vanish; others seen are added.
	origins := []string{ctl.RPOriginBSR, ctl.RPOriginStatic, ctl.RPOriginEmbedded}
	for _, rp := range set.RPs {
		o := rp.Origin
		if o == "" {
			o = "unknown"
		}
		if !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
		rps[o]++
		entries[o] += len(rp.Groups)
	}
	for _, o := range origins {
		ch <- gauge(descRPs, float64(rps[o]), o)
		ch <- gauge(descRPSet, float64(entries[o]), o)
	}
}

// The Anycast-RP set (RFC 4610): only on a member.
var (
	descAnycastMember = desc("anycast_rp_member_info", "Always 1 for each member of this router's Anycast-RP set: the shared address, the member's unique address and whether it is this router.", "address", "member", "self")
	descAnycastRegs   = desc("anycast_rp_messages_total", "Registers and Register-Stops exchanged with another member of the Anycast-RP set, by member, direction (in, out) and type (register, null-register, register-stop).", "member", "direction", "type")
)

func exportAnycast(s *ctl.Snapshot, ch chan<- prometheus.Metric) {
	a := s.AnycastRP
	if a == nil {
		return
	}
	for _, m := range a.Members {
		ch <- gauge(descAnycastMember, 1, a.Address.String(), m.Address.String(), strconv.FormatBool(m.Self))
		if m.Self {
			continue
		}
		for _, c := range []struct {
			dir, typ string
			n        uint64
		}{
			{"in", "register", m.RegistersIn}, {"in", "null-register", m.NullRegistersIn}, {"in", "register-stop", m.RegisterStopsIn},
			{"out", "register", m.RegistersOut}, {"out", "null-register", m.NullRegistersOut}, {"out", "register-stop", m.RegisterStopsOut},
		} {
			ch <- counter(descAnycastRegs, float64(c.n), m.Address.String(), c.dir, c.typ)
		}
	}
}

// exportAudit sends the kernel audit's and a restart's figures.
func exportAudit(s *ctl.Snapshot, ch chan<- prometheus.Metric) {
	a := s.Daemon.Audit
	ch <- counter(descAuditRuns, float64(a.Runs))
	ch <- counter(descAuditErrors, float64(a.Errors))
	if !a.Last.IsZero() {
		ch <- gauge(descAuditLast, float64(a.Last.UnixNano())/1e9)
	}
	for _, k := range []struct {
		kind string
		n    uint64
	}{{"missing", a.Found.Missing}, {"changed", a.Found.Changed}, {"extra", a.Found.Extra}, {"mif", a.Found.MIFs}} {
		ch <- counter(descRepairs, float64(k.n), k.kind)
	}
	if r := s.Daemon.Restart; r != nil {
		ch <- gauge(descRestartKept, float64(r.Kept))
		ch <- gauge(descRestartSwept, float64(r.Swept))
	}
}
