package conf

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6sd/pim6sd/pim"
)

// TestBSRZoneEngines maps [[bsr-zone]] entries to the PIM router's
// configuration: the range and border as written, a Candidate-BSR only
// when candidate = true, with [bsr]'s defaults for what is left out.
func TestBSRZoneEngines(t *testing.T) {
	c := mustParse(t, `
[[bsr-zone]]
range = "ff15::/16"
border = ["eth1", "eth2"]
candidate = true
address = "2001:db8::15"
priority = 9
[[bsr-zone]]
range = "ff18::/16"
address = "2001:db8::18"
`)
	want := []pim.BSRZone{
		{Range: netip.MustParsePrefix("ff15::/16"), Border: []string{"eth1", "eth2"},
			CandidateBSR: &pim.CandidateBSR{Addr: netip.MustParseAddr("2001:db8::15"), Priority: 9, HashMaskLen: 126}},
		{Range: netip.MustParsePrefix("ff18::/16")},
	}
	pc := mapPIM(c)
	if diff := cmp.Diff(want, pc.BSRZones, cmpNetip); diff != "" {
		t.Errorf("zones (-want +got):\n%s", diff)
	}
	if err := pc.Validate(); err != nil {
		t.Errorf("the engine refuses them: %v", err)
	}
	if pc.MaxBSRZones != pim.DefaultMaxBSRZones {
		t.Errorf("MaxBSRZones %d, want the engine's default %d", pc.MaxBSRZones, pim.DefaultMaxBSRZones)
	}
}

// TestBSRZoneErrors has each problem of a [[bsr-zone]] entry at its key
// and line: conf's (the form of the values, a missing range, a border that
// never runs PIM) and the engine's (the range, duplicates, the candidacy,
// checked as if on).
func TestBSRZoneErrors(t *testing.T) {
	for _, tt := range []struct {
		name, doc, want string
	}{
		{"missing range", "[[bsr-zone]]\nborder = [\"eth1\"]\n",
			"zone.toml:1: bsr-zone[0]: missing range"},
		{"not an admin scope range", "[[bsr-zone]]\nrange = \"ff0e::/16\"\n",
			"zone.toml:2: bsr-zone[0].range: ff0e::/16 is not an administrative scope range: a /16 or longer prefix whose scope (the fourth hex digit) is 3 to d, above link-local (2) and below global (e)"},
		{"not a prefix", "[[bsr-zone]]\nrange = \"ff15::\"\n",
			`zone.toml:2: bsr-zone[0].range: "ff15::" is not an IPv6 prefix`},
		{"bits beyond the length", "[[bsr-zone]]\nrange = \"ff15::1/16\"\n",
			"zone.toml:2: bsr-zone[0].range: ff15::1/16 has bits set beyond its length: write ff15::/16"},
		{"a zone of SSM groups", "[[bsr-zone]]\nrange = \"ff35::/32\"\n",
			"zone.toml:2: bsr-zone[0].range: ff35::/32 is in the SSM range (ff35::/32 in global.ssm-range): SSM groups use no RP"},
		{"duplicate range", "[[bsr-zone]]\nrange = \"ff15::/16\"\n[[bsr-zone]]\nrange = \"ff15::/16\"\n",
			"zone.toml:4: bsr-zone[1].range: ff15::/16 is the range of bsr-zone[0].range too"},
		{"bad border name", "[[bsr-zone]]\nrange = \"ff15::/16\"\nborder = [\"eth1\", \"a/b\"]\n",
			`zone.toml:3: bsr-zone[0].border[1]: "a/b" is not a valid interface name`},
		{"border not an array", "[[bsr-zone]]\nrange = \"ff15::/16\"\nborder = \"eth1\"\n",
			`zone.toml:3: bsr-zone[0].border: expected an array, found string "eth1"`},
		{"border twice", "[[bsr-zone]]\nrange = \"ff15::/16\"\nborder = [\"eth1\", \"eth1\"]\n",
			`zone.toml:3: bsr-zone[0].border[1]: "eth1" is listed twice`},
		{"border that never runs PIM", "[global]\ndefault-interfaces = \"none\"\n[[interface]]\nname = \"eth1\"\n[[bsr-zone]]\nrange = \"ff15::/16\"\nborder = [\"eth1\",\n  \"eht2\"]\n",
			`zone.toml:8: bsr-zone[0].border[1]: "eht2" has no [[interface]] entry: with default-interfaces = "none" it never runs PIM`},
		{"candidate without an address", "[[bsr-zone]]\nrange = \"ff15::/16\"\ncandidate = true\n",
			"zone.toml:1: bsr-zone[0].address: required for a Candidate-BSR: a global unicast address of this router"},
		{"candidacy off, checked as if on", "[[bsr-zone]]\nrange = \"ff15::/16\"\naddress = \"fe80::1\"\n",
			"zone.toml:3: bsr-zone[0].address: fe80::1 is not a global unicast IPv6 address"},
		{"hash mask length", "[[bsr-zone]]\nrange = \"ff15::/16\"\nhash-mask-length = 129\n",
			"zone.toml:3: bsr-zone[0].hash-mask-length: 129 is more than 128"},
		{"a table, not an array of tables", "[bsr-zone]\nrange = \"ff15::/16\"\n",
			"zone.toml:1: bsr-zone: expected an array of tables: write [[bsr-zone]], not [bsr-zone]"},
		{"unknown key", "[[bsr-zone]]\nrange = \"ff15::/16\"\nborders = [\"eth1\"]\n",
			"zone.toml:3: bsr-zone[0].borders: unknown key (did you mean border?)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "zone.toml")
			if err == nil {
				t.Fatal("accepted")
			}
			if diff := cmp.Diff([]string{tt.want}, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
	// A candidacy that is off may leave its address out; a border with an
	// [[interface]] entry, or any border with default-interfaces = "all".
	for _, doc := range []string{
		"[[bsr-zone]]\nrange = \"ff15::/16\"\npriority = 5\n",
		"[global]\ndefault-interfaces = \"none\"\n[[interface]]\nname = \"eth1\"\n[[bsr-zone]]\nrange = \"ff15::/16\"\nborder = [\"eth1\"]\n",
		"[[bsr-zone]]\nrange = \"ff15::/16\"\nborder = [\"eth9\"]\n",
	} {
		if _, err := Parse([]byte(doc), "ok.toml"); err != nil {
			t.Errorf("%q:\n%v", doc, err)
		}
	}
}

// TestBSRZoneLimit: one zone beyond the engine's limit is reported at its
// range.
func TestBSRZoneLimit(t *testing.T) {
	var b strings.Builder
	for i := range pim.DefaultMaxBSRZones + 1 {
		fmt.Fprintf(&b, "[[bsr-zone]]\nrange = \"ff15:%x::/32\"\n", i+1)
	}
	want := fmt.Sprintf("%d: bsr-zone[%d].range: one zone too many: at most %d scope zones", 2*pim.DefaultMaxBSRZones+2, pim.DefaultMaxBSRZones, pim.DefaultMaxBSRZones)
	if diff := cmp.Diff([]string{want}, parseErrors(t, b.String())); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestDiffBSRZones: a zone added, removed or changed is a change of the
// PIM router's configuration.
func TestDiffBSRZones(t *testing.T) {
	zone := "[[bsr-zone]]\nrange = \"ff15::/16\"\nborder = [\"eth1\"]\n"
	for _, tt := range []struct {
		name, old, new string
		changed        bool
		log            string
	}{
		{"added", "", zone, true, `bsr-zone "ff15::/16" added`},
		{"removed", zone, "", true, `bsr-zone "ff15::/16" removed`},
		{"border changed", zone, strings.Replace(zone, "eth1", "eth2", 1), true, `bsr-zone "ff15::/16".border`},
		{"candidacy", zone, zone + "candidate = true\naddress = \"2001:db8::1\"\n", true, `bsr-zone "ff15::/16".candidate; bsr-zone "ff15::/16".address`},
		{"the same with its defaults", zone, zone + "priority = 64\n", false, "no change"},
	} {
		ch := Diff(mustParse(t, tt.old), mustParse(t, tt.new))
		if ch.BSRZones != tt.changed || ch.Empty() == tt.changed {
			t.Errorf("%s: %+v", tt.name, ch)
		}
		if ch.String() != tt.log {
			t.Errorf("%s: %q, want %q", tt.name, ch.String(), tt.log)
		}
	}
}
