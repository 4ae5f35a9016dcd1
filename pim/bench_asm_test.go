package pim

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The ASM benchmark state: 1000 (*,G) entries joined by the downstream
// neighbor nbr1 on ifD, toward the RP through nbr3 on ifU, and 10 sources
// per group coming down the RP tree (10,000 cache entries installed by
// NoCache), every source distinct: the worst case, each source a WatchRPF.
const (
	benchStarGroups = 1000
	benchStarSrcs   = 10
)

func asmGroup(i int) netip.Addr {
	var b [16]byte
	b[0], b[1] = 0xff, 0x0e
	binary.BigEndian.PutUint32(b[12:], uint32(i+1))
	return netip.AddrFrom16(b)
}

func asmSource(g, s int) netip.Addr {
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	binary.BigEndian.PutUint32(b[8:], uint32(g+1))
	binary.BigEndian.PutUint32(b[12:], uint32(s+1))
	return netip.AddrFrom16(b)
}

// benchStarRouter returns a router with the 1000 (*,G) joined and no
// source yet.
func benchStarRouter(tb testing.TB) *Router {
	cfg := testConfig(constRand(half))
	cfg.MaxRoutes = benchStarGroups * (benchStarSrcs + 1)
	cfg.SPT.Never = true
	cfg.RPs = []StaticRP{{Addr: rpA, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}}
	r, err := New(new(timerq.IDs), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	mustAdd(tb, r, tR, ifD, selfD)
	mustAdd(tb, r, tR, ifU, selfU)
	hello(tb, r, tR, ifD, nbr1, withHoldtime(0xffff))
	hello(tb, r, tR, ifU, nbr3, withHoldtime(0xffff))
	r.Expire(at(5))
	jp := &pimmsg.JoinPrune{UpstreamNeighbor: selfD, Holdtime: 0xffff}
	for g := range benchStarGroups {
		jp.Groups = append(jp.Groups, pimmsg.JoinPruneGroup{Group: pimmsg.Group{Addr: asmGroup(g), MaskLen: 128},
			Joins: []pimmsg.Source{{Addr: rpA, MaskLen: 128, Sparse: true, WildCard: true, RPT: true}}})
	}
	msgs, err := pimmsg.SplitJoinPrune(jp, 1500-ipv6HeaderLen)
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range msgs {
		routes(nil).answer(r, at(6), r.Receive(at(6), ifD, nbr1, AllPIMRouters, marshal(tb, nbr1, m)))
	}
	if n := len(r.Snapshot(at(6)).StarG); n != benchStarGroups {
		tb.Fatalf("%d (*,G)", n)
	}
	return r
}

// noCacheAll reports the first packet of every source, answering each
// WatchRPF as the daemon does.
func noCacheAll(r *Router, now time.Time) {
	for g := range benchStarGroups {
		grp := asmGroup(g)
		for s := range benchStarSrcs {
			src := asmSource(g, s)
			acts := r.NoCache(now, ifU, src, grp)
			r.SetRPF(now, src, RPF{Valid: true, IfIndex: ifU, NextHop: nbr3})
			_ = acts
		}
	}
}

// BenchmarkNoCache: one op is 10,000 first packets (NoCache and the answer
// to its WatchRPF), each installing a cache entry on a (*,G) tree.
func BenchmarkNoCache(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r := benchStarRouter(b)
		b.StartTimer()
		noCacheAll(r, at(10))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchStarGroups*benchStarSrcs), "ns/NoCache")
	b.ReportMetric(memoryPerCacheEntry(b), "B/entry")
}

// BenchmarkDataActivity: one op is a polling round over the 10,000 cache
// entries, every counter grown.
func BenchmarkDataActivity(b *testing.B) {
	r := benchStarRouter(b)
	noCacheAll(r, at(10))
	now := at(10)
	var n uint64
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(10 * time.Second)
		n++
		for g := range benchStarGroups {
			grp := asmGroup(g)
			for s := range benchStarSrcs {
				r.DataActivity(now, asmSource(g, s), grp, n, n*100)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchStarGroups*benchStarSrcs), "ns/entry")
}

// BenchmarkStarGPeriodic: one op is a t_periodic round of the 1000 (*,G)
// Join Timers, sent as aggregated messages.
func BenchmarkStarGPeriodic(b *testing.B) {
	r := benchStarRouter(b)
	noCacheAll(r, at(10))
	now := at(10)
	sent := 0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(60 * time.Second)
		for g := range benchStarGroups {
			grp := asmGroup(g)
			for s := range benchStarSrcs {
				r.DataActivity(now, asmSource(g, s), grp, uint64(now.Unix()), uint64(now.Unix()))
			}
		}
		sent = countSends(r.Expire(now), pimmsg.TypeJoinPrune)
	}
	// A group set of one (*,G) Join takes 44 octets: 33 to a message.
	if sent == 0 || sent > benchStarGroups/30 {
		b.Fatalf("%d messages per round", sent)
	}
	b.ReportMetric(float64(sent), "msgs/round")
}

// memoryPerCacheEntry is the heap the (*,G) entries and their cache
// entries keep (entries, sources, groups, map slots, timers), per entry.
func memoryPerCacheEntry(tb testing.TB) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := benchStarRouter(tb)
	noCacheAll(r, at(10))
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := len(r.sgs); n != benchStarGroups*benchStarSrcs {
		tb.Fatalf("%d cache entries", n)
	}
	runtime.KeepAlive(r)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(benchStarGroups*(benchStarSrcs+1))
}

// TestMemoryPerCacheEntry keeps the ASM memory visible in `go test`.
func TestMemoryPerCacheEntry(t *testing.T) {
	per := memoryPerCacheEntry(t)
	t.Logf("%.0f B per entry ((*,G) and cache entries)", per)
	if per > 2048 {
		t.Errorf("%.0f B per entry", per)
	}
}
