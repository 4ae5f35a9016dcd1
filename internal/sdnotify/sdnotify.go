// Package sdnotify speaks systemd's notification protocol (sd_notify(3)):
// datagrams of "KEY=VALUE" lines sent to the unix socket named by
// $NOTIFY_SOCKET, and the watchdog settings of $WATCHDOG_USEC and
// $WATCHDOG_PID; a leading '@' names an abstract socket, as systemd uses
// it. It is ours rather than github.com/coreos/go-systemd/v22/daemon
// because that library's SdNotify writes without a deadline: the daemon's
// event loop sends the watchdog pings itself, and a service manager that
// stopped reading must not stall the loop (sendTimeout).
package sdnotify

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// The environment variables systemd sets for a service.
const (
	SocketEnv      = "NOTIFY_SOCKET"
	WatchdogUSEnv  = "WATCHDOG_USEC"
	WatchdogPIDEnv = "WATCHDOG_PID"
)

// The states pim6sd sends.
const (
	Ready     = "READY=1"
	Reloading = "RELOADING=1"
	Stopping  = "STOPPING=1"
	Watchdog  = "WATCHDOG=1"
)

// Status is the STATUS= line: a one-line free-form status.
func Status(s string) string {
	return "STATUS=" + strings.ReplaceAll(s, "\n", " ")
}

// sendTimeout bounds one send: a service manager that does not read must
// not stall the caller (the daemon's loop sends the watchdog pings).
const sendTimeout = time.Second

// Notifier sends to one notification socket. The zero of *Notifier (nil)
// sends nothing, so callers need not check whether systemd is there.
type Notifier struct {
	addr *net.UnixAddr
}

// FromEnv returns a Notifier for $NOTIFY_SOCKET, or nil when it is unset
// (not started by systemd with Type=notify).
func FromEnv() *Notifier {
	path := os.Getenv(SocketEnv)
	if path == "" {
		return nil
	}
	return New(path)
}

// New returns a Notifier for the socket at path ("@name" for an abstract
// socket).
func New(path string) *Notifier {
	return &Notifier{addr: &net.UnixAddr{Name: path, Net: "unixgram"}}
}

// Send sends the states as one datagram, one per line. A nil Notifier
// sends nothing and returns nil.
func (n *Notifier) Send(states ...string) error {
	if n == nil {
		return nil
	}
	if len(states) == 0 {
		return errors.New("sdnotify: nothing to send")
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetWriteDeadline(time.Now().Add(sendTimeout)); err != nil {
		return err
	}
	_, err = c.Write([]byte(strings.Join(states, "\n")))
	return err
}

// WatchdogInterval is the watchdog timeout systemd expects pings within
// ($WATCHDOG_USEC), when it is set for this process: $WATCHDOG_PID unset
// or equal to our pid. Ping at half of it (sd_watchdog_enabled(3)).
func WatchdogInterval() (time.Duration, bool) {
	return watchdog(os.Getenv(WatchdogUSEnv), os.Getenv(WatchdogPIDEnv), os.Getpid())
}

func watchdog(usec, pid string, self int) (time.Duration, bool) {
	if usec == "" {
		return 0, false
	}
	us, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || us == 0 || us > uint64(1<<63-1)/uint64(time.Microsecond) {
		return 0, false
	}
	if pid != "" {
		p, err := strconv.Atoi(pid)
		if err != nil || p != self {
			return 0, false
		}
	}
	return time.Duration(us) * time.Microsecond, true
}
