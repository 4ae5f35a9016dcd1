package conf

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFingerprint: the fingerprint follows what the engines do, not how
// the file says it.
func TestFingerprint(t *testing.T) {
	const ifs = "[[interface]]\nname = \"eth0\"\nmld.version = \"2\"\n[[interface]]\nname = \"eth1\"\npim.enable = false\n"
	base := mustParse(t, ifs).Fingerprint()
	if base != mustParse(t, ifs).Fingerprint() {
		t.Fatal("two fingerprints of one file differ")
	}
	if base == Default().Fingerprint() {
		t.Fatal("the interfaces do not count")
	}
	same := map[string]string{
		"reordered":           "[[interface]]\nname = \"eth1\"\npim.enable = false\n[[interface]]\nname = \"eth0\"\nmld.version = \"2\"\n",
		"defaults written":    "[mld]\nrobustness = 2\n[pim]\nhello-period = \"30s\"\n" + ifs,
		"inherited written":   "[[interface]]\nname = \"eth0\"\nmld.version = \"2\"\nmld.query-interval = \"125s\"\n[[interface]]\nname = \"eth1\"\npim.enable = false\n",
		"paths and log level": "[global]\nsocket = \"/run/x.sock\"\ndump-file = \"/tmp/d\"\npid-file = \"\"\nlog-level = \"debug\"\nstate-file = \"/run/s\"\nstate-max-age = \"5m\"\nrestart-grace = \"1m\"\n" + ifs,
	}
	for name, doc := range same {
		if got := mustParse(t, doc).Fingerprint(); got != base {
			t.Errorf("%s: the fingerprint changed", name)
		}
	}
	other := map[string]string{
		"mrt-table":          "[global]\nmrt-table = 5\n",
		"default-interfaces": "[global]\ndefault-interfaces = \"none\"\n",
		"ssm-range":          "[global]\nssm-range = []\n",
		"mld":                "[mld]\nquery-interval = \"60s\"\n",
		"pim":                "[pim]\nhello-period = \"10s\"\n",
		"router-wide pim":    "[pim]\nkeepalive-period = \"100s\"\n",
		"rp":                 "[[rp]]\naddress = \"2001:db8::1\"\n",
		"limits":             "[limits]\nmax-routes = 10\n",
		"interface setting":  "[[interface]]\nname = \"eth0\"\nmld.version = \"1\"\n[[interface]]\nname = \"eth1\"\npim.enable = false\n",
		"interface disabled": "[[interface]]\nname = \"eth0\"\nmld.version = \"2\"\n[[interface]]\nname = \"eth1\"\nenable = false\n",
	}
	for name, doc := range other {
		if name != "interface setting" && name != "interface disabled" {
			doc += ifs
		}
		if got := mustParse(t, doc).Fingerprint(); got == base {
			t.Errorf("%s: the fingerprint did not change", name)
		}
	}
}

// global.state-file and global.state-max-age: the checkpoint of
// docs/OPERATIONS.md.
func TestStateKeys(t *testing.T) {
	d := Default().Global
	if d.StateFile != "/var/run/pim6sd.state" || d.StateMaxAge != time.Minute {
		t.Errorf("defaults %q, %v", d.StateFile, d.StateMaxAge)
	}
	c := mustParse(t, "[global]\nstate-file = \"\"\nstate-max-age = \"10m\"\n")
	if c.Global.StateFile != "" || c.Global.StateMaxAge != 10*time.Minute {
		t.Errorf("parsed %q, %v", c.Global.StateFile, c.Global.StateMaxAge)
	}
	got := parseErrors(t, "[global]\nstate-file = \"pim6sd.state\"\nstate-max-age = \"2h\"\n")
	want := []string{
		`2: global.state-file: "pim6sd.state" is not an absolute path`,
		`3: global.state-max-age: 2h0m0s is outside 1s..1h`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	// state-max-age reloads; state-file needs a restart.
	ch := Diff(Default(), mustParse(t, "[global]\nstate-max-age = \"2m\"\n"))
	if !ch.StateMaxAge || ch.Empty() || len(ch.RestartNeeded) != 0 || !cmp.Equal(ch.Keys, []string{"global.state-max-age"}) {
		t.Errorf("state-max-age: %+v", ch)
	}
	ch = Diff(Default(), mustParse(t, "[global]\nstate-file = \"/run/x\"\n"))
	if !cmp.Equal(ch.RestartNeeded, []string{`global.state-file "/var/run/pim6sd.state" -> "/run/x" (the checkpoint's file is chosen at start-up)`}) || len(ch.Keys) != 0 {
		t.Errorf("state-file: %+v", ch)
	}
}
