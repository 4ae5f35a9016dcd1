package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pim6sd/pim6sd/internal/netns"
)

const metricsAddr = "[::1]:9642"

// metricSet is one parsed scrape.
type metricSet map[string]*dto.MetricFamily

// scrapeMetrics GETs http://addr/metrics from inside ns (the connection is
// opened on a thread switched into the namespace) and parses the text
// exposition with the Prometheus parser.
func scrapeMetrics(ns *netns.NS, addr string) (metricSet, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			var c net.Conn
			err := ns.Do(func() error {
				var err error
				c, err = (&net.Dialer{}).DialContext(ctx, network, a)
				return err
			})
			return c, err
		},
	}}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing /metrics: %w", err)
	}
	return fams, nil
}

// get sums the series of name whose labels include every "k=v" of match,
// and says whether there was any.
func (m metricSet) get(name string, match ...string) (float64, bool) {
	f := m[name]
	if f == nil {
		return 0, false
	}
	var sum float64
	found := false
next:
	for _, s := range f.Metric {
		labels := map[string]string{}
		for _, l := range s.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for _, kv := range match {
			k, v, _ := strings.Cut(kv, "=")
			if labels[k] != v {
				continue next
			}
		}
		found = true
		switch {
		case s.Gauge != nil:
			sum += s.Gauge.GetValue()
		case s.Counter != nil:
			sum += s.Counter.GetValue()
		case s.Untyped != nil:
			sum += s.Untyped.GetValue()
		}
	}
	return sum, found
}

// val is get that is 0 for a missing series.
func (m metricSet) val(name string, match ...string) float64 {
	v, _ := m.get(name, match...)
	return v
}

// waitMetrics scrapes until cond holds and returns that scrape.
func waitMetrics(t *testing.T, ns *netns.NS, within time.Duration, what string, cond func(metricSet) bool) metricSet {
	t.Helper()
	start := time.Now()
	var lastErr error
	var last metricSet
	for {
		m, err := scrapeMetrics(ns, metricsAddr)
		if err == nil {
			last = m
			if cond(m) {
				return m
			}
		}
		lastErr = err
		if time.Since(start) > within {
			var dump []string
			for name := range last {
				if strings.HasPrefix(name, "pim6sd_") {
					dump = append(dump, fmt.Sprintf("%s %v", name, last[name].Metric))
				}
			}
			t.Fatalf("%s: not within %v (last error %v); last pim6sd_ metrics:\n%s", what, within, lastErr, strings.Join(dump, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pim6sd --metrics-listen serves the daemon's state: interfaces, PIM and
// MLD roles, the MIF count; an SSM join shows as one more (S,G) entry and
// MFC, and traffic through it makes its packet and byte counters grow.
func TestMetrics(t *testing.T) {
	tp := newOneRouter(t)
	d := startPim6sd(t, tp.rtr, "", "--metrics-listen", metricsAddr)
	snap := mustSnap(t, d)

	m := waitMetrics(t, tp.rtr, 10*time.Second, "DR and Querier on both links, Hellos and Queries counted", func(m metricSet) bool {
		for _, ifname := range []string{"to-snd", "to-rcv"} {
			if m.val("pim6sd_pim_dr", "interface="+ifname) != 1 || m.val("pim6sd_mld_querier", "interface="+ifname) != 1 ||
				m.val("pim6sd_messages_sent_total", "engine=pim", "interface="+ifname, "type=hello") < 1 ||
				m.val("pim6sd_messages_sent_total", "engine=mld", "interface="+ifname, "type=general") < 1 {
				return false
			}
		}
		return true
	})
	if v := m.val("pim6sd_up"); v != 1 {
		t.Errorf("pim6sd_up %v", v)
	}
	if v := m.val("pim6sd_mifs"); v != float64(len(snap.Interfaces)) || v != 3 {
		t.Errorf("pim6sd_mifs %v; pim6stat shows %d interfaces (two links and the register MIF)", v, len(snap.Interfaces))
	}
	if v := m.val("pim6sd_mifs_max"); v != 32 {
		t.Errorf("pim6sd_mifs_max %v", v)
	}
	for _, i := range snap.Interfaces {
		if _, ok := m.get("pim6sd_interface_info", "interface="+i.Name, fmt.Sprintf("mif=%d", i.MIF), fmt.Sprintf("register=%t", i.Register)); !ok {
			t.Errorf("no pim6sd_interface_info for %s (MIF %d)", i.Name, i.MIF)
		}
	}
	for _, ifname := range []string{"to-snd", "to-rcv"} {
		// The hosts run no PIM.
		if v, ok := m.get("pim6sd_pim_neighbors", "interface="+ifname); !ok || v != 0 {
			t.Errorf("pim6sd_pim_neighbors{interface=%q} %v (present %v)", ifname, v, ok)
		}
		if v := m.val("pim6sd_interface_up", "interface="+ifname); v != 1 {
			t.Errorf("pim6sd_interface_up{interface=%q} %v", ifname, v)
		}
	}
	if v := m.val("pim6sd_uptime_seconds"); v <= 0 {
		t.Errorf("pim6sd_uptime_seconds %v", v)
	}
	if _, ok := m.get("pim6sd_info", "version="+snap.Daemon.Version); !ok {
		t.Errorf("no pim6sd_info{version=%q}", snap.Daemon.Version)
	}
	if _, ok := m.get("go_goroutines"); !ok {
		t.Error("no Go runtime metrics")
	}
	sg0, mfc0 := m.val("pim6sd_route_entries", "kind=sg"), m.val("pim6sd_mfc_entries")
	t.Logf("before the join: %v (S,G) entries, %v MFCs", sg0, mfc0)

	// The receiver joins (S,G): one more (S,G) entry, one more MFC.
	rcv := joinSSM(t, tp.rcv, "eth0", srcAddr, ssmGrp, 4321)
	sg := []string{"source=" + srcAddr, "group=" + ssmGrp}
	m = waitMetrics(t, tp.rtr, 5*time.Second, "the joined (S,G) in the metrics", func(m metricSet) bool {
		_, ok := m.get("pim6sd_sg_packets_total", sg...)
		return ok && m.val("pim6sd_route_entries", "kind=sg") >= sg0+1 && m.val("pim6sd_mfc_entries") >= mfc0+1 &&
			m.val("pim6sd_mld_sources", "interface=to-rcv") >= 1
	})
	if v := m.val("pim6sd_sg_series_omitted"); v != 0 {
		t.Errorf("pim6sd_sg_series_omitted %v", v)
	}
	if v := m.val("pim6sd_messages_received_total", "engine=mld", "interface=to-rcv"); v < 1 {
		t.Errorf("no MLD message counted as received on to-rcv: %v", v)
	}
	pkts0, bytes0 := m.val("pim6sd_sg_packets_total", sg...), m.val("pim6sd_sg_bytes_total", sg...)

	// Traffic: the kernel's counters of the (S,G) grow by what was sent.
	const n = 20
	snd := newSender(t, tp.snd, "eth0", ssmGrp, 4321)
	for i := range n {
		snd.send(t, fmt.Sprintf("metrics-%d", i))
		time.Sleep(5 * time.Millisecond)
	}
	m = waitMetrics(t, tp.rtr, 5*time.Second, "the (S,G) counters grow with the traffic", func(m metricSet) bool {
		return m.val("pim6sd_sg_packets_total", sg...) >= pkts0+n && m.val("pim6sd_sg_bytes_total", sg...) >= bytes0+n*float64(len("metrics-0"))
	})
	t.Logf("(S,G) counters: packets %v -> %v, bytes %v -> %v", pkts0, m.val("pim6sd_sg_packets_total", sg...), bytes0, m.val("pim6sd_sg_bytes_total", sg...))
	if got := rcv.count(300 * time.Millisecond); len(got) == 0 {
		t.Error("the receiver got none of the traffic")
	}
}

// A bad --metrics-listen address stops the start-up with a clear error.
func TestMetricsBadAddress(t *testing.T) {
	ns := router(t, "badmetrics")
	dir := t.TempDir()
	for _, addr := range []string{"9642", "[::1]:notaport", "[2001:db8::99]:9642"} {
		out, err := ns.Run(filepath.Join(bin, "pim6sd"), "--foreground", "--socket", filepath.Join(dir, "s.sock"),
			"--pidfile", "", "--metrics-listen", addr)
		if err == nil {
			t.Errorf("--metrics-listen %s: pim6sd started:\n%s", addr, out)
			continue
		}
		if !strings.Contains(out, "--metrics-listen") {
			t.Errorf("--metrics-listen %s: the error does not name the flag:\n%s", addr, out)
		}
		t.Logf("--metrics-listen %s: %s", addr, strings.TrimSpace(out))
	}
}
