package pim

import (
	"runtime"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The benchmark state: 1000 SSM channels (10 groups x 100 sources) joined
// by one downstream neighbor on ifD, all routed through the upstream
// neighbor nbr3 on ifU. Neighbors use Holdtime 0xffff so that no Hello is
// needed to keep them.
const (
	benchChannels = 1000
	benchGroups   = 10
)

// benchJoins returns the downstream neighbor's Join/Prune messages for the
// channels, split to a 1500-octet MTU, as wire bytes.
func benchJoins(tb testing.TB) [][]byte {
	jp := &pimmsg.JoinPrune{UpstreamNeighbor: selfD, Holdtime: 210}
	per := benchChannels / benchGroups
	for g := range benchGroups {
		grp := pimmsg.JoinPruneGroup{Group: pimmsg.Group{Addr: nthGroup(g), MaskLen: 128}}
		for s := range per {
			grp.Joins = append(grp.Joins, pimmsg.Source{Addr: nthSource(g*per + s), MaskLen: 128, Sparse: true})
		}
		jp.Groups = append(jp.Groups, grp)
	}
	msgs, err := pimmsg.SplitJoinPrune(jp, 1500-ipv6HeaderLen)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		out = append(out, marshal(tb, nbr1, m))
	}
	return out
}

// benchRouter returns a router with the neighbors up and no channels.
func benchRouter(tb testing.TB) *Router {
	cfg := testConfig(constRand(half))
	cfg.MaxRoutes = benchChannels
	r, err := New(new(timerq.IDs), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	mustAdd(tb, r, tR, ifD, selfD)
	mustAdd(tb, r, tR, ifU, selfU)
	hello(tb, r, tR, ifD, nbr1, withHoldtime(0xffff))
	hello(tb, r, tR, ifU, nbr3, withHoldtime(0xffff))
	r.Expire(at(5))
	return r
}

// joinAll delivers the Joins and answers the WatchRPFs in one SetRPFs.
func joinAll(tb testing.TB, r *Router, now time.Time, msgs [][]byte) int {
	sent := 0
	for _, m := range msgs {
		acts := daemonRPF(r, now, r.Receive(now, ifD, nbr1, AllPIMRouters, m))
		sent += countSends(acts, pimmsg.TypeJoinPrune)
	}
	return sent
}

// BenchmarkJoinChannels: creating 1000 channels from received Joins, with
// the upstream Joins and routes they cause. One op is the 1000 channels.
// B/channel is the heap that stays per channel (memoryPerChannel).
func BenchmarkJoinChannels(b *testing.B) {
	msgs := benchJoins(b)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r := benchRouter(b)
		b.StartTimer()
		joinAll(b, r, at(10), msgs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchChannels), "ns/channel")
	b.ReportMetric(memoryPerChannel(b, msgs), "B/channel")
}

// memoryPerChannel returns the heap a channel keeps: the entry, its
// downstream state, its source, the map slots and both timers (Join Timer,
// Expiry Timer) in the queue.
func memoryPerChannel(tb testing.TB, msgs [][]byte) float64 {
	r := benchRouter(tb)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	joinAll(tb, r, at(10), msgs)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := len(r.sgs); n != benchChannels {
		tb.Fatalf("%d channels", n)
	}
	runtime.KeepAlive(r)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / benchChannels
}

// BenchmarkPeriodicJoins: one op is a t_periodic round for 1000 channels:
// the downstream refresh (the neighbor's Joins received, Expiry Timers
// pushed) and our Join Timers expiring together, sent as aggregated
// messages.
func BenchmarkPeriodicJoins(b *testing.B) {
	msgs := benchJoins(b)
	r := benchRouter(b)
	joinAll(b, r, at(10), msgs)
	now := at(10)
	sent := 0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(60 * time.Second)
		for _, m := range msgs {
			r.Receive(now, ifD, nbr1, AllPIMRouters, m)
		}
		sent = countSends(r.Expire(now), pimmsg.TypeJoinPrune)
	}
	if sent == 0 || sent > 20 {
		b.Fatalf("%d messages per round", sent)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchChannels), "ns/channel")
	b.ReportMetric(float64(sent), "msgs/round")
}

// BenchmarkPeriodicJoinsSendOnly: the Join Timer half of a round alone.
func BenchmarkPeriodicJoinsSendOnly(b *testing.B) {
	msgs := benchJoins(b)
	r := benchRouter(b)
	joinAll(b, r, at(10), msgs)
	for _, m := range msgs { // hold the downstream state for good
		jp, _ := pimmsg.Parse(m)
		jp.(*pimmsg.JoinPrune).Holdtime = 0xffff
		r.Receive(at(10), ifD, nbr1, AllPIMRouters, marshal(b, nbr1, jp))
	}
	now := at(10)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(60 * time.Second)
		r.Expire(now)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchChannels), "ns/channel")
}

// TestMemoryPerChannel keeps the memory goal visible in `go test`: well
// under 1.5 KB per channel.
func TestMemoryPerChannel(t *testing.T) {
	per := memoryPerChannel(t, benchJoins(t))
	t.Logf("%.0f B/channel", per)
	if per > 1024 {
		t.Errorf("%.0f B/channel, want well under 1.5 KB", per)
	}
}
