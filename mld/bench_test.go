package mld

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// The benchmark state: 10,000 groups x 10 sources on one interface, as 200
// MLDv2 Reports of 50 records of 10 sources each.
const (
	benchGroups     = 10_000
	benchSources    = 10
	benchPerReport  = 50
	benchSrcPerPkt  = benchPerReport * benchSources
	benchAllSources = benchGroups * benchSources
)

func benchGroup(i int) netip.Addr {
	var b [16]byte
	b[0], b[1] = 0xff, 0x0e
	binary.BigEndian.PutUint32(b[12:], uint32(0x10000+i))
	return netip.AddrFrom16(b)
}

func benchSource(i int) netip.Addr {
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	binary.BigEndian.PutUint32(b[12:], uint32(i+1))
	return netip.AddrFrom16(b)
}

// benchReports returns the Reports for groups [0, groups) with records of
// type t.
func benchReports(tb testing.TB, t mldmsg.RecordType, groups int) []Packet {
	var pkts []Packet
	sources := make([]netip.Addr, benchSources)
	for i := range sources {
		sources[i] = benchSource(i)
	}
	for g := 0; g < groups; g += benchPerReport {
		recs := make([]mldmsg.Record, 0, benchPerReport)
		for i := g; i < min(g+benchPerReport, groups); i++ {
			recs = append(recs, mldmsg.Record{Type: t, Group: benchGroup(i), Sources: sources})
		}
		pkts = append(pkts, report(tb, recs...))
	}
	return pkts
}

func benchConfig() Config {
	cfg := DefaultConfig()
	cfg.MaxGroups = benchGroups
	return cfg
}

func benchRouter(tb testing.TB, pkts []Packet) *Router {
	r := newRouter(tb, tR, benchConfig())
	for _, p := range pkts {
		r.Receive(tR, ifx, p)
	}
	return r
}

// BenchmarkRecords: processing IS_IN and ALLOW records that refresh the
// 100,000 sources of the benchmark state, with the clock moving; each op is
// one Report of 500 source records, checksum and parse included. Goal: at
// least 1,000,000 source records per second per core.
func BenchmarkRecords(b *testing.B) {
	for _, t := range []mldmsg.RecordType{mldmsg.ModeIsInclude, mldmsg.AllowNewSources} {
		b.Run(t.String(), func(b *testing.B) {
			pkts := benchReports(b, t, benchGroups)
			r := benchRouter(b, pkts)
			now := tR
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now = now.Add(time.Millisecond)
				if acts := r.Receive(now, ifx, pkts[i%len(pkts)]); acts != nil {
					b.Fatalf("refresh produced %v", acts)
				}
			}
			b.ReportMetric(float64(b.N)*benchSrcPerPkt/b.Elapsed().Seconds(), "sources/s")
		})
	}
	b.Run("new-sources", func(b *testing.B) {
		// Creating state: every op starts from 100 empty groups.
		pkts := benchReports(b, mldmsg.ModeIsInclude, 100)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			r := newRouter(b, tR, DefaultConfig())
			b.StartTimer()
			r.Receive(tR, ifx, pkts[0])
			r.Receive(tR, ifx, pkts[1])
		}
		b.ReportMetric(float64(b.N)*2*benchSrcPerPkt/b.Elapsed().Seconds(), "sources/s")
	})
}

// BenchmarkMemoryPerSource: heap in use for the benchmark state divided by
// its 100,000 sources (group records, source entries, queued timers).
// Goal: at most 200 bytes per source.
func BenchmarkMemoryPerSource(b *testing.B) {
	pkts := benchReports(b, mldmsg.ModeIsInclude, benchGroups)
	var perSource float64
	for i := 0; i < b.N; i++ {
		before := heapInUse()
		r := benchRouter(b, pkts)
		after := heapInUse()
		if n := r.Stats(ifx).Sources; n != benchAllSources {
			b.Fatalf("%d sources", n)
		}
		runtime.KeepAlive(r)
		perSource = float64(after-before) / benchAllSources
	}
	b.ReportMetric(perSource, "bytes/source")
}

// BenchmarkExpireIdle: the cost of the daemon's timer path (NextDeadline,
// then Expire before anything is due) must not grow with the number of
// idle groups.
func BenchmarkExpireIdle(b *testing.B) {
	for _, n := range []int{100, benchGroups} {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			r := benchRouter(b, benchReports(b, mldmsg.ModeIsInclude, n))
			now := tR
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now = now.Add(time.Nanosecond)
				if d, ok := r.NextDeadline(); !ok || !d.After(now) {
					b.Fatal("a timer is due")
				}
				if acts := r.Expire(now); acts != nil {
					b.Fatal(acts)
				}
			}
		})
	}
}

// BenchmarkExpireSources: timers firing. Each op is one Expire at a
// source deadline for 10,000 groups refreshed since (the lazy re-arm) or not
// (the expiry and the ListenerUpdate); reported per source timer.
func BenchmarkExpireSources(b *testing.B) {
	for _, refreshed := range []bool{true, false} {
		b.Run(fmt.Sprintf("refreshed=%v", refreshed), func(b *testing.B) {
			pkts := benchReports(b, mldmsg.ModeIsInclude, benchGroups)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r := benchRouter(b, pkts)
				if refreshed {
					for _, p := range pkts {
						r.Receive(at(100), ifx, p)
					}
				}
				b.StartTimer()
				r.Expire(at(260))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchAllSources, "ns/source")
		})
	}
}
