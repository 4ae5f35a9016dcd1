package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// A scrape of a router with 10,000 installed (S,G) entries: the
// collector's work and the text exposition (the daemon's snapshot itself
// is not included; it is measured by the daemon's benchmarks).
func BenchmarkScrape10kSG(b *testing.B) {
	s := testSnapshot()
	for i := range 10000 {
		s.Routes = append(s.Routes, ctl.Route{Kind: ctl.SG, Source: a(fmt.Sprintf("2001:db8:1::%x", i+1)),
			Group: a(fmt.Sprintf("ff3e::%x", i%100+1)), Flags: []string{"SG", "CACHE"}, Packets: uint64(i), Bytes: uint64(i) * 100})
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(Options{Snapshot: fixed(s)}))
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
		io.Copy(io.Discard, w.Body)
	}
}
