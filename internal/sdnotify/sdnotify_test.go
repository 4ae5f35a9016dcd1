package sdnotify

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// listen makes a notification socket the test owns and returns a function
// that reads the next datagram.
func listen(t *testing.T, name string) func() string {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return func() string {
		t.Helper()
		buf := make([]byte, 4096)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("reading the notification socket: %v", err)
		}
		return string(buf[:n])
	}
}

func TestNotifySend(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
	}{
		{"path", func(t *testing.T) string { return filepath.Join(t.TempDir(), "notify") }},
		{"abstract", func(t *testing.T) string { return fmt.Sprintf("@pim6sd-sdnotify-test-%d", os.Getpid()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path(t)
			next := listen(t, path)
			t.Setenv(SocketEnv, path)
			n := FromEnv()
			for _, want := range []struct {
				states []string
				dgram  string
			}{
				{[]string{Ready, Status("2 interfaces")}, "READY=1\nSTATUS=2 interfaces"},
				{[]string{Watchdog}, "WATCHDOG=1"},
				{[]string{Status("a\nb")}, "STATUS=a b"},
				{[]string{Stopping}, "STOPPING=1"},
			} {
				if err := n.Send(want.states...); err != nil {
					t.Fatal(err)
				}
				if got := next(); got != want.dgram {
					t.Errorf("Send(%q): datagram %q, want %q", want.states, got, want.dgram)
				}
			}
		})
	}
}

func TestNotifyUnset(t *testing.T) {
	t.Setenv(SocketEnv, "")
	n := FromEnv()
	if n != nil {
		t.Fatalf("FromEnv() = %v without NOTIFY_SOCKET, want nil", n)
	}
	if err := n.Send(Ready); err != nil {
		t.Errorf("nil Notifier: Send = %v, want nil", err)
	}
}

func TestNotifyNoListener(t *testing.T) {
	n := New(filepath.Join(t.TempDir(), "nobody"))
	if err := n.Send(Ready); err == nil {
		t.Error("Send to a missing socket: no error")
	}
}

func TestNotifyWatchdogInterval(t *testing.T) {
	for _, tc := range []struct {
		usec, pid string
		want      time.Duration
		ok        bool
	}{
		{"", "", 0, false},
		{"2000000", "", 2 * time.Second, true},
		{"30000000", "42", 30 * time.Second, true},
		{"2000000", "43", 0, false},
		{"2000000", "x", 0, false},
		{"0", "", 0, false},
		{"-5", "", 0, false},
		{"junk", "", 0, false},
		{"18446744073709551615", "", 0, false},
	} {
		t.Run(tc.usec+"/"+tc.pid, func(t *testing.T) {
			got, ok := watchdog(tc.usec, tc.pid, 42)
			if got != tc.want || ok != tc.ok {
				t.Errorf("watchdog(%q, %q) = %v, %v; want %v, %v", tc.usec, tc.pid, got, ok, tc.want, tc.ok)
			}
		})
	}
	t.Setenv(WatchdogUSEnv, "4000000")
	t.Setenv(WatchdogPIDEnv, fmt.Sprint(os.Getpid()))
	if got, ok := WatchdogInterval(); got != 4*time.Second || !ok {
		t.Errorf("WatchdogInterval() = %v, %v with our own pid; want 4s, true", got, ok)
	}
}

func TestListenFDs(t *testing.T) {
	for _, tc := range []struct {
		count, pid, names string
		want              map[string][]int
	}{
		{"", "", "", nil},
		{"2", "100", "pim6sd-mrt-254:other", map[string][]int{"pim6sd-mrt-254": {3}, "other": {4}}},
		{"2", "100", "a", map[string][]int{"a": {3}, "unknown": {4}}},
		{"1", "101", "a", nil},  // another process's
		{"1", "", "a", nil},     // no LISTEN_PID: not ours
		{"x", "100", "a", nil},  // garbage
		{"-1", "100", "a", nil}, // garbage
	} {
		got := listenFDs(tc.count, tc.pid, tc.names, 100)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("listenFDs(%q, %q, %q) = %v, want %v", tc.count, tc.pid, tc.names, got, tc.want)
		}
	}
}

// SendFiles passes the descriptor itself: the receiver gets a working
// copy of it.
func TestSendFiles(t *testing.T) {
	dir := t.TempDir()
	addr := &net.UnixAddr{Name: dir + "/notify", Net: "unixgram"}
	l, err := net.ListenUnixgram("unixgram", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := New(addr.Name).SendFiles([]int{int(w.Fd())}, "FDSTORE=1", "FDNAME=x"); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 256), make([]byte, 256)
	n, oobn, _, _, err := l.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != "FDSTORE=1\nFDNAME=x" {
		t.Errorf("message %q", buf[:n])
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v, %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights %v, %v", fds, err)
	}
	got := os.NewFile(uintptr(fds[0]), "received")
	defer got.Close()
	if _, err := got.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 2)
	if _, err := r.Read(b); err != nil || string(b) != "hi" {
		t.Errorf("read %q, %v through the passed descriptor", b, err)
	}
}
