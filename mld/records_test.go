package mld

import (
	"testing"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// inc and exc build expected group states (MLDv2 compatibility mode).
func inc(sources map[string]float64) *gview {
	return &gview{Mode: Include, Compat: V2, Sources: sources}
}

func exc(filter float64, sources map[string]float64) *gview {
	return &gview{Mode: Exclude, Filter: filter, Compat: V2, Sources: sources}
}

type src4 = map[string]float64

// TestRecordTables has a row for every row of the tables of RFC 3810
// sections 7.4.1 and 7.4.2, in the RFC's order and notation, as the Querier
// and, for rows with "Send Q", as a non-Querier (which sends nothing and
// lowers nothing: 7.6.3 is the Querier's job). The group's state is given
// as seconds left at tR; the record arrives at tR; Expire runs at tR+1 (the
// retransmission) and tR+2 (LLQT). Defaults: MALI 260 s, LLQI 1 s, LLQC 2.
func TestRecordTables(t *testing.T) {
	const (
		IS_IN = mldmsg.ModeIsInclude
		IS_EX = mldmsg.ModeIsExclude
		TO_IN = mldmsg.ChangeToInclude
		TO_EX = mldmsg.ChangeToExclude
		ALLOW = mldmsg.AllowNewSources
		BLOCK = mldmsg.BlockOldSources
	)
	g := grp.String()
	rows := []struct {
		name       string
		nonQuerier bool
		seed       *seed // nil: no record for the group
		rec        mldmsg.Record
		now, after *gview // at tR and at tR+2; nil: no record
		log        actlog // specific Queries and ListenerUpdates from tR to tR+2
	}{
		// 7.4.1 Current-State Records.
		{
			// INCLUDE (A)  IS_IN (B)  INCLUDE (A+B)  (B)=MALI
			name:  "7.4.1/INCLUDE(A)+IS_IN(B)",
			seed:  &seed{mode: Include, sources: src4{"a": 100, "b": 100}},
			rec:   rec(IS_IN, grp, "b", "c"),
			now:   inc(src4{"a": 100, "b": 260, "c": 260}),
			after: inc(src4{"a": 98, "b": 258, "c": 258}),
			log:   actlog{Updates: []upd{{0, g, Include, []string{"a", "b", "c"}}}},
		},
		{
			// INCLUDE (A)  IS_EX (B)  EXCLUDE (A*B,B-A)  (B-A)=0, Delete (A-B), Filter Timer=MALI
			name:  "7.4.1/INCLUDE(A)+IS_EX(B)",
			seed:  &seed{mode: Include, sources: src4{"a": 100, "b": 100}},
			rec:   rec(IS_EX, grp, "b", "c"),
			now:   exc(260, src4{"b": 100, "c": 0}),
			after: exc(258, src4{"b": 98, "c": 0}),
			log:   actlog{Updates: []upd{{0, g, Exclude, []string{"c"}}}},
		},
		{
			// EXCLUDE (X,Y)  IS_IN (A)  EXCLUDE (X+A,Y-A)  (A)=MALI
			name:  "7.4.1/EXCLUDE(X,Y)+IS_IN(A)",
			seed:  &seed{mode: Exclude, filter: 200, sources: src4{"a": 100, "b": 0, "c": 0}},
			rec:   rec(IS_IN, grp, "b", "d"),
			now:   exc(200, src4{"a": 100, "b": 260, "c": 0, "d": 260}),
			after: exc(198, src4{"a": 98, "b": 258, "c": 0, "d": 258}),
			log:   actlog{Updates: []upd{{0, g, Exclude, []string{"c"}}}},
		},
		{
			// EXCLUDE (X,Y)  IS_EX (A)  EXCLUDE (A-Y,Y*A)  (A-X-Y)=MALI, Delete (X-A), Delete (Y-A),
			//                                              Filter Timer=MALI
			name:  "7.4.1/EXCLUDE(X,Y)+IS_EX(A)",
			seed:  &seed{mode: Exclude, filter: 200, sources: src4{"a": 100, "b": 100, "c": 0, "d": 0}},
			rec:   rec(IS_EX, grp, "a", "c", "e"),
			now:   exc(260, src4{"a": 100, "c": 0, "e": 260}),
			after: exc(258, src4{"a": 98, "c": 0, "e": 258}),
			log:   actlog{Updates: []upd{{0, g, Exclude, []string{"c"}}}},
		},

		// 7.4.2 Filter-Mode-Change and Source-List-Change Records.
		{
			// INCLUDE (A)  ALLOW (B)  INCLUDE (A+B)  (B)=MALI
			name:  "7.4.2/INCLUDE(A)+ALLOW(B)",
			seed:  &seed{mode: Include, sources: src4{"a": 100, "b": 100}},
			rec:   rec(ALLOW, grp, "b", "c"),
			now:   inc(src4{"a": 100, "b": 260, "c": 260}),
			after: inc(src4{"a": 98, "b": 258, "c": 258}),
			log:   actlog{Updates: []upd{{0, g, Include, []string{"a", "b", "c"}}}},
		},
		{
			// INCLUDE (A)  BLOCK (B)  INCLUDE (A)  Send Q(MA,A*B)
			// c is in A*B but its timer is already below LLQT: not queried.
			name:  "7.4.2/INCLUDE(A)+BLOCK(B)",
			seed:  &seed{mode: Include, sources: src4{"a": 100, "b": 100, "c": 1.5}},
			rec:   rec(BLOCK, grp, "b", "c", "d"),
			now:   inc(src4{"a": 100, "b": 2, "c": 1.5}),
			after: inc(src4{"a": 98}),
			log: actlog{
				Queries: []q{{At: 0, Group: g, Sources: []string{"b"}}, {At: 1, Group: g, Sources: []string{"b"}}},
				Updates: []upd{{2, g, Include, []string{"a"}}},
			},
		},
		{
			name:       "7.4.2/INCLUDE(A)+BLOCK(B)/non-querier",
			nonQuerier: true,
			seed:       &seed{mode: Include, sources: src4{"a": 100, "b": 100, "c": 1.5}},
			rec:        rec(BLOCK, grp, "b", "c", "d"),
			now:        inc(src4{"a": 100, "b": 100, "c": 1.5}),
			after:      inc(src4{"a": 98, "b": 98}),
			log:        actlog{Updates: []upd{{2, g, Include, []string{"a", "b"}}}},
		},
		{
			// INCLUDE (A)  TO_EX (B)  EXCLUDE (A*B,B-A)  (B-A)=0, Delete (A-B), Send Q(MA,A*B),
			//                                            Filter Timer=MALI
			name:  "7.4.2/INCLUDE(A)+TO_EX(B)",
			seed:  &seed{mode: Include, sources: src4{"a": 100, "b": 100}},
			rec:   rec(TO_EX, grp, "b", "c"),
			now:   exc(260, src4{"b": 2, "c": 0}),
			after: exc(258, src4{"b": 0, "c": 0}),
			log: actlog{
				Queries: []q{{At: 0, Group: g, Sources: []string{"b"}}, {At: 1, Group: g, Sources: []string{"b"}}},
				Updates: []upd{{0, g, Exclude, []string{"c"}}, {2, g, Exclude, []string{"b", "c"}}},
			},
		},
		{
			name:       "7.4.2/INCLUDE(A)+TO_EX(B)/non-querier",
			nonQuerier: true,
			seed:       &seed{mode: Include, sources: src4{"a": 100, "b": 100}},
			rec:        rec(TO_EX, grp, "b", "c"),
			now:        exc(260, src4{"b": 100, "c": 0}),
			after:      exc(258, src4{"b": 98, "c": 0}),
			log:        actlog{Updates: []upd{{0, g, Exclude, []string{"c"}}}},
		},
		{
			// INCLUDE (A)  TO_IN (B)  INCLUDE (A+B)  (B)=MALI, Send Q(MA,A-B)
			name:  "7.4.2/INCLUDE(A)+TO_IN(B)",
			seed:  &seed{mode: Include, sources: src4{"a": 100, "b": 100}},
			rec:   rec(TO_IN, grp, "b", "c"),
			now:   inc(src4{"a": 2, "b": 260, "c": 260}),
			after: inc(src4{"b": 258, "c": 258}),
			log: actlog{
				Queries: []q{{At: 0, Group: g, Sources: []string{"a"}}, {At: 1, Group: g, Sources: []string{"a"}}},
				Updates: []upd{{0, g, Include, []string{"a", "b", "c"}}, {2, g, Include, []string{"b", "c"}}},
			},
		},
		{
			name:       "7.4.2/INCLUDE(A)+TO_IN(B)/non-querier",
			nonQuerier: true,
			seed:       &seed{mode: Include, sources: src4{"a": 100, "b": 100}},
			rec:        rec(TO_IN, grp, "b", "c"),
			now:        inc(src4{"a": 100, "b": 260, "c": 260}),
			after:      inc(src4{"a": 98, "b": 258, "c": 258}),
			log:        actlog{Updates: []upd{{0, g, Include, []string{"a", "b", "c"}}}},
		},
		{
			// EXCLUDE (X,Y)  ALLOW (A)  EXCLUDE (X+A,Y-A)  (A)=MALI
			name:  "7.4.2/EXCLUDE(X,Y)+ALLOW(A)",
			seed:  &seed{mode: Exclude, filter: 200, sources: src4{"a": 100, "b": 0, "c": 0}},
			rec:   rec(ALLOW, grp, "b", "d"),
			now:   exc(200, src4{"a": 100, "b": 260, "c": 0, "d": 260}),
			after: exc(198, src4{"a": 98, "b": 258, "c": 0, "d": 258}),
			log:   actlog{Updates: []upd{{0, g, Exclude, []string{"c"}}}},
		},
		{
			// EXCLUDE (X,Y)  BLOCK (A)  EXCLUDE (X+(A-Y),Y)  (A-X-Y)=Filter Timer, Send Q(MA,A-Y)
			name:  "7.4.2/EXCLUDE(X,Y)+BLOCK(A)",
			seed:  &seed{mode: Exclude, filter: 200, sources: src4{"a": 100, "b": 0}},
			rec:   rec(BLOCK, grp, "a", "b", "c"),
			now:   exc(200, src4{"a": 2, "b": 0, "c": 2}),
			after: exc(198, src4{"a": 0, "b": 0, "c": 0}),
			log: actlog{
				Queries: []q{{At: 0, Group: g, Sources: []string{"a", "c"}}, {At: 1, Group: g, Sources: []string{"a", "c"}}},
				Updates: []upd{{2, g, Exclude, []string{"a", "b", "c"}}},
			},
		},
		{
			name:       "7.4.2/EXCLUDE(X,Y)+BLOCK(A)/non-querier",
			nonQuerier: true,
			seed:       &seed{mode: Exclude, filter: 200, sources: src4{"a": 100, "b": 0}},
			rec:        rec(BLOCK, grp, "a", "b", "c"),
			now:        exc(200, src4{"a": 100, "b": 0, "c": 200}),
			after:      exc(198, src4{"a": 98, "b": 0, "c": 198}),
		},
		{
			// EXCLUDE (X,Y)  TO_EX (A)  EXCLUDE (A-Y,Y*A)  (A-X-Y)=Filter Timer, Delete (X-A),
			//                                              Delete (Y-A), Send Q(MA,A-Y), Filter Timer=MALI
			name:  "7.4.2/EXCLUDE(X,Y)+TO_EX(A)",
			seed:  &seed{mode: Exclude, filter: 200, sources: src4{"a": 100, "b": 100, "c": 0, "d": 0}},
			rec:   rec(TO_EX, grp, "a", "c", "e"),
			now:   exc(260, src4{"a": 2, "c": 0, "e": 2}),
			after: exc(258, src4{"a": 0, "c": 0, "e": 0}),
			log: actlog{
				Queries: []q{{At: 0, Group: g, Sources: []string{"a", "e"}}, {At: 1, Group: g, Sources: []string{"a", "e"}}},
				Updates: []upd{{0, g, Exclude, []string{"c"}}, {2, g, Exclude, []string{"a", "c", "e"}}},
			},
		},
		{
			name:       "7.4.2/EXCLUDE(X,Y)+TO_EX(A)/non-querier",
			nonQuerier: true,
			seed:       &seed{mode: Exclude, filter: 200, sources: src4{"a": 100, "b": 100, "c": 0, "d": 0}},
			rec:        rec(TO_EX, grp, "a", "c", "e"),
			now:        exc(260, src4{"a": 100, "c": 0, "e": 200}),
			after:      exc(258, src4{"a": 98, "c": 0, "e": 198}),
			log:        actlog{Updates: []upd{{0, g, Exclude, []string{"c"}}}},
		},
		{
			// EXCLUDE (X,Y)  TO_IN (A)  EXCLUDE (X+A,Y-A)  (A)=MALI, Send Q(MA,X-A), Send Q(MA)
			name:  "7.4.2/EXCLUDE(X,Y)+TO_IN(A)",
			seed:  &seed{mode: Exclude, filter: 200, sources: src4{"a": 100, "b": 100, "c": 0, "d": 0}},
			rec:   rec(TO_IN, grp, "a", "c"),
			now:   exc(2, src4{"a": 260, "b": 2, "c": 260, "d": 0}),
			after: inc(src4{"a": 258, "c": 258}),
			log: actlog{
				Queries: []q{
					{At: 0, Group: g}, {At: 0, Group: g, Sources: []string{"b"}},
					{At: 1, Group: g}, {At: 1, Group: g, Sources: []string{"b"}},
				},
				Updates: []upd{{0, g, Exclude, []string{"d"}}, {2, g, Include, []string{"a", "c"}}},
			},
		},
		{
			name:       "7.4.2/EXCLUDE(X,Y)+TO_IN(A)/non-querier",
			nonQuerier: true,
			seed:       &seed{mode: Exclude, filter: 200, sources: src4{"a": 100, "b": 100, "c": 0, "d": 0}},
			rec:        rec(TO_IN, grp, "a", "c"),
			now:        exc(200, src4{"a": 260, "b": 100, "c": 260, "d": 0}),
			after:      exc(198, src4{"a": 258, "b": 98, "c": 258, "d": 0}),
			log:        actlog{Updates: []upd{{0, g, Exclude, []string{"d"}}}},
		},

		// No record yet is INCLUDE ({}).
		{
			name:  "no-state+IS_EX(B)",
			rec:   rec(IS_EX, grp, "a"),
			now:   exc(260, src4{"a": 0}),
			after: exc(258, src4{"a": 0}),
			log:   actlog{Updates: []upd{{0, g, Exclude, []string{"a"}}}},
		},
		{
			name:  "no-state+TO_EX({})",
			rec:   rec(TO_EX, grp),
			now:   exc(260, nil),
			after: exc(258, nil),
			log:   actlog{Updates: []upd{{0, g, Exclude, nil}}},
		},
		{
			name: "no-state+BLOCK(B)",
			rec:  rec(BLOCK, grp, "a"),
		},
		{
			name: "no-state+TO_IN({})",
			rec:  rec(TO_IN, grp),
		},
		{
			// Duplicates in a source list are one source.
			name:  "no-state+ALLOW(B)/duplicates",
			rec:   rec(ALLOW, grp, "a", "a"),
			now:   inc(src4{"a": 260}),
			after: inc(src4{"a": 258}),
			log:   actlog{Updates: []upd{{0, g, Include, []string{"a"}}}},
		},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := newRouter(t, tR, DefaultConfig())
			if row.nonQuerier {
				r.Receive(tR, ifx, queryFrom(t, lower, generalV2()))
			}
			if row.seed != nil {
				seedGroup(r, tR, grp, *row.seed)
			}
			var got actlog
			got.add(tR, r.Receive(tR, ifx, report(t, row.rec)))
			diff(t, "state at tR", row.now, view(r, tR, grp))
			for _, s := range []float64{1, 2} {
				got.add(at(s), r.Expire(at(s)))
			}
			diff(t, "state at tR+2", row.after, view(r, at(2), grp))
			got.Queries = specific(got.Queries)
			diff(t, "actions", row.log, got)
		})
	}
}
