package ctl_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/ctl/ctltest"
)

func TestDurationJSON(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		json string
	}{
		{0, "0"},
		{90 * time.Second, "90"},
		{500 * time.Millisecond, "0.5"},
		{time.Second + time.Nanosecond, "1.000000001"},
		{-1500 * time.Millisecond, "-1.5"},
		{time.Duration(math.MaxInt64), "9223372036.854775807"},
		{time.Duration(math.MinInt64), "-9223372036.854775808"},
	} {
		t.Run(c.json, func(t *testing.T) {
			b, err := json.Marshal(ctl.Duration(c.d))
			if err != nil || string(b) != c.json {
				t.Fatalf("Marshal(%v) = %s, %v; want %s", c.d, b, err, c.json)
			}
			var d ctl.Duration
			if err := json.Unmarshal(b, &d); err != nil || time.Duration(d) != c.d {
				t.Fatalf("Unmarshal(%s) = %v, %v; want %v", b, time.Duration(d), err, c.d)
			}
		})
	}
}

func TestDurationUnmarshal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{in: "1e2", want: 100 * time.Second},
		{in: "2.5E-1", want: 250 * time.Millisecond},
		{in: "0.1234567899", want: 123456789}, // past the nanosecond: dropped
		{in: "7.", err: true},
		{in: ".5", err: true},
		{in: `"90"`, err: true},
		{in: "true", err: true},
		{in: "99999999999", err: true}, // past 292 years
		{in: "1e300", err: true},
	} {
		t.Run(c.in, func(t *testing.T) {
			var d ctl.Duration
			err := json.Unmarshal([]byte(c.in), &d)
			if c.err {
				if err == nil {
					t.Fatalf("Unmarshal(%s) = %v, want an error", c.in, time.Duration(d))
				}
				return
			}
			if err != nil || time.Duration(d) != c.want {
				t.Fatalf("Unmarshal(%s) = %v, %v; want %v", c.in, time.Duration(d), err, c.want)
			}
		})
	}
}

func TestSnapshotJSONRoundTrip(t *testing.T) {
	for name, s := range map[string]*ctl.Snapshot{"seed": ctltest.Seed(), "rich": ctltest.Rich(), "empty": ctltest.Empty()} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var got ctl.Snapshot
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s, &got, ctltest.CmpOptions, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-sent +received):\n%s", diff)
			}
		})
	}
}

// The JSON document's shape is an interface for scripts: names and units.
func TestSnapshotJSONShape(t *testing.T) {
	b, err := json.Marshal(ctltest.Seed())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	get := func(path ...any) any {
		var v any = doc
		for _, p := range path {
			switch p := p.(type) {
			case string:
				v = v.(map[string]any)[p]
			case int:
				v = v.([]any)[p]
			}
		}
		return v
	}
	for _, c := range []struct {
		path []any
		want any
	}{
		{[]any{"schema_version"}, 1.0},
		{[]any{"daemon", "started"}, "2007-12-14T09:59:14Z"},
		{[]any{"interfaces", 0, "addresses", 0, "prefix"}, "fe80::213:72ff:fe3b:c1fb/64"},
		{[]any{"interfaces", 0, "hello_in"}, 15.0},
		{[]any{"interfaces", 0, "dr_priority"}, 1.0},
		{[]any{"interfaces", 3, "register"}, true},
		{[]any{"neighbors", 0, "left"}, 90.0},
		{[]any{"neighbors", 0, "generation_id"}, float64(0xdeadbeef)},
		{[]any{"neighbors", 0, "secondary", 0}, "2001:200:1b0:1000::2000:1"},
		{[]any{"groups", 0, "mode"}, "IN"},
		{[]any{"groups", 0, "sources", 0, "timer_id"}, 19.0},
		{[]any{"routes", 0, "kind"}, "(S,G)"},
		{[]any{"routes", 0, "upstream_neighbor"}, "fe80::2000:1"},
		{[]any{"rp_set", "rps", 0, "groups", 0, "left"}, 145.0},
		{[]any{"counters", "mld/eth1", "bad-checksum"}, 1.0},
	} {
		if got := get(c.path...); !cmp.Equal(got, c.want) {
			t.Errorf("%v = %#v, want %#v", c.path, got, c.want)
		}
	}
	// No RP on the route: the key is left out rather than "".
	if _, ok := get("routes", 0).(map[string]any)["rp"]; ok {
		t.Error("a zero address is in the JSON")
	}
}

func TestSnapshotJSONEmptyLists(t *testing.T) {
	b, err := json.Marshal(ctltest.Empty())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"interfaces":[]`, `"neighbors":[]`, `"routes":[]`, `"timers":[]`, `"rps":[]`, `"counters":{}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	if strings.Contains(string(b), "null") {
		t.Errorf("JSON has a null: %s", b)
	}
}
