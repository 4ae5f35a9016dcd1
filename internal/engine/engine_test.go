package engine

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestKeyRoundTripAndOrder(t *testing.T) {
	addrs := []netip.Addr{
		netip.MustParseAddr("::"),
		netip.MustParseAddr("::1"),
		netip.MustParseAddr("2001:db8::1"),
		netip.MustParseAddr("2001:db8::2"),
		netip.MustParseAddr("2001:db9::"),
		netip.MustParseAddr("fe80::1"),
		netip.MustParseAddr("ff02::d"),
		netip.MustParseAddr("ff3e::8000:1"),
		netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	}
	for _, a := range addrs {
		if got := KeyOf(a).Addr(); got != a {
			t.Errorf("KeyOf(%v).Addr() = %v", a, got)
		}
		for _, b := range addrs {
			if got, want := KeyOf(a).Compare(KeyOf(b)), a.Compare(b); got != want {
				t.Errorf("KeyOf(%v).Compare(KeyOf(%v)) = %d, want %d as netip", a, b, got, want)
			}
		}
	}
	if k := KeyOf(netip.MustParseAddr("2001:db8:0:1::2")); k != (Key{Hi: 0x20010db800000001, Lo: 2}) {
		t.Errorf("words %#x %#x, want big-endian halves", k.Hi, k.Lo)
	}
	// A zone does not reach the key; IPv4 becomes IPv4-mapped.
	if got := KeyOf(netip.MustParseAddr("fe80::1%eth0")).Addr(); got != netip.MustParseAddr("fe80::1") {
		t.Errorf("zoned address keyed as %v", got)
	}
	if got := KeyOf(netip.MustParseAddr("192.0.2.1")).Addr(); got != netip.MustParseAddr("::ffff:192.0.2.1") {
		t.Errorf("IPv4 address keyed as %v", got)
	}
}

func TestKeyScope(t *testing.T) {
	for a, want := range map[string]uint8{
		"ff01::1": 1, "ff02::1": 2, "ff05::2": 5, "ff0e::1": 14, "ff3e::1": 14, "ff18::1": 8, "ff3f::": 15,
	} {
		if got := KeyOf(netip.MustParseAddr(a)).Scope(); got != want {
			t.Errorf("scope of %s = %d, want %d", a, got, want)
		}
	}
}

func TestSSMRange(t *testing.T) {
	r := DefaultSSMRange()
	if len(r) != 16 || r[0].String() != "ff30::/32" || r[14].String() != "ff3e::/32" || r[15].String() != "ff3f::/32" {
		t.Fatalf("DefaultSSMRange() = %v", r)
	}
	r[0] = netip.Prefix{}
	if DefaultSSMRange()[0].String() != "ff30::/32" {
		t.Fatal("DefaultSSMRange shares its slice between calls")
	}
	for g, want := range map[string]bool{
		"ff3e::8000:1": true, "ff35::1": true, "ff30::": true, "ff3f::ffff:1": true,
		"ff3e:1::1": false, "ff3f:ffff::1": false, "ff0e::1": false, "ff1e::1": false, "ff7e:140:2001:db8::1": false, "2001:db8::1": false,
	} {
		if got := IsSSM(DefaultSSMRange(), netip.MustParseAddr(g)); got != want {
			t.Errorf("IsSSM(default, %s) = %v", g, got)
		}
	}
	own := []netip.Prefix{netip.MustParsePrefix("ff05:1::/32")}
	if !IsSSM(own, netip.MustParseAddr("ff05:1::9")) || IsSSM(own, netip.MustParseAddr("ff3e::1")) || IsSSM(nil, netip.MustParseAddr("ff3e::1")) {
		t.Error("IsSSM does not follow the configured range")
	}
}

func TestFrame(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	var f Frame[string]
	if f.Event() != 0 {
		t.Fatalf("Event before any Begin = %d", f.Event())
	}
	if n := f.Begin(t0); n != 0 || f.Event() != 1 {
		t.Fatalf("first Begin: now %d, event %d; want 0, 1", n, f.Event())
	}
	f.Emit("a")
	f.Emit("b")
	if got := f.Take(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Take = %q", got)
	}
	if got := f.Take(); got != nil {
		t.Fatalf("second Take = %q, want none", got)
	}
	if n := f.Begin(t0.Add(1500 * time.Millisecond)); n != 1.5e9 || f.Event() != 2 {
		t.Fatalf("second Begin: now %d, event %d; want 1.5e9, 2", n, f.Event())
	}
	// Rel does not start an event; times before the epoch are negative.
	if n := f.Rel(t0.Add(-time.Second)); n != -1e9 || f.Event() != 2 {
		t.Fatalf("Rel before the epoch = %d (event %d)", n, f.Event())
	}
	if got := f.Abs(2e9); !got.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("Abs(2e9) = %v", got)
	}
	// The epoch is the first time seen, even by Rel.
	var g Frame[int]
	g.Rel(t0)
	if n := g.Begin(t0.Add(time.Second)); n != 1e9 {
		t.Fatalf("Begin after Rel: %d", n)
	}
}

// TestFieldError: the message names other fields as data, so a caller
// writes them its own way; Error is the engine's own wording.
func TestFieldError(t *testing.T) {
	e := NewFieldError("pim", "HelloHoldtime", "%v must be more than %s %v", "30s", FieldRef("HelloPeriod"), "30s")
	if got, want := e.Error(), "pim: HelloHoldtime: 30s must be more than HelloPeriod 30s"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if refs := e.Refs(); len(refs) != 1 || refs[0] != "HelloPeriod" {
		t.Errorf("Refs() = %v, want [HelloPeriod]", refs)
	}
	key := func(f string) string { return map[string]string{"HelloPeriod": "hello-period"}[f] }
	if got, want := e.Message(key), "30s must be more than hello-period 30s"; got != want {
		t.Errorf("Message(key) = %q, want %q", got, want)
	}
	var fe *FieldError
	if err := errors.Join(errors.New("other"), e); !errors.As(err, &fe) || fe.Field != "HelloHoldtime" {
		t.Errorf("errors.As through a join: %v", fe)
	}
}

func TestCandidateRPGroups(t *testing.T) {
	if got := CandidateRPGroups(nil); !slices.Equal(got, []netip.Prefix{AllGroups}) {
		t.Errorf("none: %v", got)
	}
	in := []netip.Prefix{netip.MustParsePrefix("ff0e::1/16"), netip.MustParsePrefix("ff05::/16")}
	got := CandidateRPGroups(in)
	if want := []netip.Prefix{netip.MustParsePrefix("ff0e::/16"), netip.MustParsePrefix("ff05::/16")}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got[0] = AllGroups; in[0] == AllGroups {
		t.Error("the result shares the caller's slice")
	}
}
