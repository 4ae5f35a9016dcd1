package app

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// readyEnv marks the child of background(): it reports on file descriptor
// 3 whether it started ("ready") or why not.
const readyEnv = "PIM6SD_BACKGROUND_CHILD"

// background starts pim6sd again as a detached child (new session, stdio
// on /dev/null, logs on the child's stderr = /dev/null unless redirected by
// the caller's service manager) and waits until it is ready, so that the
// exit status of `pim6sd` says whether the daemon started.
func background(stderr io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("pim6sd: cannot find my own executable to run in the background: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), readyEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{w} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("pim6sd: cannot start in the background: %w", err)
	}
	w.Close()
	lines := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString(0)
		lines <- s
	}()
	select {
	case msg := <-lines:
		msg = strings.TrimSpace(msg)
		if msg == "ready" {
			fmt.Fprintf(stderr, "pim6sd: running in the background, pid %d\n", cmd.Process.Pid)
			return nil
		}
		if msg == "" {
			msg = "it exited without saying why (run with --foreground to see its log)"
		}
		_ = cmd.Wait()
		return errors.New(msg)
	case <-time.After(30 * time.Second):
		return fmt.Errorf("pim6sd: the background daemon (pid %d) did not report ready in 30 s", cmd.Process.Pid)
	}
}

// notifyReady tells the parent of a background child that it is ready
// (err == nil) or failed. It does nothing in the foreground.
func notifyReady(err error) {
	if os.Getenv(readyEnv) == "" {
		return
	}
	f := os.NewFile(3, "ready")
	if f == nil {
		return
	}
	if err != nil {
		fmt.Fprintln(f, err.Error())
	} else {
		fmt.Fprintln(f, "ready")
	}
	f.Close()
	os.Unsetenv(readyEnv)
}
