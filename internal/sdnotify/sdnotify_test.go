package sdnotify

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
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
