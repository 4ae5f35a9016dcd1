package netns

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func nsExists(t *testing.T, name string) bool {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return true
		}
	}
	return false
}

func TestVethPingAndCleanup(t *testing.T) {
	RequireRoot(t)
	var names []string
	t.Run("topology", func(t *testing.T) {
		a, b := New(t, "a"), New(t, "b")
		names = []string{a.Name, b.Name}
		Veth(t, a, "to-b", b, "to-a")
		a.AddAddr("to-b", "2001:db8:99::1/64")
		b.AddAddr("to-a", "2001:db8:99::2/64")
		out := a.MustRun("ping", "-6", "-c", "1", "-W", "2", "2001:db8:99::2")
		if !strings.Contains(out, "1 received") {
			t.Fatalf("ping across the veth: %s", out)
		}
		// Do runs Go code inside the namespace: it sees that namespace's
		// interfaces, not the host's.
		var ifnames []string
		if err := b.Do(func() error {
			ifs, err := net.Interfaces()
			for _, i := range ifs {
				ifnames = append(ifnames, i.Name)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(ifnames, ",") != "lo,to-a" {
			t.Fatalf("interfaces inside %s: %v, want lo,to-a", b.Name, ifnames)
		}
		p := a.Start("sleep", "60")
		if p.Cmd.Process.Pid == 0 {
			t.Fatal("no process")
		}
	})
	for _, n := range names {
		if nsExists(t, n) {
			t.Errorf("namespace %s still exists after its test ended", n)
		}
	}
}

// A test that panics must still remove its namespace. The panicking test
// runs in a child process (the test binary itself) so that this one can
// look afterwards.
func TestCleanupAfterPanic(t *testing.T) {
	RequireRoot(t)
	if f := os.Getenv("P6T_PANIC_NAMEFILE"); f != "" {
		n := New(t, "panic")
		if err := os.WriteFile(f, []byte(n.Name), 0o644); err != nil {
			t.Fatal(err)
		}
		panic("deliberate panic to test cleanup")
	}
	namefile := filepath.Join(t.TempDir(), "name")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCleanupAfterPanic$")
	cmd.Env = append(os.Environ(), "P6T_PANIC_NAMEFILE="+namefile)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "deliberate panic") {
		t.Fatalf("child did not panic: %v\n%s", err, out)
	}
	name, err := os.ReadFile(namefile)
	if err != nil {
		t.Fatalf("child wrote no namespace name: %v\n%s", err, out)
	}
	if nsExists(t, string(name)) {
		_ = exec.Command("ip", "netns", "del", string(name)).Run()
		t.Fatalf("namespace %s survived the panic", name)
	}
}

func TestCaptureSeesPackets(t *testing.T) {
	a, b := New(t, "ca"), New(t, "cb")
	Veth(t, a, "to-b", b, "to-a")
	a.AddAddr("to-b", "2001:db8:98::1/64")
	b.AddAddr("to-a", "2001:db8:98::2/64")
	c := b.Capture("to-a", "icmp6")
	a.MustRun("ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "2001:db8:98::2")
	pkts := c.Stop()
	var echo int
	for _, p := range pkts {
		if p.Proto == 58 && len(p.Payload) > 0 && p.Payload[0] == 128 && p.Src.String() == "2001:db8:98::1" {
			echo++
		}
	}
	if echo != 2 {
		t.Fatalf("captured %d echo requests, want 2 (of %d packets)", echo, len(pkts))
	}
}
