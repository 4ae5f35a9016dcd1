package ctl_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/ctl/ctltest"
)

// serve starts a server for h at a fresh path; it is closed by the test's
// cleanup.
func serve(t *testing.T, cfg ctl.ServerConfig, h ctl.Handler) *ctl.Server {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = ctltest.SocketPath(t)
	}
	s, err := ctl.Listen(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

func seedHandler() ctl.Handler {
	return ctl.Handler{Snapshot: func(_ context.Context, q ctl.Query) (*ctl.Snapshot, error) { return q.Apply(ctltest.Seed()) }}
}

// raw sends b on a new connection and returns the whole answer.
func raw(t *testing.T, path string, b string) string {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if b != "" {
		if _, err := io.WriteString(c, b); err != nil {
			t.Fatal(err)
		}
	}
	c.(*net.UnixConn).CloseWrite() // the request is complete
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return string(out)
}

func decode(t *testing.T, s string) ctl.Response {
	t.Helper()
	var r ctl.Response
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("answer is not a JSON response: %v: %q", err, s)
	}
	return r
}

func TestServerSnapshot(t *testing.T) {
	s := serve(t, ctl.ServerConfig{}, seedHandler())
	c := &ctl.Client{Path: s.Path()}
	got, err := c.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ctltest.Seed(), got, ctltest.CmpOptions, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-served +received):\n%s", diff)
	}
	// The wire form is the documented one.
	r := raw(t, s.Path(), `{"version":1,"command":"snapshot"}`)
	if !strings.HasPrefix(r, `{"version":1,"ok":true,"snapshot":{"schema_version":1,`) || !strings.HasSuffix(r, "}\n") {
		t.Errorf("answer %.80q...", r)
	}
}

func TestServerPing(t *testing.T) {
	t.Run("answered by the server", func(t *testing.T) {
		s := serve(t, ctl.ServerConfig{}, ctl.Handler{})
		if err := (&ctl.Client{Path: s.Path()}).Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		if r := raw(t, s.Path(), `{"version":1,"command":"ping"}`); r != `{"version":1,"ok":true}`+"\n" {
			t.Errorf("answer %q", r)
		}
	})
	t.Run("answered by the daemon", func(t *testing.T) {
		s := serve(t, ctl.ServerConfig{}, ctl.Handler{Ping: func(context.Context) error { return errors.New("loop stopped") }})
		err := (&ctl.Client{Path: s.Path()}).Ping(context.Background())
		var de *ctl.DaemonError
		if !errors.As(err, &de) || err.Error() != "pim6sd: ping: loop stopped" {
			t.Fatalf("err %v, want the daemon's", err)
		}
	})
}

// Every malformed request gets an error answer, and the server goes on.
func TestServerBadRequests(t *testing.T) {
	s := serve(t, ctl.ServerConfig{MaxRequestBytes: 1024}, seedHandler())
	for _, c := range []struct {
		name, req, want string
	}{
		{"garbage", "hello, daemon\n", "bad request: not a JSON request object"},
		{"binary", "\x00\x01\x02\xff", "bad request: not a JSON request object"},
		{"array", `[1,2,3]`, "bad request: not a JSON request object"},
		{"truncated", `{"version":1,"comm`, "bad request: the connection ended inside the JSON document"},
		{"null", `null`, "control protocol version 0 is not supported: this pim6sd speaks version 1"},
		{"no version", `{"command":"snapshot"}`, "control protocol version 0 is not supported"},
		{"newer version", `{"version":2,"command":"snapshot"}`, "control protocol version 2 is not supported: this pim6sd speaks version 1"},
		{"no command", `{"version":1}`, "bad request: no command"},
		{"unknown command", `{"version":1,"command":"frobnicate"}`, `unknown command "frobnicate" (known: `},
		{"too large", `{"version":1,"command":"` + strings.Repeat("x", 2000) + `"}`, "request larger than 1024 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := decode(t, raw(t, s.Path(), c.req))
			if r.OK || r.Version != ctl.ProtocolVersion || !strings.Contains(r.Error, c.want) || r.Snapshot != nil {
				t.Errorf("answer %+v, want an error containing %q", r, c.want)
			}
		})
	}
	// Still serving.
	if _, err := (&ctl.Client{Path: s.Path()}).Snapshot(context.Background()); err != nil {
		t.Fatalf("after the bad requests: %v", err)
	}
}

func TestServerIgnoresUnknownFields(t *testing.T) {
	s := serve(t, ctl.ServerConfig{}, ctl.Handler{})
	r := decode(t, raw(t, s.Path(), `{"version":1,"command":"ping","since":"a later release"}`))
	if !r.OK {
		t.Errorf("answer %+v", r)
	}
}

func TestServerHandlerFailures(t *testing.T) {
	for _, c := range []struct {
		name string
		h    ctl.Handler
		want string
	}{
		{"error", ctl.Handler{Snapshot: func(context.Context, ctl.Query) (*ctl.Snapshot, error) { return nil, errors.New("loop busy") }}, "snapshot: loop busy"},
		{"no snapshot", ctl.Handler{Snapshot: func(context.Context, ctl.Query) (*ctl.Snapshot, error) { return nil, nil }}, "snapshot: the daemon gave no snapshot"},
		{"not supported", ctl.Handler{}, "snapshot: not supported by this daemon"},
		{"panic", ctl.Handler{Snapshot: func(context.Context, ctl.Query) (*ctl.Snapshot, error) { panic("bug") }}, "snapshot: internal error"},
		{"timeout", ctl.Handler{Snapshot: func(ctx context.Context, _ ctl.Query) (*ctl.Snapshot, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}}, "snapshot: context deadline exceeded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := serve(t, ctl.ServerConfig{HandlerTimeout: 50 * time.Millisecond}, c.h)
			cl := &ctl.Client{Path: s.Path()}
			_, err := cl.Snapshot(context.Background())
			var de *ctl.DaemonError
			if !errors.As(err, &de) || de.Msg != c.want {
				t.Fatalf("err %v, want the daemon's %q", err, c.want)
			}
			if err := cl.Ping(context.Background()); err != nil {
				t.Fatalf("server gone after the failure: %v", err)
			}
		})
	}
}

// A client that connects and says nothing is cut off at the deadline,
// with an answer saying why, and holds no slot after that.
func TestServerSilentClient(t *testing.T) {
	s := serve(t, ctl.ServerConfig{Timeout: 50 * time.Millisecond, MaxConns: 1}, ctl.Handler{})
	c, err := net.Dial("unix", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, `{"version":1,`) // and then nothing
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if r := decode(t, string(out)); r.OK || !strings.Contains(r.Error, "timed out waiting for a complete request") {
		t.Errorf("answer %+v", r)
	}
	if err := (&ctl.Client{Path: s.Path()}).Ping(context.Background()); err != nil {
		t.Fatalf("after the silent client: %v", err)
	}
}

// Past MaxConns a client is told the daemon is busy, at once.
func TestServerMaxConns(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	s := serve(t, ctl.ServerConfig{MaxConns: 2}, ctl.Handler{Ping: func(ctx context.Context) error {
		entered <- struct{}{}
		<-release
		return nil
	}})
	cl := &ctl.Client{Path: s.Path()}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cl.Ping(context.Background()); err != nil {
				t.Errorf("held ping: %v", err)
			}
		}()
	}
	<-entered
	<-entered
	err := cl.Ping(context.Background())
	var de *ctl.DaemonError
	if !errors.As(err, &de) || !strings.Contains(de.Msg, "busy: 2 control connections already being served") {
		t.Errorf("third connection: %v, want busy", err)
	}
	close(release)
	wg.Wait()
	if _, err := cl.Do(context.Background(), ctl.Request{Version: 1, Command: "ping"}); err != nil {
		t.Fatalf("after the others ended: %v", err)
	}
}

func TestListenSocketFile(t *testing.T) {
	t.Run("mode 0600 by default, removed on close", func(t *testing.T) {
		path := ctltest.SocketPath(t)
		s, err := ctl.Listen(ctl.ServerConfig{Path: path}, ctl.Handler{})
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
			t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(path); !os.IsNotExist(err) {
			t.Errorf("socket still there after Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
	t.Run("another mode", func(t *testing.T) {
		path := ctltest.SocketPath(t)
		s, err := ctl.Listen(ctl.ServerConfig{Path: path, Mode: 0o660}, ctl.Handler{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o660 {
			t.Errorf("mode %v, %v; want 0660", fi.Mode(), err)
		}
	})
	t.Run("stale socket is replaced", func(t *testing.T) {
		path := ctltest.SocketPath(t)
		staleSocket(t, path)
		s := serve(t, ctl.ServerConfig{Path: path}, ctl.Handler{})
		if err := (&ctl.Client{Path: s.Path()}).Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("refused while another daemon listens", func(t *testing.T) {
		first := serve(t, ctl.ServerConfig{}, ctl.Handler{})
		_, err := ctl.Listen(ctl.ServerConfig{Path: first.Path()}, ctl.Handler{})
		if err == nil || !strings.Contains(err.Error(), "another pim6sd is already listening at "+first.Path()) {
			t.Fatalf("second Listen: %v", err)
		}
		if err := (&ctl.Client{Path: first.Path()}).Ping(context.Background()); err != nil {
			t.Fatalf("first server after the attempt: %v", err)
		}
	})
	t.Run("a file that is not a socket is left alone", func(t *testing.T) {
		path := ctltest.SocketPath(t)
		if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ctl.Listen(ctl.ServerConfig{Path: path}, ctl.Handler{})
		if err == nil || !strings.Contains(err.Error(), "is not a socket") {
			t.Fatalf("Listen: %v", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "precious" {
			t.Error("the file was touched")
		}
	})
	t.Run("close leaves a socket that is no longer ours", func(t *testing.T) {
		path := ctltest.SocketPath(t)
		s, err := ctl.Listen(ctl.ServerConfig{Path: path}, ctl.Handler{})
		if err != nil {
			t.Fatal(err)
		}
		// Someone removed ours and another daemon took the path.
		os.Remove(path)
		other := staleSocket(t, path)
		s.Close()
		if fi, err := os.Lstat(path); err != nil || !os.SameFile(fi, other) {
			t.Errorf("the other socket file was removed: %v", err)
		}
	})
}

// staleSocket leaves a socket file at path that nobody listens on.
func staleSocket(t *testing.T, path string) os.FileInfo {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func TestServerCloseEndsConnections(t *testing.T) {
	path := ctltest.SocketPath(t)
	entered := make(chan struct{})
	s, err := ctl.Listen(ctl.ServerConfig{Path: path}, ctl.Handler{Snapshot: func(ctx context.Context, _ ctl.Query) (*ctl.Snapshot, error) {
		close(entered)
		<-ctx.Done() // a daemon's handler gives up when the server closes
		return nil, ctx.Err()
	}})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error)
	go func() { served <- s.Serve() }()
	got := make(chan error)
	go func() {
		_, err := (&ctl.Client{Path: path}).Snapshot(context.Background())
		got <- err
	}()
	<-entered
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if err := <-got; err == nil {
		t.Error("client got a snapshot from a closed server")
	}
}

func TestClientUnreachable(t *testing.T) {
	dir := t.TempDir()
	stale := ctltest.SocketPath(t)
	staleSocket(t, stale)
	for _, c := range []struct {
		name, path string
		errno      syscall.Errno
		want       string
	}{
		{"no socket", dir + "/none.sock", syscall.ENOENT,
			"cannot reach pim6sd at " + dir + "/none.sock: is the daemon running? (no such file or directory)"},
		{"nobody listening", stale, syscall.ECONNREFUSED,
			"cannot reach pim6sd at " + stale + ": is the daemon running? (connection refused)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := (&ctl.Client{Path: c.path}).Snapshot(context.Background())
			var ue *ctl.UnreachableError
			if !errors.As(err, &ue) || !errors.Is(err, c.errno) || err.Error() != c.want {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
	t.Run("permission denied", func(t *testing.T) {
		// Root connects whatever the mode; the message is checked on the
		// error the kernel gives everyone else.
		err := &ctl.UnreachableError{Path: "/var/run/pim6sd.sock", Err: &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EACCES)}}
		want := "cannot reach pim6sd at /var/run/pim6sd.sock: permission denied (the control socket is root's only: run as root)"
		if err.Error() != want {
			t.Errorf("%q, want %q", err.Error(), want)
		}
	})
}

// fakeDaemon answers every connection with answer, after reading a line.
func fakeDaemon(t *testing.T, answer string) string {
	t.Helper()
	path := ctltest.SocketPath(t)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(c).ReadString('\n')
			io.WriteString(c, answer)
			c.Close()
		}
	}()
	return path
}

func TestClientVersionMismatch(t *testing.T) {
	for _, c := range []struct {
		name, answer, want string
	}{
		{"protocol", `{"version":2,"ok":false,"error":"control protocol version 1 is not supported"}`,
			"pim6sd speaks control protocol version 2, this pim6stat version 1: use the pim6stat of the same release as the daemon"},
		{"schema", `{"version":1,"ok":true,"snapshot":{"schema_version":2}}`,
			"pim6sd speaks snapshot schema version 2, this pim6stat version 1: use the pim6stat of the same release as the daemon"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := (&ctl.Client{Path: fakeDaemon(t, c.answer)}).Snapshot(context.Background())
			var ve *ctl.VersionError
			if !errors.As(err, &ve) || err.Error() != c.want {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
}

func TestClientBadAnswers(t *testing.T) {
	for _, c := range []struct {
		name, answer, want string
	}{
		{"nothing", "", "closed the connection without a complete answer"},
		{"garbage", "HTTP/1.0 200 OK\r\n", "reading the answer"},
		{"no snapshot", `{"version":1,"ok":true}`, "answered without a snapshot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := (&ctl.Client{Path: fakeDaemon(t, c.answer)}).Snapshot(context.Background())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		_, err := (&ctl.Client{Path: fakeDaemon(t, `{"version":1,"ok":true,"snapshot":{"schema_version":1}}`), MaxResponseBytes: 20}).Snapshot(context.Background())
		if err == nil {
			t.Fatal("no error")
		}
	})
}

// A daemon that accepts and never answers costs the client its timeout,
// not forever.
func TestClientTimeout(t *testing.T) {
	path := ctltest.SocketPath(t)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = (&ctl.Client{Path: path, Timeout: 50 * time.Millisecond}).Snapshot(context.Background())
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err %v, want a timeout", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := (&ctl.Client{Path: path}).Snapshot(ctx); err == nil {
		t.Fatal("a cancelled context did not end the exchange")
	}
}
