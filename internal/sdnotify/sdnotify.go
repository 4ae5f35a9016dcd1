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

	"golang.org/x/sys/unix"
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

// SendFiles sends the states with the descriptors fds attached
// (SCM_RIGHTS): "FDSTORE=1" and "FDNAME=..." keep them in systemd's file
// descriptor store (FileDescriptorStoreMax= in the unit), which hands
// them back to the service's next process (ListenFDs). A nil Notifier
// sends nothing and returns nil.
func (n *Notifier) SendFiles(fds []int, states ...string) error {
	if n == nil {
		return nil
	}
	if len(states) == 0 || len(fds) == 0 {
		return errors.New("sdnotify: nothing to send")
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(sendTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv); err != nil {
		return err
	}
	return unix.Sendmsg(fd, []byte(strings.Join(states, "\n")), unix.UnixRights(fds...), &unix.SockaddrUnix{Name: n.addr.Name}, 0)
}

// The environment of socket activation and of the file descriptor store
// (sd_listen_fds(3)): descriptors from 3 on, their count, the process
// they are for, and their names.
const (
	ListenFDsEnv     = "LISTEN_FDS"
	ListenPIDEnv     = "LISTEN_PID"
	ListenFDNamesEnv = "LISTEN_FDNAMES"
)

// listenFDsStart is SD_LISTEN_FDS_START.
const listenFDsStart = 3

// ListenFDs returns the descriptors systemd passed to this process, by
// name ("unknown" for unnamed ones), and clears the variables so that
// children do not take them for theirs. Descriptors meant for another
// process ($LISTEN_PID not ours) are not returned.
func ListenFDs() map[string][]int {
	defer func() {
		os.Unsetenv(ListenFDsEnv)
		os.Unsetenv(ListenPIDEnv)
		os.Unsetenv(ListenFDNamesEnv)
	}()
	return listenFDs(os.Getenv(ListenFDsEnv), os.Getenv(ListenPIDEnv), os.Getenv(ListenFDNamesEnv), os.Getpid())
}

func listenFDs(count, pid, names string, self int) map[string][]int {
	if count == "" || pid == "" {
		return nil
	}
	if p, err := strconv.Atoi(pid); err != nil || p != self {
		return nil
	}
	n, err := strconv.Atoi(count)
	if err != nil || n <= 0 || n > 1024 {
		return nil
	}
	var list []string
	if names != "" {
		list = strings.Split(names, ":")
	}
	out := map[string][]int{}
	for i := range n {
		name := "unknown"
		if i < len(list) && list[i] != "" {
			name = list[i]
		}
		out[name] = append(out[name], listenFDsStart+i)
	}
	return out
}
