package checkpoint

import (
	"bytes"
	"errors"
	"flag"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

var update = flag.Bool("update", false, "rewrite testdata/v1.json")

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func a(s string) netip.Addr { return netip.MustParseAddr(s) }

// sample has one of every kind of state.
func sample() File {
	return File{
		Version: Version,
		Written: t0,
		Config:  "0123456789abcdef0123456789abcdef",
		Table:   7,
		MLD: []mld.InterfaceCheckpoint{{
			Name: "eth1", OlderQuerier: a("fe80::9"), OlderQuerierLeft: 200 * time.Second,
			Groups: []mld.GroupCheckpoint{
				{Group: a("ff0e::1"), Sources: []mld.SourceCheckpoint{{Source: a("2001:db8::1"), Left: 250 * time.Second}}},
				{Group: a("ff0e::2"), Exclude: true, FilterLeft: 240 * time.Second, CompatLeft: 100 * time.Second,
					Sources: []mld.SourceCheckpoint{{Source: a("2001:db8::2")}, {Source: a("2001:db8::3"), Left: time.Second}}},
			},
		}},
		PIM: []pim.InterfaceCheckpoint{{
			Name: "eth0",
			Neighbors: []pim.NeighborCheckpoint{{
				Address: a("fe80::1"), Secondary: []netip.Addr{a("2001:db8:1::1")}, Holdtime: 105, Left: 90 * time.Second,
				UpSince: t0.Add(-time.Hour), GenerationID: new(uint32(0xdeadbeef)), DRPriority: new(uint32(1)),
				LANPruneDelay: &pimmsg.LANPruneDelay{PropagationDelay: 500, OverrideInterval: 2500},
			}, {Address: a("fe80::2"), Holdtime: 0xffff, UpSince: t0}},
			StarG: []pim.JoinCheckpoint{{Group: a("ff0e::1"), RP: a("2001:db8::ff"), ExpiryLeft: 200 * time.Second}},
			SG: []pim.JoinCheckpoint{
				{Source: a("2001:db8::1"), Group: a("ff3e::1"), Forever: true},
				{Source: a("2001:db8::2"), Group: a("ff3e::1"), ExpiryLeft: 100 * time.Second, PrunePending: true, PrunePendingLeft: 2 * time.Second},
			},
			SGRpt: []pim.JoinCheckpoint{{Source: a("2001:db8::3"), Group: a("ff0e::1"), ExpiryLeft: 150 * time.Second}},
		}},
	}
}

func expect() Expect {
	return Expect{Config: sample().Config, Table: 7, Now: t0.Add(10 * time.Second), MaxAge: time.Minute}
}

var cmpOpts = cmpopts.EquateComparable(netip.Addr{})

// TestGolden: the format is testdata/v1.json, byte for byte. A change
// that fails this test changes the format: give it a new Version (files
// of the old one are then refused) rather than -update alone.
func TestGolden(t *testing.T) {
	b, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/v1.json"
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), b) {
		t.Errorf("Encode differs from %s:\n got %s\nwant %s", golden, b, want)
	}
	f, err := Decode(want, expect())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sample(), *f, cmpOpts); d != "" {
		t.Errorf("Decode(%s) (-want +got):\n%s", golden, d)
	}
}

// TestRefused: every refusal has its reason.
func TestRefused(t *testing.T) {
	good, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(*File)) []byte {
		s := sample()
		f(&s)
		b, err := Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	v2 := bytes.Replace(good, []byte(`"version":1`), []byte(`"version":2`), 1)
	for _, tt := range []struct {
		name   string
		b      []byte
		e      func(*Expect)
		reason string
	}{
		{"too large", append(bytes.Clone(good), make([]byte, MaxSize)...), nil, ReasonTooLarge},
		{"not JSON", []byte("PIM6SD\x00"), nil, ReasonCorrupt},
		{"truncated", good[:len(good)/2], nil, ReasonCorrupt},
		{"unknown field", bytes.Replace(good, []byte(`"table":7`), []byte(`"table":7,"tables":[7]`), 1), nil, ReasonCorrupt},
		{"two documents", append(bytes.Clone(good), good...), nil, ReasonCorrupt},
		{"other version", v2, nil, ReasonVersion},
		{"no version", []byte(`{"written":"2026-03-01T12:00:00Z"}`), nil, ReasonVersion},
		{"other config", good, func(e *Expect) { e.Config = "fedcba" }, ReasonConfig},
		{"other table", good, func(e *Expect) { e.Table = 0 }, ReasonTable},
		{"stale", good, func(e *Expect) { e.Now = t0.Add(61 * time.Second) }, ReasonStale},
		{"future", good, func(e *Expect) { e.Now = t0.Add(-2 * time.Second) }, ReasonFuture},
		{"no time", with(func(f *File) { f.Written = time.Time{} }), nil, ReasonCorrupt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := expect()
			if tt.e != nil {
				tt.e(&e)
			}
			f, err := Decode(tt.b, e)
			if f != nil || ReasonOf(err) != tt.reason {
				t.Fatalf("Decode: %v, %v; want reason %q", f, err, tt.reason)
			}
			if !strings.Contains(err.Error(), "("+tt.reason+")") {
				t.Errorf("error %q does not name its reason", err)
			}
		})
	}
	// At the bounds: exactly MaxAge old, or a little in the future.
	for _, now := range []time.Time{t0.Add(time.Minute), t0.Add(-time.Second), t0} {
		e := expect()
		e.Now = now
		if _, err := Decode(good, e); err != nil {
			t.Errorf("at %v: %v", now.Sub(t0), err)
		}
	}
	if ReasonOf(os.ErrNotExist) != "" {
		t.Error("ReasonOf of another error")
	}
}

// TestEncodeTooLarge: a state Decode would refuse is not written.
func TestEncodeTooLarge(t *testing.T) {
	b, err := encode(sample(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := encode(sample(), len(b)-1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("encode over the limit: %v", err)
	}
}
