package pimmsg

import "fmt"

// SplitJoinPrune splits jp into messages of at most maxLen bytes each (the
// whole PIM message, header included: the link MTU less the IPv6 header and
// any extension headers). Groups and sources keep their order: taking the
// outputs in order, the joins (and the prunes) of each group concatenate to
// the input's. A group whose sources do not fit in one message continues in
// the next, its group header repeated. An output has at most 255 groups.
//
// A (*,G) Join (a join with WildCard and RPT) and the group's (S,G,rpt)
// Prunes (prunes with RPT and not WildCard), and the prunes listed between
// them, are kept in one message whenever that message can hold them. The
// receiver processes a (*,G) Join by moving its (S,G,rpt) prune state to
// PruneTmp and, at the end of the message, any (S,G,rpt) not pruned again
// in the same message to NoInfo (RFC 7761 section 4.5.3, the "See
// Join(*,G)" and "End of Message" events; see also the group set rules of
// section 4.9.5.1): split apart, S's traffic would flow down the shared
// tree until the message with the prunes arrived.
//
// The outputs share their source arrays with jp; they are meant to be
// marshalled at once. It is an error if a message cannot hold even one
// group with one source.
func SplitJoinPrune(jp *JoinPrune, maxLen int) ([]*JoinPrune, error) {
	if jp == nil {
		return nil, fmt.Errorf("pimmsg: split Join/Prune: nil message: %w", ErrType)
	}
	s := jpSplitter{in: jp, max: min(maxLen, maxMessageLen)}
	base := headerLen + joinPruneHeaderLen
	for i := range jp.Groups {
		need := base + jpGroupHeaderLen
		if g := &jp.Groups[i]; len(g.Joins)+len(g.Prunes) > 0 {
			need += encSourceLen
		}
		if need > s.max {
			return nil, fmt.Errorf("pimmsg: split Join/Prune: %d bytes cannot hold group %d, which needs %d: %w", maxLen, i, need, ErrLength)
		}
	}
	if base > s.max {
		return nil, fmt.Errorf("pimmsg: split Join/Prune: %d bytes cannot hold the %d-byte header: %w", maxLen, base, ErrLength)
	}
	s.newMessage()
	for i := range jp.Groups {
		s.group(&jp.Groups[i])
	}
	return s.out, nil
}

type jpSplitter struct {
	in  *JoinPrune
	max int
	out []*JoinPrune
	// size is the encoded length of the last output.
	size int
	// open says the last group entry of the last output is for src and
	// can take more of its sources.
	open bool
	src  *JoinPruneGroup
	// nj and np count src's joins and prunes placed so far; j0 and p0 are
	// the counts when the open entry was started.
	nj, np, j0, p0 int
}

func (s *jpSplitter) newMessage() {
	s.out = append(s.out, &JoinPrune{UpstreamNeighbor: s.in.UpstreamNeighbor, Holdtime: s.in.Holdtime})
	s.size = headerLen + joinPruneHeaderLen
	s.open = false
}

// group places one input group: source by source, except the (*,G) Join
// with its (S,G,rpt) Prunes, placed as one unit when a message can hold it.
func (s *jpSplitter) group(g *JoinPruneGroup) {
	s.src, s.open = g, false
	s.nj, s.np = 0, 0
	if len(g.Joins)+len(g.Prunes) == 0 {
		s.place(0, 0)
		return
	}
	k, r1, rt := starGUnit(g)
	unitLen := headerLen + joinPruneHeaderLen + jpGroupHeaderLen + encSourceLen*(1+rt-r1+1)
	if k < 0 || r1 < 0 || unitLen > s.max {
		s.sources(len(g.Joins), 0)
		s.sources(0, len(g.Prunes))
		return
	}
	s.sources(k, 0)
	s.sources(0, r1)
	s.place(1, rt-r1+1)
	s.sources(len(g.Joins)-k-1, 0)
	s.sources(0, len(g.Prunes)-rt-1)
}

// starGUnit returns the index of the group's first (*,G) Join and the
// first and last index of its (S,G,rpt) Prunes, -1 where there is none.
func starGUnit(g *JoinPruneGroup) (k, r1, rt int) {
	k, r1, rt = -1, -1, -1
	for i := range g.Joins {
		if g.Joins[i].WildCard && g.Joins[i].RPT {
			k = i
			break
		}
	}
	for i := range g.Prunes {
		if g.Prunes[i].RPT && !g.Prunes[i].WildCard {
			if r1 < 0 {
				r1 = i
			}
			rt = i
		}
	}
	return k, r1, rt
}

// sources places the next nj joins or np prunes one at a time.
func (s *jpSplitter) sources(nj, np int) {
	for range nj {
		s.place(1, 0)
	}
	for range np {
		s.place(0, 1)
	}
}

// place adds the next nj joins and np prunes of the current group to the
// open entry, or to a new entry, in a new message if need be.
func (s *jpSplitter) place(nj, np int) {
	need := encSourceLen * (nj + np)
	cur := s.out[len(s.out)-1]
	if !s.open || s.size+need > s.max {
		if s.size+jpGroupHeaderLen+need > s.max || len(cur.Groups) == maxJPGroups {
			s.newMessage()
			cur = s.out[len(s.out)-1]
		}
		cur.Groups = append(cur.Groups, JoinPruneGroup{Group: s.src.Group})
		s.size += jpGroupHeaderLen
		s.open = true
		s.j0, s.p0 = s.nj, s.np
	}
	s.nj += nj
	s.np += np
	s.size += need
	e := &cur.Groups[len(cur.Groups)-1]
	e.Joins = subSlice(s.src.Joins, s.j0, s.nj)
	e.Prunes = subSlice(s.src.Prunes, s.p0, s.np)
}

// subSlice returns l[i:j], capped so that appending to it cannot overwrite
// the rest of l, and nil when empty.
func subSlice[T any](l []T, i, j int) []T {
	if i == j {
		return nil
	}
	return l[i:j:j]
}

// SplitBootstrap splits bs into semantic fragments of at most maxLen bytes
// each (RFC 5059 section 3.6): every fragment carries the same fragment tag
// and the whole BSR header (and the N bit), and any subset of the group
// ranges. A range whose RPs do not fit in one fragment is repeated in each
// fragment that carries some of them, with RPCount the range's total and
// that fragment's RPs. A range is only split when it cannot fit in a
// fragment of its own: a receiver can use a range only once it holds all of
// its RPs, so a lost fragment should cost as few ranges as possible. Order
// is kept, so the fragments' ranges and RPs concatenate to the input's.
//
// A BSM of an administrative scope zone (its first range has the Admin
// Scope Zone bit, RFC 5059 sections 1.3 and 4.1) names its zone by that
// first range, so every fragment begins with it: a fragment that carries
// none of the zone range's RPs repeats it with its RPCount and no RP (a
// receiver adds nothing to the range from it), so that each fragment is
// taken into the right zone on its own.
//
// The outputs share their RP arrays with bs. It is an error if a fragment
// cannot hold one range with one RP (after the zone's range, for a scoped
// BSM), or if a range has more RPs than its RPCount (which cannot exceed
// 255) can count.
func SplitBootstrap(bs *Bootstrap, maxLen int) ([]*Bootstrap, error) {
	if bs == nil {
		return nil, fmt.Errorf("pimmsg: split Bootstrap: nil message: %w", ErrType)
	}
	limit := min(maxLen, maxMessageLen)
	base := headerLen + bootstrapHeaderLen
	if base > limit {
		return nil, fmt.Errorf("pimmsg: split Bootstrap: %d bytes cannot hold the %d-byte header: %w", maxLen, base, ErrLength)
	}
	// scoped: every fragment after the first starts with the zone's range
	// (zoneHdr), which the others' room must leave for.
	scoped := len(bs.Groups) > 0 && bs.Groups[0].Group.AdminScope
	var zoneHdr BootstrapGroup
	rest := base // a later fragment's size before its own ranges
	if scoped {
		zoneHdr = BootstrapGroup{Group: bs.Groups[0].Group, RPCount: bs.Groups[0].RPCount}
		rest += bsGroupHeaderLen
	}
	for i := range bs.Groups {
		g := &bs.Groups[i]
		if len(g.RPs) > int(g.RPCount) {
			return nil, fmt.Errorf("pimmsg: split Bootstrap: group %d: %d RPs, RP count %d: %w", i, len(g.RPs), g.RPCount, ErrLength)
		}
		need := base + bsGroupHeaderLen
		if scoped && i > 0 {
			need = rest + bsGroupHeaderLen
		}
		if len(g.RPs) > 0 {
			need += bsRPLen
		}
		if need > limit {
			return nil, fmt.Errorf("pimmsg: split Bootstrap: %d bytes cannot hold group %d, which needs %d: %w", maxLen, i, need, ErrLength)
		}
	}

	var out []*Bootstrap
	size := 0
	// newFragment starts a fragment for range i: one of a scoped BSM
	// opens with the zone's range, except to go on with that range's RPs.
	newFragment := func(i int) *Bootstrap {
		f := &Bootstrap{
			NoForward:   bs.NoForward,
			FragmentTag: bs.FragmentTag,
			HashMaskLen: bs.HashMaskLen,
			Priority:    bs.Priority,
			BSR:         bs.BSR,
		}
		size = base
		if scoped && i > 0 && len(out) > 0 {
			f.Groups = append(f.Groups, zoneHdr)
			size = rest
		}
		out = append(out, f)
		return f
	}
	cur := newFragment(0)
	for i := range bs.Groups {
		g := &bs.Groups[i]
		whole := bsGroupHeaderLen + bsRPLen*len(g.RPs)
		alone := base + whole // the size of a fragment of g alone
		if scoped && i > 0 {
			alone = rest + whole
		}
		if size+whole > limit && alone <= limit && len(cur.Groups) > 0 {
			cur = newFragment(i) // fits alone: do not split it
		}
		rps := g.RPs
		for first := true; first || len(rps) > 0; first = false {
			room := (limit - size - bsGroupHeaderLen) / bsRPLen
			if room < 0 || (room == 0 && len(rps) > 0) {
				cur = newFragment(i)
				room = (limit - size - bsGroupHeaderLen) / bsRPLen
			}
			n := min(room, len(rps), maxBSRPs)
			cur.Groups = append(cur.Groups, BootstrapGroup{Group: g.Group, RPCount: g.RPCount, RPs: subSlice(rps, 0, n)})
			size += bsGroupHeaderLen + bsRPLen*n
			rps = rps[n:]
		}
	}
	return out, nil
}
