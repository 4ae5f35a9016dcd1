package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/netns"
)

// fakeSystemd is the part of systemd a Type=notify service with a file
// descriptor store talks to: a notification socket that records the
// messages and keeps the descriptors sent with FDSTORE=1.
type fakeSystemd struct {
	t    *testing.T
	path string
	conn *net.UnixConn

	mu     sync.Mutex
	msgs   []string
	stored map[string]*os.File
}

func newFakeSystemd(t *testing.T) *fakeSystemd {
	s := &fakeSystemd{t: t, path: filepath.Join(t.TempDir(), "notify"), stored: map[string]*os.File{}}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	s.conn = c
	go s.read()
	t.Cleanup(func() {
		c.Close()
		s.mu.Lock()
		for _, f := range s.stored {
			f.Close()
		}
		s.mu.Unlock()
	})
	return s
}

func (s *fakeSystemd) read() {
	buf, oob := make([]byte, 4096), make([]byte, 1024)
	for {
		n, oobn, _, _, err := s.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			return
		}
		msg := string(buf[:n])
		var fds []int
		if cms, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, cm := range cms {
				if r, err := unix.ParseUnixRights(&cm); err == nil {
					fds = append(fds, r...)
				}
			}
		}
		name := ""
		for _, l := range strings.Split(msg, "\n") {
			if v, ok := strings.CutPrefix(l, "FDNAME="); ok {
				name = v
			}
		}
		s.mu.Lock()
		s.msgs = append(s.msgs, msg)
		switch {
		case strings.Contains(msg, "FDSTORE=1") && len(fds) == 1:
			if old := s.stored[name]; old != nil {
				old.Close()
			}
			s.stored[name] = os.NewFile(uintptr(fds[0]), name)
			fds = nil
		case strings.Contains(msg, "FDSTOREREMOVE=1"):
			if old := s.stored[name]; old != nil {
				old.Close()
				delete(s.stored, name)
			}
		}
		s.mu.Unlock()
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
}

// waitStored waits until a descriptor named name is in the store.
func (s *fakeSystemd) waitStored(name string, within time.Duration) *os.File {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		s.mu.Lock()
		f := s.stored[name]
		s.mu.Unlock()
		if f != nil {
			return f
		}
		if time.Now().After(deadline) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.t.Fatalf("no %s in the store after %v; messages %q", name, within, s.msgs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// start starts pim6sd in ns as systemd would: $NOTIFY_SOCKET, and the
// stored descriptors (if any) from 3 on with $LISTEN_FDS, $LISTEN_FDNAMES
// and $LISTEN_PID.
func (s *fakeSystemd) start(ns *netns.NS, dir, config string) *daemon {
	s.t.Helper()
	d := &daemon{t: s.t, ns: ns, dir: dir, socket: filepath.Join(dir, "pim6sd.sock")}
	cfgPath := filepath.Join(dir, "pim6sd.toml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	var files []*os.File
	var names []string
	for name, f := range s.stored {
		files = append(files, f)
		names = append(names, name)
	}
	s.mu.Unlock()
	env := "NOTIFY_SOCKET=" + s.path
	if len(files) > 0 {
		env += fmt.Sprintf(" LISTEN_FDS=%d LISTEN_FDNAMES=%s LISTEN_PID=$$", len(files), strings.Join(names, ":"))
	}
	// The state file in dir, as the harness does: none read from /run.
	script := fmt.Sprintf("export %s; exec %s --foreground --socket %s --pidfile '' --state-file %s --log-level debug --config %s",
		env, filepath.Join(bin, "pim6sd"), d.socket, filepath.Join(dir, "pim6sd.state"), cfgPath)
	d.proc = ns.StartFiles(files, "sh", "-c", script)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := d.snapshot(); err == nil {
			return d
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("pim6sd in %s did not answer on its socket:\n%s", ns.Name, d.proc.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Under systemd with a file descriptor store, a daemon killed with SIGKILL
// loses nothing: the store keeps the routing socket open, the kernel goes
// on forwarding, and the daemon systemd starts next takes the table over.
// A graceful stop takes the socket out of the store.
func TestCrashKeepsForwardingUnderSystemd(t *testing.T) {
	tp := newOneRouter(t)
	sd := newFakeSystemd(t)
	config := restartConf()
	dir := t.TempDir()
	d := sd.start(tp.rtr, dir, config)
	sd.waitStored("pim6sd-mrt-254", 10*time.Second)

	rcv := joinSSM(t, tp.rcv, "eth0", srcAddr, ssmGrp, 7400)
	st := startStream(t, newSender(t, tp.snd, "eth0", ssmGrp, 7400), 10*time.Millisecond)
	waitMroute(t, tp.rtr, srcAddr, ssmGrp, 10*time.Second, "the (S,G)", func(_ mroute, ok bool) bool { return ok })
	time.Sleep(time.Second)
	from := st.n()

	if err := d.proc.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := d.proc.Wait(5 * time.Second); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Logf("pim6sd after SIGKILL: %v", err)
	}
	// Dead, and the kernel still forwards: the store holds the socket.
	time.Sleep(time.Second)
	if _, ok := findMroute(mroutes(t, tp.rtr), srcAddr, ssmGrp); !ok {
		t.Fatal("the kernel dropped the entry when the daemon died, though the store keeps its socket")
	}
	d2 := sd.start(tp.rtr, t.TempDir(), config)
	var s *ctl.Snapshot
	d2.waitFor(10*time.Second, "the new daemon took the table over", func(x *ctl.Snapshot) bool {
		s = x
		return x.Daemon.Restart != nil
	})
	if s.Daemon.Restart.Entries < 1 || s.Daemon.Restart.MIFs != len(s.Interfaces) {
		t.Errorf("took over %+v, want the entry and the %d MIFs", s.Daemon.Restart, len(s.Interfaces))
	}
	d2.waitFor(20*time.Second, "the grace ends", func(x *ctl.Snapshot) bool {
		s = x
		return x.Daemon.Restart.GraceLeft == 0
	})
	if s.Daemon.Restart.Swept != 0 {
		t.Errorf("the grace's end removed %d entries", s.Daemon.Restart.Swept)
	}
	if n := procMIFs(t, tp.rtr); n != len(s.Interfaces) {
		t.Errorf("%d MIFs in the kernel, want %d", n, len(s.Interfaces))
	}
	st.noLoss(t, rcv, from, "SSM at 100/s across kill -9 and a start under the store")

	// A graceful stop ends the table and empties the store.
	d2.signal(syscall.SIGTERM)
	if err := d2.proc.Wait(10 * time.Second); err != nil {
		t.Fatalf("pim6sd after SIGTERM: %v\n%s", err, d2.proc.Output())
	}
	sd.mu.Lock()
	left := len(sd.stored)
	sd.mu.Unlock()
	if left != 0 {
		t.Errorf("%d descriptors left in the store after a graceful stop", left)
	}
	if _, ok := findMroute(mroutes(t, tp.rtr), srcAddr, ssmGrp); ok {
		t.Error("the entry is still in the kernel after a graceful stop")
	}
}

// With keep-table-on-stop, `systemctl restart` (SIGTERM, then a start
// with the store's descriptors) loses nothing; `systemctl stop` (SIGTERM,
// then systemd empties the store) still ends the table.
func TestSystemctlRestartKeepsForwarding(t *testing.T) {
	tp := newOneRouter(t)
	sd := newFakeSystemd(t)
	config := strings.Replace(restartConf(), "[global]\n", "[global]\nkeep-table-on-stop = true\n", 1)
	d := sd.start(tp.rtr, t.TempDir(), config)
	sd.waitStored("pim6sd-mrt-254", 10*time.Second)
	rcv := joinSSM(t, tp.rcv, "eth0", srcAddr, ssmGrp, 7500)
	st := startStream(t, newSender(t, tp.snd, "eth0", ssmGrp, 7500), 10*time.Millisecond)
	waitMroute(t, tp.rtr, srcAddr, ssmGrp, 10*time.Second, "the (S,G)", func(_ mroute, ok bool) bool { return ok })
	time.Sleep(time.Second)
	from := st.n()

	// systemctl restart: SIGTERM, the process exits, systemd starts the
	// next with the store.
	d.signal(syscall.SIGTERM)
	if err := d.proc.Wait(10 * time.Second); err != nil {
		t.Fatalf("pim6sd after SIGTERM: %v\n%s", err, d.proc.Output())
	}
	if _, ok := findMroute(mroutes(t, tp.rtr), srcAddr, ssmGrp); !ok {
		t.Fatal("the entry left the kernel on a SIGTERM with keep-table-on-stop")
	}
	d2 := sd.start(tp.rtr, t.TempDir(), config)
	var s *ctl.Snapshot
	d2.waitFor(20*time.Second, "the new daemon took the table over and its grace ended", func(x *ctl.Snapshot) bool {
		s = x
		return x.Daemon.Restart != nil && x.Daemon.Restart.GraceLeft == 0
	})
	if s.Daemon.Restart.Swept != 0 || s.Daemon.Restart.Entries < 1 {
		t.Errorf("takeover %+v", s.Daemon.Restart)
	}
	st.noLoss(t, rcv, from, "SSM at 100/s across systemctl restart")

	// systemctl stop: SIGTERM, then systemd closes its copy.
	d2.signal(syscall.SIGTERM)
	if err := d2.proc.Wait(10 * time.Second); err != nil {
		t.Fatalf("pim6sd after SIGTERM: %v\n%s", err, d2.proc.Output())
	}
	sd.mu.Lock()
	for name, f := range sd.stored {
		f.Close()
		delete(sd.stored, name)
	}
	sd.mu.Unlock()
	waitMroute(t, tp.rtr, srcAddr, ssmGrp, 5*time.Second, "the table ends with the store", func(_ mroute, ok bool) bool { return !ok })
	if n := procMIFs(t, tp.rtr); n != 0 {
		t.Errorf("%d MIFs left after the stop", n)
	}
}

// noLoss stops the stream a second from now and fails the test if rcv
// lost any of its datagrams from number from on.
func (st *stream) noLoss(t *testing.T, rcv *receiver, from int, what string) {
	t.Helper()
	time.Sleep(time.Second)
	to := st.n()
	st.halt()
	l := st.losses(rcv.count(time.Second), from, to)
	t.Logf("%s: %v", what, l)
	if l.lost != 0 {
		t.Errorf("%s: lost datagrams: %v", what, l)
	}
}
