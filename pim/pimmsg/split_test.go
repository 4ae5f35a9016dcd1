package pimmsg

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func nthAddr(prefix string, i int) netip.Addr {
	a := addr(prefix).As16()
	a[14], a[15] = byte(i>>8), byte(i)
	return netip.AddrFrom16(a)
}

func sg(i int) Source { return Source{Addr: nthAddr("2001:db8::", i), MaskLen: 128, Sparse: true} }
func sgRPT(i int) Source {
	s := sg(i)
	s.RPT = true
	return s
}
func starG() Source {
	return Source{Addr: addr("2001:db8::aa"), MaskLen: 128, Sparse: true, WildCard: true, RPT: true}
}
func grp(i int) Group { return Group{Addr: nthAddr("ff0e::", i), MaskLen: 128} }

func sources(n, from int) []Source {
	s := make([]Source, n)
	for i := range s {
		s[i] = sg(from + i)
	}
	return s
}

// mergeJP merges consecutive entries of the same group: the split's
// rejoin property is that merging its outputs gives the merged input.
func mergeJP(msgs []*JoinPrune) []JoinPruneGroup {
	var out []JoinPruneGroup
	for _, m := range msgs {
		for _, g := range m.Groups {
			if n := len(out); n > 0 && out[n-1].Group == g.Group {
				out[n-1].Joins = append(out[n-1].Joins, g.Joins...)
				out[n-1].Prunes = append(out[n-1].Prunes, g.Prunes...)
				continue
			}
			out = append(out, JoinPruneGroup{
				Group:  g.Group,
				Joins:  append([]Source(nil), g.Joins...),
				Prunes: append([]Source(nil), g.Prunes...),
			})
		}
	}
	return out
}

// checkJPSplit checks the split's properties: every output encodes within
// maxLen with the input's header, and the outputs rejoin to the input.
func checkJPSplit(t testing.TB, in *JoinPrune, outs []*JoinPrune, maxLen int) {
	t.Helper()
	if len(outs) == 0 {
		t.Fatal("no output")
	}
	for i, m := range outs {
		if m.UpstreamNeighbor != in.UpstreamNeighbor || m.Holdtime != in.Holdtime {
			t.Errorf("output %d header %v/%d, want %v/%d", i, m.UpstreamNeighbor, m.Holdtime, in.UpstreamNeighbor, in.Holdtime)
		}
		b, err := Marshal(m, src6, dst6)
		if err != nil {
			t.Fatalf("output %d: %v", i, err)
		}
		if len(b) > maxLen {
			t.Errorf("output %d: %d bytes, max %d", i, len(b), maxLen)
		}
		if len(m.Groups) == 0 && len(in.Groups) > 0 {
			t.Errorf("output %d has no groups", i)
		}
	}
	// slices.EqualFunc first: cmp is too slow for the fuzzer's inputs.
	want, got := mergeJP([]*JoinPrune{in}), mergeJP(outs)
	if !slices.EqualFunc(want, got, func(a, b JoinPruneGroup) bool {
		return a.Group == b.Group && slices.Equal(a.Joins, b.Joins) && slices.Equal(a.Prunes, b.Prunes)
	}) {
		t.Errorf("rejoined outputs (-input +rejoined):\n%s", cmp.Diff(want, got, cmpOpts))
	}
}

func TestSplitJoinPrune(t *testing.T) {
	up := addr("fe80::2")
	one := func(joins, prunes []Source) *JoinPrune {
		return &JoinPrune{UpstreamNeighbor: up, Holdtime: 210, Groups: []JoinPruneGroup{{Group: grp(1), Joins: joins, Prunes: prunes}}}
	}
	manyGroups := &JoinPrune{UpstreamNeighbor: up, Holdtime: 210}
	for i := range 300 {
		manyGroups.Groups = append(manyGroups.Groups, JoinPruneGroup{Group: grp(i), Joins: sources(1, i)})
	}
	// 26 (headers) + 24 (group) + 20 per source.
	tests := []struct {
		name   string
		in     *JoinPrune
		maxLen int
		want   []int // sources per output message
	}{
		{"fits exactly", one(sources(10, 0), nil), 26 + 24 + 200, []int{10}},
		{"one byte over", one(sources(10, 0), nil), 26 + 24 + 200 - 1, []int{9, 1}},
		{"one source per message", one(sources(3, 0), sources(2, 10)), 70, []int{1, 1, 1, 1, 1}},
		{"no groups", &JoinPrune{UpstreamNeighbor: up}, 26, []int{0}},
		{"a group without sources", &JoinPrune{UpstreamNeighbor: up, Groups: []JoinPruneGroup{{Group: grp(1)}, {Group: grp(2), Joins: sources(1, 0)}}}, 26 + 24 + 20, []int{0, 1}},
		{"300 groups need two messages", manyGroups, 65535, []int{255, 45}},
		// (1460-50)/20 = 70 sources per message.
		{"5000 sources at an MTU of 1500", one(sources(2500, 0), sources(2500, 3000)), 1460, repeatInts(71, 70, 30)},
		// (65535-50)/20 = 3274.
		{"MTU above the IPv6 payload limit", one(sources(3400, 0), nil), 1 << 20, []int{3274, 126}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs, err := SplitJoinPrune(tt.in, tt.maxLen)
			if err != nil {
				t.Fatal(err)
			}
			checkJPSplit(t, tt.in, outs, min(tt.maxLen, 65535))
			var got []int
			for _, m := range outs {
				n := 0
				for _, g := range m.Groups {
					n += len(g.Joins) + len(g.Prunes)
				}
				got = append(got, n)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sources per message (-want +got):\n%s", diff)
			}
		})
	}
}

// repeatInts is n copies of v followed by last.
func repeatInts(n, v, last int) []int {
	s := make([]int, n, n+1)
	for i := range s {
		s[i] = v
	}
	return append(s, last)
}

// TestSplitKeepsStarGWithRPTPrunes: a (*,G) Join and the (S,G,rpt) Prunes
// of its group travel in one message (RFC 7761 section 4.5.3).
func TestSplitKeepsStarGWithRPTPrunes(t *testing.T) {
	up := addr("fe80::2")
	in := &JoinPrune{UpstreamNeighbor: up, Holdtime: 210, Groups: []JoinPruneGroup{
		{Group: grp(1), Joins: sources(4, 0)},
		{
			Group:  grp(2),
			Joins:  append(append(sources(3, 10), starG()), sg(20)),
			Prunes: []Source{sg(30), sgRPT(31), sg(32), sgRPT(33), sg(34)},
		},
	}}
	together := func(outs []*JoinPrune) bool {
		for _, m := range outs {
			for _, g := range m.Groups {
				star, rpt := false, 0
				for _, s := range g.Joins {
					star = star || (s.WildCard && s.RPT)
				}
				for _, s := range g.Prunes {
					if s.RPT {
						rpt++
					}
				}
				if star && rpt == 2 {
					return true
				}
			}
		}
		return false
	}
	// The unit is the (*,G) Join and prunes 31 to 33: 26+24+4*20 = 130.
	for maxLen := 130; maxLen <= 26+24*2+20*14; maxLen++ {
		t.Run(fmt.Sprint(maxLen), func(t *testing.T) {
			outs, err := SplitJoinPrune(in, maxLen)
			if err != nil {
				t.Fatal(err)
			}
			checkJPSplit(t, in, outs, maxLen)
			if !together(outs) {
				t.Errorf("the (*,G) Join and its (S,G,rpt) Prunes were split: %+v", outs)
			}
		})
	}
	t.Run("unit too large for a message", func(t *testing.T) {
		outs, err := SplitJoinPrune(in, 129)
		if err != nil {
			t.Fatal(err)
		}
		checkJPSplit(t, in, outs, 129)
		if together(outs) {
			t.Error("cannot be together in 129 bytes")
		}
	})
}

func TestSplitJoinPruneErrors(t *testing.T) {
	up := addr("fe80::2")
	tests := []struct {
		name   string
		in     *JoinPrune
		maxLen int
	}{
		{"nil", nil, 1500},
		{"no room for a source", &JoinPrune{UpstreamNeighbor: up, Groups: []JoinPruneGroup{{Group: grp(1), Joins: sources(1, 0)}}}, 69},
		{"no room for a group", &JoinPrune{UpstreamNeighbor: up, Groups: []JoinPruneGroup{{Group: grp(1)}}}, 49},
		{"no room for the header", &JoinPrune{UpstreamNeighbor: up}, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if outs, err := SplitJoinPrune(tt.in, tt.maxLen); err == nil {
				t.Errorf("split into %d messages", len(outs))
			} else if !errors.Is(err, ErrLength) && !errors.Is(err, ErrType) {
				t.Errorf("error %v is neither ErrLength nor ErrType", err)
			}
		})
	}
}

func mergeBS(msgs []*Bootstrap) []BootstrapGroup {
	var out []BootstrapGroup
	for _, m := range msgs {
		for _, g := range m.Groups {
			if n := len(out); n > 0 && out[n-1].Group == g.Group && out[n-1].RPCount == g.RPCount &&
				len(out[n-1].RPs) < int(g.RPCount) {
				out[n-1].RPs = append(out[n-1].RPs, g.RPs...)
				continue
			}
			out = append(out, BootstrapGroup{Group: g.Group, RPCount: g.RPCount, RPs: append([]BootstrapRP(nil), g.RPs...)})
		}
	}
	return out
}

func checkBSSplit(t testing.TB, in *Bootstrap, outs []*Bootstrap, maxLen int) {
	t.Helper()
	if len(outs) == 0 {
		t.Fatal("no fragment")
	}
	for i, f := range outs {
		if f.NoForward != in.NoForward || f.FragmentTag != in.FragmentTag || f.HashMaskLen != in.HashMaskLen ||
			f.Priority != in.Priority || f.BSR != in.BSR {
			t.Errorf("fragment %d header %+v, input %+v", i, *f, *in)
		}
		b, err := Marshal(f, src6, dst6)
		if err != nil {
			t.Fatalf("fragment %d: %v", i, err)
		}
		if len(b) > maxLen {
			t.Errorf("fragment %d: %d bytes, max %d", i, len(b), maxLen)
		}
		if len(f.Groups) == 0 && len(in.Groups) > 0 {
			t.Errorf("fragment %d has no ranges", i)
		}
	}
	if len(in.Groups) > 0 && in.Groups[0].Group.AdminScope {
		outs = unscope(t, in.Groups[0], outs)
	}
	want, got := mergeBS([]*Bootstrap{in}), mergeBS(outs)
	if !slices.EqualFunc(want, got, func(a, b BootstrapGroup) bool {
		return a.Group == b.Group && a.RPCount == b.RPCount && slices.Equal(a.RPs, b.RPs)
	}) {
		t.Errorf("rejoined fragments (-input +rejoined):\n%s", cmp.Diff(want, got, cmpOpts))
	}
}

// unscope checks that every fragment of a scoped BSM begins with the
// zone's range z (RFC 5059 1.3, 3.6) and returns the fragments as one
// unscoped split would give them: z's RPs of every fragment in the first,
// the repeated ranges left out.
func unscope(t testing.TB, z BootstrapGroup, outs []*Bootstrap) []*Bootstrap {
	t.Helper()
	first := &Bootstrap{Groups: []BootstrapGroup{{Group: z.Group, RPCount: z.RPCount}}}
	res := []*Bootstrap{first}
	for i, f := range outs {
		if len(f.Groups) == 0 || f.Groups[0].Group != z.Group || f.Groups[0].RPCount != z.RPCount {
			t.Errorf("fragment %d does not begin with the zone's range %+v: %+v", i, z, f.Groups)
			continue
		}
		first.Groups[0].RPs = append(first.Groups[0].RPs, f.Groups[0].RPs...)
		res = append(res, &Bootstrap{Groups: f.Groups[1:]})
	}
	return res
}

func bsGroup(i, rps int) BootstrapGroup {
	g := BootstrapGroup{Group: Group{Addr: nthAddr("ff00::", i), MaskLen: 16}, RPCount: uint8(rps)}
	for j := range rps {
		g.RPs = append(g.RPs, BootstrapRP{Addr: nthAddr("2001:db8:1::", i*256+j), Holdtime: 150, Priority: uint8(j)})
	}
	return g
}

func TestSplitBootstrap(t *testing.T) {
	bsr := addr("2001:db8::b")
	bs := func(groups ...BootstrapGroup) *Bootstrap {
		return &Bootstrap{NoForward: true, FragmentTag: 0xbeef, HashMaskLen: 126, Priority: 7, BSR: bsr, Groups: groups}
	}
	// 26 (headers) + 24 per range + 22 per RP.
	tests := []struct {
		name   string
		in     *Bootstrap
		maxLen int
		want   [][]int // per fragment, RPs per range
	}{
		{"fits exactly", bs(bsGroup(1, 3), bsGroup(2, 0)), 26 + 24*2 + 22*3, [][]int{{3, 0}}},
		{"one byte over moves the range that fits alone", bs(bsGroup(1, 3), bsGroup(2, 0)), 26 + 24*2 + 22*3 - 1, [][]int{{3}, {0}}},
		{"one byte over splits the range that cannot fit alone", bs(bsGroup(1, 3)), 26 + 24 + 22*3 - 1, [][]int{{2}, {1}}},
		{"no ranges", bs(), 26, [][]int{nil}},
		{"a range that fits alone is not split", bs(bsGroup(1, 2), bsGroup(2, 2)), 26 + 24*2 + 22*3, [][]int{{2}, {2}}},
		{"a range too big for a fragment fills the rest", bs(bsGroup(1, 1), bsGroup(2, 5)), 26 + 24*2 + 22*3, [][]int{{1, 2}, {3}}},
		// 3 ranges of 24+22*20 = 464 bytes fit in 1460-26.
		{"20 ranges of 20 RPs at an MTU of 1500", bs(manyBSGroups(20, 20)...), 1460,
			[][]int{{20, 20, 20}, {20, 20, 20}, {20, 20, 20}, {20, 20, 20}, {20, 20, 20}, {20, 20, 20}, {20, 20}}},
		// (1460-26-24)/22 = 64 RPs per fragment.
		{"255 RPs for one range", bs(bsGroup(1, 255)), 1460, [][]int{{64}, {64}, {64}, {63}}},
		// A scoped BSM: each fragment begins with the zone's range.
		{"scoped: the zone's range opens every fragment", bs(zoneGroup(1), bsGroup(2, 2), bsGroup(3, 2)), 26 + 24*3 + 22*2,
			[][]int{{1, 2}, {0, 2}}},
		{"scoped: the zone's own RPs go on in the next fragment", bs(zoneGroup(3), bsGroup(2, 1)), 26 + 24*2 + 22,
			[][]int{{2}, {1}, {0, 1}}},
		{"scoped: fits in one", bs(zoneGroup(0), bsGroup(2, 1)), 1500, [][]int{{0, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs, err := SplitBootstrap(tt.in, tt.maxLen)
			if err != nil {
				t.Fatal(err)
			}
			checkBSSplit(t, tt.in, outs, tt.maxLen)
			var got [][]int
			for _, f := range outs {
				var per []int
				for _, g := range f.Groups {
					per = append(per, len(g.RPs))
				}
				got = append(got, per)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("RPs per range per fragment (-want +got):\n%s", diff)
			}
		})
	}
	for _, tt := range []struct {
		name   string
		in     *Bootstrap
		maxLen int
	}{
		{"nil", nil, 1500},
		{"no room for an RP", bs(bsGroup(1, 1)), 26 + 24 + 22 - 1},
		{"no room for a range", bs(bsGroup(1, 0)), 26 + 24 - 1},
		{"no room for the header", bs(), 25},
		{"RP count below the RPs", bs(BootstrapGroup{Group: grp(1), RPCount: 1, RPs: make([]BootstrapRP, 2)}), 1500},
		// A later range needs room for the zone's range too.
		{"scoped: no room for a range after the zone's", bs(zoneGroup(0), bsGroup(2, 1)), 26 + 24 + 24 + 22 - 1},
	} {
		t.Run("error/"+tt.name, func(t *testing.T) {
			if outs, err := SplitBootstrap(tt.in, tt.maxLen); err == nil {
				t.Errorf("split into %d fragments", len(outs))
			}
		})
	}
}

// zoneGroup is the range ff15::/16 of a scope zone (the Z bit) with rps
// RPs.
func zoneGroup(rps int) BootstrapGroup {
	g := BootstrapGroup{Group: Group{Addr: addr("ff15::"), MaskLen: 16, AdminScope: true}, RPCount: uint8(rps)}
	for j := range rps {
		g.RPs = append(g.RPs, BootstrapRP{Addr: nthAddr("2001:db8:5::", j), Holdtime: 150, Priority: uint8(j)})
	}
	return g
}

func manyBSGroups(n, rps int) []BootstrapGroup {
	var gs []BootstrapGroup
	for i := range n {
		gs = append(gs, bsGroup(i, rps))
	}
	return gs
}
