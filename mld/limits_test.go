package mld

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// randomGroup is a random global-scope ASM group.
func randomGroup(rng *rand.Rand) netip.Addr {
	var b [16]byte
	b[0], b[1] = 0xff, 0x0e
	binary.BigEndian.PutUint64(b[8:], rng.Uint64())
	return netip.AddrFrom16(b)
}

func countLimitHits(acts []Action) (n int) {
	for _, a := range acts {
		if _, ok := a.(LimitHit); ok {
			n++
		}
	}
	return n
}

// TestGroupFlood: a host reporting 1,000,000 random groups gets MaxGroups
// of them tracked, one LimitHit, the rest counted; memory does not grow
// with the flood once the limit is reached.
func TestGroupFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("flood")
	}
	const (
		limit   = 1000
		total   = 1_000_000
		perMsg  = 500
		records = total / perMsg
	)
	cfg := DefaultConfig()
	cfg.MaxGroups = limit
	r := newRouter(t, tR, cfg)
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]mldmsg.Record, perMsg)
	hits := 0
	var heapAtLimit uint64
	for i := range records {
		for j := range recs {
			recs[j] = mldmsg.Record{Type: mldmsg.ChangeToExclude, Group: randomGroup(rng)}
		}
		acts := r.Receive(tR, ifx, report(t, recs...))
		hits += countLimitHits(acts)
		if i == 10 { // well past the limit
			heapAtLimit = heapInUse()
		}
	}
	st := r.Stats(ifx)
	diff(t, "groups", limit, st.Groups)
	diff(t, "LimitHit actions", 1, hits)
	diff(t, "limit hits", map[string]uint64{LimitGroups: 1}, st.LimitHits)
	diff(t, "dropped", map[string]uint64{DropGroupLimit: total - limit}, st.Dropped)
	if grew := int64(heapInUse()) - int64(heapAtLimit); grew > 1<<20 {
		t.Errorf("heap grew by %d bytes during the flood past the limit", grew)
	}
	// Records that create no state (BLOCK, empty TO_IN) for unknown
	// groups are no-ops and do not count against the limit.
	before := st.Dropped[DropGroupLimit]
	r.Receive(tR, ifx, report(t, mldmsg.Record{Type: mldmsg.BlockOldSources, Group: randomGroup(rng), Sources: srcs("a")}))
	if got := r.Stats(ifx).Dropped[DropGroupLimit]; got != before {
		t.Errorf("BLOCK for an unknown group counted against the limit")
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestLimitEpisodes: LimitHit is emitted once per episode, again only after
// the count fell below the limit; for sources it names the group.
func TestLimitEpisodes(t *testing.T) {
	t.Run("sources", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.MaxSources = 3
		r := newRouter(t, tR, cfg)
		acts := r.Receive(tR, ifx, report(t, rec(mldmsg.AllowNewSources, grp, "1", "2", "3", "4", "5")))
		acts = append(acts, r.Receive(tR, ifx, report(t, rec(mldmsg.AllowNewSources, grp, "6")))...)
		// Existing sources are still refreshed at the limit.
		r.Receive(at(10), ifx, report(t, rec(mldmsg.ModeIsInclude, grp, "3", "7")))
		var l actlog
		l.add(tR, acts)
		diff(t, "events", []other{{0, LimitHit{IfIndex: ifx, Group: grp, Kind: LimitSources, Limit: 3}}}, l.Others)
		diff(t, "state", inc(src4{"1": 250, "2": 250, "3": 260}), view(r, at(10), grp))
		diff(t, "dropped", map[string]uint64{DropSourceLimit: 4}, r.Stats(ifx).Dropped)
		// Sources 1 and 2 expire at 260: below the limit, a new episode.
		r.Expire(at(260))
		acts = r.Receive(at(261), ifx, report(t, rec(mldmsg.AllowNewSources, grp, "a", "b", "c")))
		diff(t, "second episode", 1, countLimitHits(acts))
		diff(t, "limit hits", map[string]uint64{LimitSources: 2}, r.Stats(ifx).LimitHits)
	})
	t.Run("sources/EXCLUDE-list", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.MaxSources = 2
		r := newRouter(t, tR, cfg)
		r.Receive(tR, ifx, report(t, rec(mldmsg.ModeIsExclude, grp, "1", "2", "3")))
		diff(t, "state", exc(260, src4{"1": 0, "2": 0}), view(r, tR, grp))
	})
	t.Run("groups", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.MaxGroups = 2
		r := newRouter(t, tR, cfg)
		acts := r.Receive(tR, ifx, report(t,
			rec(mldmsg.ModeIsInclude, addr("ff0e::1"), "a"),
			rec(mldmsg.ModeIsInclude, addr("ff0e::2"), "a"),
			rec(mldmsg.ModeIsInclude, addr("ff0e::3"), "a"),
			rec(mldmsg.ModeIsInclude, addr("ff0e::4"), "a"),
		))
		// Existing groups are still served at the limit.
		acts = append(acts, r.Receive(at(100), ifx, report(t, rec(mldmsg.ModeIsInclude, addr("ff0e::2"), "a")))...)
		diff(t, "hits", 1, countLimitHits(acts))
		r.Expire(at(260)) // ff0e::1 goes
		acts = r.Receive(at(261), ifx, report(t,
			rec(mldmsg.ModeIsInclude, addr("ff0e::3"), "a"),
			rec(mldmsg.ModeIsInclude, addr("ff0e::4"), "a"),
		))
		diff(t, "second episode", 1, countLimitHits(acts))
		diff(t, "stats", []any{2, map[string]uint64{DropGroupLimit: 3}, map[string]uint64{LimitGroups: 2}},
			[]any{r.Stats(ifx).Groups, r.Stats(ifx).Dropped, r.Stats(ifx).LimitHits})
	})
}
