package kernel

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/pim6sd/pim6sd/internal/netns"
)

// probeChildOut, when set, makes the test binary a child that runs Probe,
// writes the result as JSON to the file it names and exits (TestMain):
// TestProbeLeavesTheHostAlone starts it inside a namespace of its own, so
// that the namespace Probe starts from is one the test watches.
const probeChildOut = "PIM6SD_PROBE_CHILD_OUT"

func TestMain(m *testing.M) {
	if out := os.Getenv(probeChildOut); out != "" {
		b, err := json.Marshal(Probe())
		if err == nil {
			err = os.WriteFile(out, b, 0o644)
		}
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func capsByName(t *testing.T, caps []Capability) map[string]Capability {
	t.Helper()
	m := map[string]Capability{}
	for _, c := range caps {
		m[c.Name] = c
	}
	for _, name := range []string{CapMRT6, CapMultipleTables, CapPIMRegister, CapWrongMIFWhole, CapNetNS, CapVeth, CapBridge, CapDummy} {
		if _, ok := m[name]; !ok {
			t.Fatalf("Probe has no %q: %+v", name, caps)
		}
	}
	if len(m) != len(caps) {
		t.Fatalf("Probe lists a capability twice: %+v", caps)
	}
	return m
}

// Probe's answers are the truth about the kernel it runs on: the build
// configuration where the test can read it (every yes/no equals the
// option: y or m is yes), and in any case the kernel's /proc for
// multicast routing. Runs on any kernel; tools/vmrun runs it on kernels
// with multicast routing.
func TestProbe(t *testing.T) {
	netns.RequireRoot(t)
	caps := Probe()
	byName := capsByName(t, caps)
	for _, c := range caps {
		t.Logf("%-18s %-36s %-7s %-6s %s", c.Name, c.ConfigOption, c.Have, c.NeededBy, c.Detail)
		if c.Have == Unknown {
			t.Errorf("%s: unknown as root: %s", c.Name, c.Detail)
		}
		if c.Detail == "" || c.Impact == "" {
			t.Errorf("%s: no detail or impact: %+v", c.Name, c)
		}
		if c.NeededBy == NeedDaemon && c.Fix == "" {
			t.Errorf("%s: the daemon needs it but there is no fix: %+v", c.Name, c)
		}
	}

	mrt6 := byName[CapMRT6]
	if got, want := mrt6.Have == Yes, netns.HaveMRT6(); got != want {
		t.Errorf("MRT6 %s, but /proc/net/ip6_mr_vif exists = %v: %s", mrt6.Have, want, mrt6.Detail)
	}
	if mrt6.Have == No && !strings.Contains(mrt6.Detail, "protocol not available") {
		t.Errorf("MRT6 no, detail %q does not give the kernel's ENOPROTOOPT", mrt6.Detail)
	}

	// WRMIFWHOLE: multicast routing and Linux 4.19 or later.
	major, minor, ok := releaseVersion(Release())
	if !ok {
		t.Fatalf("uname -r %q has no version", Release())
	}
	wantWhole := mrt6.Have == Yes && (major > 4 || major == 4 && minor >= 19)
	if w := byName[CapWrongMIFWhole]; (w.Have == Yes) != wantWhole || w.ConfigOption != "" {
		t.Errorf("WRMIFWHOLE %s (option %q), want yes = %v on %s with MRT6 %s", w.Have, w.ConfigOption, wantWhole, Release(), mrt6.Have)
	}

	cfg, src := netns.KernelConfig(t)
	if cfg == nil {
		// No build configuration to compare with: the test machines
		// (hosts and VMs) all have these.
		t.Log("no kernel build configuration (PIM6SD_VM_KERNEL_CONFIG, /proc/config.gz): checking MRT6 by /proc and netns, veth, bridge are yes")
		for _, name := range []string{CapNetNS, CapVeth, CapBridge} {
			if c := byName[name]; c.Have != Yes {
				t.Errorf("%s: %s (%s), want yes", name, c.Have, c.Detail)
			}
		}
		return
	}
	t.Logf("comparing with %s", src)
	for _, c := range caps {
		if c.ConfigOption == "" {
			continue
		}
		v := cfg[c.ConfigOption]
		want := v == "y" || v == "m"
		if (c.Have == Yes) != want {
			t.Errorf("%s: %s (%s), but %s has %s=%q", c.Name, c.Have, c.Detail, src, c.ConfigOption, v)
		}
	}
}

// Probe runs in a namespace of its own: started from a namespace where a
// "running pim6sd" holds table 254, it still finds MRT6 and the register
// MIF, the holder keeps its table, and no link the probes make appears in
// the namespace it started from, not even for a moment.
func TestProbeLeavesTheHostAlone(t *testing.T) {
	netns.RequireRoot(t)
	ns := netns.New(t, "probe")

	var held *MRT
	if netns.HaveMRT6() {
		if err := ns.Do(func() (err error) {
			held, err = OpenMRT(MRTConfig{})
			return err
		}); err != nil {
			t.Fatalf("holding table 254 in %s: %v", ns.Name, err)
		}
		t.Cleanup(func() { held.Close() })
	}

	h, err := ns.Handle()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	events := make(chan netlink.LinkUpdate, 256)
	stop := make(chan struct{})
	defer close(stop)
	if err := netlink.LinkSubscribeAt(h, events, stop); err != nil {
		t.Fatalf("link events of %s: %v", ns.Name, err)
	}

	out := filepath.Join(t.TempDir(), "caps.json")
	t.Setenv(probeChildOut, out)
	if _, err := ns.Run(os.Args[0], "-test.run=^$"); err != nil {
		t.Fatalf("Probe in a child in %s: %v", ns.Name, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var raw []struct {
		Name string
		Have string
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	have := map[string]string{}
	for _, c := range raw {
		have[c.Name] = c.Have
	}
	if have[CapNetNS] != "yes" {
		t.Errorf("network namespaces %q from inside a namespace", have[CapNetNS])
	}

	// A link made after the child ended marks the end of the events the
	// child could have caused.
	ns.MustRun("ip", "link", "add", "mark0", "type", "veth", "peer", "name", "mark1")
	for done := false; !done; {
		u, ok := <-events
		if !ok {
			t.Fatalf("the link events of %s ended before the marker link", ns.Name)
		}
		switch name := u.Attrs().Name; {
		case name == "mark0" || name == "mark1":
			done = true
		case strings.HasPrefix(name, "probe-") || strings.HasPrefix(name, "pim6reg"):
			t.Errorf("link %s appeared in the namespace Probe started from", name)
		}
	}

	if held == nil {
		if have[CapMRT6] != "no" {
			t.Errorf("MRT6 %q on a kernel without /proc/net/ip6_mr_vif", have[CapMRT6])
		}
		return
	}
	if have[CapMRT6] != "yes" {
		t.Errorf("MRT6 %q: Probe did not get a table 254 of its own", have[CapMRT6])
	}
	// The holder still owns its table: a second MRT6_INIT there is refused,
	// and the holder can still add the register MIF (Probe's was elsewhere).
	if err := ns.Do(func() error {
		m, err := OpenMRT(MRTConfig{})
		if err == nil {
			m.Close()
			return errors.New("table 254 was free after Probe")
		}
		if !errors.Is(err, ErrTableInUse) {
			return err
		}
		if have[CapPIMRegister] == "yes" {
			_, err = held.AddRegisterMIF()
		}
		return err
	}); err != nil {
		t.Errorf("the table's holder after Probe: %v", err)
	}
}
