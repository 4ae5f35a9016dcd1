package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pim6sd/pim6sd/internal/daemon"
	"github.com/pim6sd/pim6sd/internal/sdnotify"
	"github.com/pim6sd/pim6sd/kernel"
)

// SIGUSR2 restarts the daemon in place: it stops without a goodbye, keeps
// the routing socket's descriptor open across exec and executes its own
// program file again (a new binary, if one was installed meanwhile), with
// the same arguments and process ID. The new program takes the routing
// table over (daemon.OpenLinuxHandover): the kernel forwards all along.

// restartExecutable is the program file to execute: the one this process
// runs, or the file now at its path (os.Executable drops the " (deleted)"
// Linux appends when the file was replaced).
func restartExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find my own executable: %w", err)
	}
	if err := unix.Access(exe, unix.X_OK); err != nil {
		return "", fmt.Errorf("%s: %w", exe, err)
	}
	return exe, nil
}

// execRestart executes exe with the handover in the environment. It
// returns only on failure.
func execRestart(exe string, h *daemon.Handover) error {
	if h == nil {
		return errors.New("pim6sd: restart: no routing socket to hand over")
	}
	b, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("pim6sd: restart: %w", err)
	}
	env := make([]string, 0, len(os.Environ())+1)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, daemon.HandoverEnv+"=") && !strings.HasPrefix(e, readyEnv+"=") {
			env = append(env, e)
		}
	}
	env = append(env, daemon.HandoverEnv+"="+string(b))
	err = syscall.Exec(exe, os.Args, env)
	return fmt.Errorf("pim6sd: restart: exec %s: %w (the routing table was released)", exe, err)
}

// takeHandover reads and clears the handover a restart left in the
// environment (nil, nil when there is none). The descriptor it names is
// made close-on-exec again.
func takeHandover() (*daemon.Handover, error) {
	s, ok := os.LookupEnv(daemon.HandoverEnv)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(daemon.HandoverEnv)
	var h daemon.Handover
	if err := json.Unmarshal([]byte(s), &h); err != nil {
		return nil, fmt.Errorf("%s: %w", daemon.HandoverEnv, err)
	}
	if h.FD < 3 {
		return nil, fmt.Errorf("%s: descriptor %d is not one a restart passes", daemon.HandoverEnv, h.FD)
	}
	if _, err := unix.FcntlInt(uintptr(h.FD), unix.F_GETFD, 0); err != nil {
		return nil, fmt.Errorf("%s: descriptor %d: %w", daemon.HandoverEnv, h.FD, err)
	}
	unix.CloseOnExec(h.FD)
	return &h, nil
}

// mrtFDName is the name of the routing socket in systemd's file
// descriptor store.
func mrtFDName(table uint32) string {
	if table == 0 {
		table = 254
	}
	return fmt.Sprintf("pim6sd-mrt-%d", table)
}

// storedHandover takes the routing socket systemd's file descriptor store
// handed to this process (the previous process stored it and died: a
// crash, kill -9, the watchdog), nil when there is none. The MIF list
// comes from /proc, which lists the default table only: for another table
// the descriptor is closed (the kernel then ends the old table) and the
// daemon starts afresh.
func storedHandover(table uint32, log *slog.Logger) *daemon.Handover {
	fds := sdnotify.ListenFDs()
	name := mrtFDName(table)
	for n, list := range fds {
		for i, fd := range list {
			if n == name && i == 0 {
				continue
			}
			unix.Close(fd) // not ours, or a second copy
		}
	}
	list := fds[name]
	if len(list) == 0 {
		return nil
	}
	fd := list[0]
	unix.CloseOnExec(fd)
	tbl := table
	if tbl == 0 {
		tbl = 254
	}
	if tbl != 254 {
		log.Warn("restart: systemd kept the routing socket, but the MIFs of a non-default table cannot be read back; starting with an empty table", "table", tbl)
		unix.Close(fd)
		return nil
	}
	mifs, err := kernel.DefaultTableMIFs()
	if err != nil {
		log.Warn("restart: systemd kept the routing socket, but its MIFs cannot be read; starting with an empty table", "err", err)
		unix.Close(fd)
		return nil
	}
	log.Info("restarted by systemd: taking over the routing socket it kept", "fd", fd, "mifs", len(mifs))
	return &daemon.Handover{FD: fd, Table: tbl, MIFs: mifs}
}
