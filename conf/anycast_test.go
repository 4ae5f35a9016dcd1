package conf

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6sd/pim6sd/pim"
)

// TestParseAnycastRP: the [anycast-rp] table decoded and given to the PIM
// engine; without the table there is no set.
func TestParseAnycastRP(t *testing.T) {
	a := netip.MustParseAddr
	c, err := Parse([]byte(`[anycast-rp]
address = "2001:db8:ff::1"
members = ["2001:db8:1::1", "2001:db8:2::1", "2001:db8:3::1"]
`), "a.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := AnycastRP{Enable: true, Address: a("2001:db8:ff::1"), Members: []netip.Addr{a("2001:db8:1::1"), a("2001:db8:2::1"), a("2001:db8:3::1")}}
	if diff := cmp.Diff(want, c.AnycastRP, cmpNetip); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	pc := c.Engines(Link{}).PIM
	if diff := cmp.Diff(&pim.AnycastRP{Addr: want.Address, Members: want.Members}, pc.AnycastRP, cmpNetip); diff != "" {
		t.Errorf("engine config (-want +got):\n%s", diff)
	}
	if Default().Engines(Link{}).PIM.AnycastRP != nil {
		t.Error("a set without the table")
	}
}

// TestParseErrorsAnycastRP: the engine's rules reported at the keys and
// lines of the file, with conf's own type errors.
func TestParseErrorsAnycastRP(t *testing.T) {
	for _, tt := range []struct {
		name, doc string
		want      []string
	}{
		{"no address", "[anycast-rp]\nmembers = [\"2001:db8:1::1\", \"2001:db8:2::1\"]\n",
			[]string{"a.toml:1: anycast-rp.address: required for an Anycast-RP set: the RP address the members share"}},
		{"one member", "[anycast-rp]\naddress = \"2001:db8:ff::1\"\nmembers = [\"2001:db8:1::1\"]\n",
			[]string{"a.toml:3: anycast-rp.members: 1 addresses: a set has at least 2 members, this router among them"}},
		{"no members", "[anycast-rp]\naddress = \"2001:db8:ff::1\"\n",
			[]string{"a.toml:1: anycast-rp.members: 0 addresses: a set has at least 2 members, this router among them"}},
		{"the shared address as a member", "[anycast-rp]\naddress = \"2001:db8:ff::1\"\nmembers = [\n  \"2001:db8:1::1\",\n  \"2001:db8:ff::1\",\n]\n",
			[]string{"a.toml:5: anycast-rp.members[1]: 2001:db8:ff::1 is the shared RP address: each member needs a unique address of its own (RFC 4610 section 2)"}},
		{"a member twice", "[anycast-rp]\naddress = \"2001:db8:ff::1\"\nmembers = [\"2001:db8:1::1\", \"2001:db8:1::1\"]\n",
			[]string{"a.toml:3: anycast-rp.members[1]: 2001:db8:1::1 is listed twice"}},
		{"a link-local member", "[anycast-rp]\naddress = \"2001:db8:ff::1\"\nmembers = [\"2001:db8:1::1\", \"fe80::1\"]\n",
			[]string{"a.toml:3: anycast-rp.members[1]: fe80::1 is not a global unicast IPv6 address"}},
		{"not an address", "[anycast-rp]\naddress = \"2001:db8:ff::1\"\nmembers = [\"2001:db8:1::1\", \"rp2\"]\n",
			[]string{`a.toml:3: anycast-rp.members[1]: "rp2" is not an IPv6 address`}},
		{"members not an array", "[anycast-rp]\naddress = \"2001:db8:ff::1\"\nmembers = \"2001:db8:1::1\"\n",
			[]string{`a.toml:3: anycast-rp.members: expected an array, found string "2001:db8:1::1"`}},
		{"unknown key", "[anycast-rp]\naddress = \"2001:db8:ff::1\"\nmember = [\"2001:db8:1::1\", \"2001:db8:2::1\"]\n",
			[]string{"a.toml:1: anycast-rp.members: 0 addresses: a set has at least 2 members, this router among them",
				"a.toml:3: anycast-rp.member: unknown key (did you mean members?)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc), "a.toml")
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", c.AnycastRP)
			}
			if diff := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiffAnycastRP: a changed set is a change the reload applies.
func TestDiffAnycastRP(t *testing.T) {
	parse := func(doc string) *Config {
		c, err := Parse([]byte(doc), "a.toml")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	one := parse("[anycast-rp]\naddress = \"2001:db8:ff::1\"\nmembers = [\"2001:db8:1::1\", \"2001:db8:2::1\"]\n")
	two := parse("[anycast-rp]\naddress = \"2001:db8:ff::1\"\nmembers = [\"2001:db8:1::1\", \"2001:db8:3::1\"]\n")
	none := parse("")
	for _, tc := range []struct {
		name     string
		old, new *Config
		want     bool
		log      string
	}{
		{"same", one, parse("[anycast-rp]\naddress = \"2001:db8:ff::1\"\nmembers = [\"2001:db8:1::1\", \"2001:db8:2::1\"]\n"), false, "no change"},
		{"member changed", one, two, true, "anycast-rp.members"},
		{"added", none, one, true, "anycast-rp added"},
		{"removed", one, none, true, "anycast-rp removed"},
	} {
		ch := Diff(tc.old, tc.new)
		if ch.AnycastRP != tc.want || ch.Empty() == tc.want {
			t.Errorf("%s: AnycastRP %v, Empty %v (%s)", tc.name, ch.AnycastRP, ch.Empty(), ch)
		}
		if ch.String() != tc.log {
			t.Errorf("%s: %q, want %q", tc.name, ch, tc.log)
		}
	}
}
