// Package netns is the test harness for code that needs the real kernel:
// network namespaces with unique names, veth pairs, bridges, addresses
// without duplicate address detection, sysctls, processes and packet
// captures inside a namespace, and Go code run inside a namespace (to open
// sockets there). Everything a test creates is removed by t.Cleanup, also
// when the test fails or panics; namespaces left behind by a killed test
// binary are removed by the next run (their names carry the creator's PID).
//
// Traffic stays inside the namespaces a test creates.
package netns

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vnetns "github.com/vishvananda/netns"
)

// Prefix starts the name of every namespace this harness creates.
const Prefix = "p6t"

var (
	counter   atomic.Uint64
	sweepOnce sync.Once
)

// RequireRoot skips a test that needs root (namespaces, raw sockets, MRT6)
// with a message saying so. CI runs as root, so there these tests always run.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces and raw sockets (CI runs as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("the ip command (iproute2) is missing: run `make deps`")
	}
}

// NS is one network namespace owned by a test.
type NS struct {
	Name string
	t    testing.TB
}

// New creates a namespace named p6t-<pid>-<n>-<label>, brings its loopback
// up, and removes it (with every process the harness started in it) when
// the test ends.
func New(t testing.TB, label string) *NS {
	t.Helper()
	RequireRoot(t)
	sweepOnce.Do(sweepStale)
	name := fmt.Sprintf("%s-%d-%d-%s", Prefix, os.Getpid(), counter.Add(1), label)
	if len(name) > 64 {
		name = name[:64]
	}
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	n := &NS{Name: name, t: t}
	t.Cleanup(func() { n.remove() })
	n.MustRun("ip", "link", "set", "lo", "up")
	return n
}

func (n *NS) remove() {
	// Kill whatever still runs inside (processes started by tests, and any
	// they forked), then delete the namespace.
	if out, err := exec.Command("ip", "netns", "pids", n.Name).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
		n.t.Errorf("ip netns del %s: %v: %s", n.Name, err, out)
	}
}

// sweepStale removes namespaces of earlier test binaries that died before
// their cleanups ran.
func sweepStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || !strings.HasPrefix(f[0], Prefix+"-") {
			continue
		}
		parts := strings.SplitN(f[0], "-", 4)
		if len(parts) < 3 {
			continue
		}
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == nil {
			continue // its creator still runs (a parallel test binary)
		}
		_ = exec.Command("ip", "netns", "del", f[0]).Run()
	}
}

// Run runs a command inside the namespace and returns its combined output.
func (n *NS) Run(args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %s: %w: %s", n.Name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// MustRun is Run that fails the test on error.
func (n *NS) MustRun(args ...string) string {
	n.t.Helper()
	out, err := n.Run(args...)
	if err != nil {
		n.t.Fatal(err)
	}
	return out
}

// Sysctl sets key (dotted, e.g. net.ipv6.conf.all.forwarding) to val.
func (n *NS) Sysctl(key, val string) {
	n.t.Helper()
	n.MustRun("sysctl", "-q", "-w", key+"="+val)
}

// AddAddr adds an address (CIDR) to ifname without duplicate address
// detection, so it is usable at once.
func (n *NS) AddAddr(ifname, cidr string) {
	n.t.Helper()
	n.MustRun("ip", "-6", "addr", "add", cidr, "dev", ifname, "nodad")
}

// LinkUp sets ifname up.
func (n *NS) LinkUp(ifname string) {
	n.t.Helper()
	n.MustRun("ip", "link", "set", ifname, "up")
}

// Veth connects a and b with a veth pair, aIf in a and bIf in b, both up,
// with DAD off so link-local addresses are usable at once.
func Veth(t testing.TB, a *NS, aIf string, b *NS, bIf string) {
	t.Helper()
	// Created inside a with its peer placed in b at once: nothing ever
	// appears in the host's namespace, so parallel test binaries cannot
	// collide on names there.
	if out, err := exec.Command("ip", "-n", a.Name, "link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip link add veth %s/%s - %s/%s: %v: %s", a.Name, aIf, b.Name, bIf, err, out)
	}
	for _, e := range []struct {
		ns *NS
		to string
	}{{a, aIf}, {b, bIf}} {
		e.ns.Sysctl("net.ipv6.conf."+e.to+".accept_dad", "0")
		e.ns.LinkUp(e.to)
	}
}

// Bridge creates a bridge in n with the given member interfaces, all up.
// Multicast snooping is off so that the bridge floods multicast like a hub,
// which is what a shared LAN segment in a test wants.
func (n *NS) Bridge(name string, members ...string) {
	n.t.Helper()
	n.MustRun("ip", "link", "add", name, "type", "bridge", "mcast_snooping", "0")
	n.Sysctl("net.ipv6.conf."+name+".accept_dad", "0")
	for _, m := range members {
		n.MustRun("ip", "link", "set", m, "master", name)
	}
	n.LinkUp(name)
}

// Do runs fn on an OS thread switched into the namespace. Sockets opened in
// fn belong to the namespace for their whole life.
func (n *NS) Do(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := vnetns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	target, err := vnetns.GetFromName(n.Name)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := vnetns.Set(target); err != nil {
		return err
	}
	ferr := fn()
	if err := vnetns.Set(orig); err != nil {
		// The thread is in the wrong namespace; do not let the runtime
		// reuse it (a locked thread that exits is not reused).
		runtime.LockOSThread()
		return errors.Join(ferr, fmt.Errorf("return to the original namespace: %w", err))
	}
	return ferr
}

// Handle opens the namespace's file descriptor (for netlink handles bound
// to it). The caller closes it.
func (n *NS) Handle() (vnetns.NsHandle, error) { return vnetns.GetFromName(n.Name) }

// Proc is a process started inside a namespace.
type Proc struct {
	Cmd    *exec.Cmd
	out    *lockedBuffer
	done   chan struct{}
	waitEr error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start starts a command in the background inside the namespace. It is
// killed when the test ends if still running; its output is logged then
// if the test failed.
func (n *NS) Start(args ...string) *Proc {
	n.t.Helper()
	return n.StartFiles(nil, args...)
}

// StartFiles is Start with descriptors for the process: extra[i] becomes
// its descriptor 3+i (`ip netns exec` passes them on).
func (n *NS) StartFiles(extra []*os.File, args ...string) *Proc {
	n.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name}, args...)...)
	cmd.ExtraFiles = extra
	p := &Proc{Cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("start %v in %s: %v", args, n.Name, err)
	}
	go func() { p.waitEr = cmd.Wait(); close(p.done) }()
	t := n.t
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("output of %v in %s:\n%s", args, n.Name, p.Output())
		}
	})
	return p
}

// Output is what the process wrote so far (stdout and stderr).
func (p *Proc) Output() string { return p.out.String() }

// Stop ends the process (SIGTERM, then SIGKILL after 2 s) and waits for it.
func (p *Proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
}

// Wait waits for the process to exit on its own, up to d.
func (p *Proc) Wait(d time.Duration) error {
	select {
	case <-p.done:
		return p.waitEr
	case <-time.After(d):
		return fmt.Errorf("still running after %v", d)
	}
}

// IfIndex returns the interface index of ifname inside the namespace. It
// reads sysfs through the namespace rather than `ip -o link`, whose output
// can carry stray errors while other tests delete namespaces.
func (n *NS) IfIndex(ifname string) int {
	n.t.Helper()
	out := n.MustRun("cat", "/sys/class/net/"+ifname+"/ifindex")
	i, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		n.t.Fatalf("ifindex of %s in %s: %q: %v", ifname, n.Name, out, err)
	}
	return i
}

// LinkLocal waits (up to 5 s) for ifname's link-local address, which the
// kernel adds once the link has carrier, and returns it without a zone.
func (n *NS) LinkLocal(ifname string) netip.Addr {
	n.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := n.MustRun("ip", "-6", "-o", "addr", "show", "dev", ifname, "scope", "link")
		for _, f := range strings.Fields(out) {
			if p, err := netip.ParsePrefix(f); err == nil && p.Addr().IsLinkLocalUnicast() {
				return p.Addr()
			}
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s/%s: no link-local address after 5s: %s", n.Name, ifname, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
