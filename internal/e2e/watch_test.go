package e2e

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// eventWatch is `pim6stat watch --json` running against a daemon.
type eventWatch struct {
	t      *testing.T
	cmd    *exec.Cmd
	events chan ctl.Event
	done   chan struct{}
	mu     sync.Mutex
	stderr strings.Builder
	seen   []ctl.Event
}

func startWatch(t *testing.T, d *daemon) *eventWatch {
	t.Helper()
	w := &eventWatch{t: t, events: make(chan ctl.Event, 1024), done: make(chan struct{})}
	w.cmd = exec.Command(filepath.Join(bin, "pim6stat"), "--socket", d.socket, "watch", "--json")
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := w.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.cmd.Process.Signal(syscall.SIGINT)
		<-w.done
	})
	watching, stderrDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stderrDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			w.mu.Lock()
			w.stderr.WriteString(sc.Text() + "\n")
			w.mu.Unlock()
			if strings.Contains(sc.Text(), "watching the events") {
				close(watching)
			}
		}
	}()
	go func() {
		defer close(w.done)
		defer close(w.events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e ctl.Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("pim6stat watch --json printed %q: %v", sc.Text(), err)
				continue
			}
			w.events <- e
		}
		<-stderrDone // Wait closes the pipes: read them to the end first
		w.cmd.Wait()
	}()
	select {
	case <-watching:
	case <-time.After(10 * time.Second):
		t.Fatalf("pim6stat watch did not start watching; stderr:\n%s", w.errText())
	}
	return w
}

func (w *eventWatch) errText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stderr.String()
}

// expect waits for an event that match accepts, skipping others.
func (w *eventWatch) expect(within time.Duration, what string, match func(ctl.Event) bool) ctl.Event {
	w.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e, ok := <-w.events:
			if !ok {
				w.t.Fatalf("%s: pim6stat watch ended; events seen %+v; stderr:\n%s", what, w.seen, w.errText())
			}
			w.seen = append(w.seen, e)
			if match(e) {
				return e
			}
		case <-deadline:
			w.t.Fatalf("%s: no such event within %v; events seen: %+v", what, within, w.seen)
		}
	}
}

// Router A watched live while router B comes and goes, and a receiver on
// A joins and leaves an SSM channel.
//
//	snd -- A -- rcv
//	       |
//	       B
func TestWatchTwoRouters(t *testing.T) {
	snd, a, b, rcv := newNS(t, "snd"), router(t, "wa"), router(t, "wb"), newNS(t, "rcv")
	link(t, a, "to-snd", "fe80::1", "2001:db8:1::1/64", snd, "eth0", "fe80::10", srcAddr+"/64")
	link(t, a, "to-rcv", "fe80::1", "2001:db8:2::1/64", rcv, "eth0", "fe80::20", "2001:db8:2::10/64")
	link(t, a, "to-b", "fe80::1", "2001:db8:12::1/64", b, "to-a", "fe80::2", "2001:db8:12::2/64")
	pimCfg := "[[interface]]\nname = \"%s\"\n[interface.pim]\nhello-period = \"2s\"\ntriggered-hello-delay = \"1s\"\n"
	da := startPim6sd(t, a, strings.ReplaceAll(pimCfg, "%s", "to-b"))
	da.waitFor(10*time.Second, "A is DR alone on to-b", func(s *ctl.Snapshot) bool {
		dr, self := drOn(s, "to-b")
		return dr == "fe80::1" && self
	})
	w := startWatch(t, da)

	// B comes: neighbor up, and B (the higher address, same priority)
	// becomes DR.
	db := startPim6sd(t, b, strings.ReplaceAll(pimCfg, "%s", "to-a"))
	up := w.expect(15*time.Second, "neighbor up", func(e ctl.Event) bool {
		return e.Type == ctl.EventNeighborUp && e.Iface == "to-b" && e.Neighbor.String() == "fe80::2"
	})
	if up.Reason != "new" || up.Time.IsZero() {
		t.Errorf("neighbor up: %+v, want reason new and a time", up)
	}
	w.expect(10*time.Second, "B becomes DR", func(e ctl.Event) bool {
		return e.Type == ctl.EventDRChange && e.Iface == "to-b" && e.DR.String() == "fe80::2" && !e.Self
	})

	// A receiver joins (S,G) on A: the entry appears; it leaves: it goes.
	r := joinSSM(t, rcv, "eth0", srcAddr, ssmGrp, 5000)
	added := w.expect(10*time.Second, "(S,G) added", func(e ctl.Event) bool {
		return e.Type == ctl.EventRouteAdded && e.Source.String() == srcAddr && e.Group.String() == ssmGrp
	})
	if added.IIF != "to-snd" || len(added.OIFs) != 1 || added.OIFs[0] != "to-rcv" {
		t.Errorf("(S,G) added: %+v, want in to-snd, out to-rcv", added)
	}
	r.leave()
	w.expect(15*time.Second, "(S,G) removed", func(e ctl.Event) bool {
		return e.Type == ctl.EventRouteRemoved && e.Source.String() == srcAddr && e.Group.String() == ssmGrp
	})

	// B stops: its goodbye Hello takes it down at once, and A is DR again.
	db.signal(syscall.SIGTERM)
	if err := db.proc.Wait(10 * time.Second); err != nil {
		t.Fatalf("B did not stop: %v", err)
	}
	w.expect(5*time.Second, "neighbor down (goodbye)", func(e ctl.Event) bool {
		return e.Type == ctl.EventNeighborDown && e.Iface == "to-b" && e.Neighbor.String() == "fe80::2" && e.Reason == "goodbye"
	})
	w.expect(5*time.Second, "A is DR again", func(e ctl.Event) bool {
		return e.Type == ctl.EventDRChange && e.Iface == "to-b" && e.DR.String() == "fe80::1" && e.Self
	})

	// A stops: pim6stat watch says the daemon went away, exit 1.
	da.signal(syscall.SIGTERM)
	if err := da.proc.Wait(10 * time.Second); err != nil {
		t.Fatalf("A did not stop: %v", err)
	}
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("pim6stat watch goes on after the daemon stopped")
	}
	if code := w.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(w.errText(), "the daemon stopped or went away") {
		t.Errorf("pim6stat watch: exit %d, stderr:\n%s\nwant exit 1 and the daemon gone", code, w.errText())
	}
}
