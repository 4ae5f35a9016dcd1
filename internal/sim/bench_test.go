package sim

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// The daemon's side of the views with the state of a flood (8192 groups,
// 14,227 routes): what each view's query costs its loop. reads/op is the
// number of pieces (closures on the loop) a snapshot took; pause-max-ms
// the longest of them, as the bound of the smallest bucket of ctl.Pauses
// that holds them all (pause-max-le-ms), pause-mean-ms their mean;
// loop-ms/op their sum per snapshot; resp-bytes the JSON answer. The
// pauses are the daemon's own measure, so they include what the Go
// runtime took meanwhile (a collection's assists).
//
//	go test -run='^$' -bench=FloodSnapshot -benchmem -count=3 ./internal/sim/
func BenchmarkFloodSnapshot(b *testing.B) {
	one := netip.PrefixFrom(netip.MustParseAddr(FloodGroup(100)), 128)
	for _, c := range []struct {
		name string
		q    ctl.Query
	}{
		{"whole", ctl.Query{}},
		{"interfaces", ctl.Query{Parts: []string{ctl.PartInterfaces, ctl.PartQueriers, ctl.PartCounters, ctl.PartLimits}}},
		{"routes-group", ctl.Query{Parts: []string{ctl.PartRoutes, ctl.PartCacheMirrors, ctl.PartInterfaces}, Group: one}},
		{"mld-group", ctl.Query{Parts: []string{ctl.PartQueriers, ctl.PartGroups}, Group: one}},
	} {
		b.Run(c.name, func(b *testing.B) {
			n, r := Flood{Groups: 8192, Sources: 6035}.Build(b)
			d := r.Daemon()
			pauses := func() *ctl.Pauses {
				s, err := d.SnapshotOfAt(n.Now(), ctl.Query{Parts: []string{ctl.PartCacheMirrors}})
				if err != nil {
					b.Fatal(err)
				}
				return s.Daemon.ViewPauses
			}
			s, err := d.SnapshotOfAt(n.Now(), c.q)
			if err != nil {
				b.Fatal(err)
			}
			resp, err := json.Marshal(ctl.Response{Version: ctl.ProtocolVersion, OK: true, Snapshot: s})
			if err != nil {
				b.Fatal(err)
			}
			before := pauses()
			for b.Loop() {
				if _, err := d.SnapshotOfAt(n.Now(), c.q); err != nil {
					b.Fatal(err)
				}
			}
			after := pauses()
			reads := float64(after.Count-before.Count-1) / float64(b.N) // less pauses()' own read
			sum := time.Duration(after.Sum - before.Sum)
			b.ReportMetric(reads, "reads/op")
			for i, bk := range after.Buckets {
				if bk.Count-before.Buckets[i].Count == after.Count-before.Count {
					b.ReportMetric(float64(bk.Le)/1e6, "pause-max-le-ms")
					break
				}
			}
			b.ReportMetric(float64(sum)/1e6/float64(after.Count-before.Count), "pause-mean-ms")
			b.ReportMetric(float64(sum)/1e6/float64(b.N), "loop-ms/op")
			b.ReportMetric(float64(len(resp)), "resp-bytes")
		})
	}
}
