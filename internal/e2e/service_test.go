package e2e

import (
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/netns"
)

// notifications is a NOTIFY_SOCKET the test owns: every datagram pim6sd
// sends, in order.
type notifications struct {
	t    *testing.T
	path string
	ch   chan string
}

func listenNotify(t *testing.T) *notifications {
	t.Helper()
	n := &notifications{t: t, path: filepath.Join(t.TempDir(), "notify"), ch: make(chan string, 256)}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := c.Read(buf)
			if err != nil {
				close(n.ch)
				return
			}
			n.ch <- string(buf[:k])
		}
	}()
	return n
}

// next waits for a datagram with the line want (skipping others, which
// it returns too) and returns it.
func (n *notifications) next(want string, within time.Duration, skipped *[]string) string {
	n.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m, ok := <-n.ch:
			if !ok {
				n.t.Fatalf("notification socket closed while waiting for %q", want)
			}
			for _, line := range strings.Split(m, "\n") {
				if line == want {
					return m
				}
			}
			if skipped != nil {
				*skipped = append(*skipped, m)
			}
		case <-deadline:
			n.t.Fatalf("no %q within %v", want, within)
		}
	}
}

func TestServiceNotify(t *testing.T) {
	netns.RequireRoot(t)
	r := router(t, "svc")
	h := newNS(t, "svch")
	link(t, r, "eth0", "fe80::1", "2001:db8:1::1/64", h, "eth0", "fe80::2", "")
	n := listenNotify(t)

	d := &daemon{t: t, ns: r, dir: t.TempDir()}
	d.socket = filepath.Join(d.dir, "pim6sd.sock")
	d.proc = r.Start("env", "-u", "WATCHDOG_PID", "NOTIFY_SOCKET="+n.path, "WATCHDOG_USEC=2000000",
		filepath.Join(bin, "pim6sd"), "--foreground", "--socket", d.socket,
		"--pidfile", filepath.Join(d.dir, "pim6sd.pid"), "--state-file", filepath.Join(d.dir, "pim6sd.state"), "--log-level", "debug")

	var before []string
	ready := n.next("READY=1", 15*time.Second, &before)
	readyAt := time.Now()
	for _, m := range before {
		if m != "WATCHDOG=1" {
			t.Errorf("before READY=1: %q", m)
		}
	}
	// READY=1 comes once the control socket answers: no retry needed.
	if _, err := d.snapshot(); err != nil {
		t.Errorf("READY=1 received but the control socket does not answer: %v", err)
	}
	if !strings.Contains(ready, "\nSTATUS=1 interfaces, 0 neighbors, ") {
		t.Errorf("READY=1 datagram %q: want STATUS=1 interfaces, 0 neighbors, ...", ready)
	}

	// WATCHDOG_USEC=2000000: a ping every second from the loop. What
	// systemd requires is one within every WATCHDOG_USEC: two in a row
	// must come less than 2 s apart (the second second is the margin for
	// a slow machine).
	var skipped []string
	n.next("WATCHDOG=1", 3*time.Second, &skipped)
	first := time.Now()
	n.next("WATCHDOG=1", 3*time.Second, &skipped)
	if el := time.Since(first); el >= 2*time.Second {
		t.Errorf("two WATCHDOG=1 came %v apart; systemd restarts a service silent for WATCHDOG_USEC (2s)", el)
	}
	t.Logf("two WATCHDOG=1 %v after READY=1", time.Since(readyAt).Round(time.Millisecond))

	// SIGHUP: RELOADING=1, then READY=1 again (no configuration file:
	// nothing to reload, the daemon says so and runs on).
	d.signal(syscall.SIGHUP)
	reloading := n.next("RELOADING=1", 5*time.Second, nil)
	if !strings.Contains(reloading, "\nMONOTONIC_USEC=") {
		t.Errorf("RELOADING=1 datagram %q has no MONOTONIC_USEC=", reloading)
	}
	n.next("READY=1", 5*time.Second, nil)

	d.signal(syscall.SIGTERM)
	if m := n.next("STOPPING=1", 5*time.Second, nil); !strings.Contains(m, "STATUS=stopping") {
		t.Errorf("STOPPING=1 datagram %q: want STATUS=stopping too", m)
	}
	if err := d.proc.Wait(10 * time.Second); err != nil {
		t.Errorf("pim6sd after SIGTERM: %v\n%s", err, d.proc.Output())
	}
}
