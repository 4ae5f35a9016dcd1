package ctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// idle opens n connections that send nothing; they are closed by the
// test's cleanup.
func idle(t *testing.T, path string, n int) []net.Conn {
	t.Helper()
	var cs []net.Conn
	for range n {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		cs = append(cs, c)
	}
	return cs
}

// open says whether the daemon still holds c open: a read neither gets
// data nor the end of the connection within wait.
func open(c net.Conn, wait time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(wait))
	var b [1]byte
	_, err := c.Read(b[:])
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// Idle clients do not keep pim6stat out: with 100 connections open that
// never send a byte, a request is answered while they are all still open
// (the client gives up long before the server may drop them for
// silence). Reading a request holds none of the MaxConns slots.
func TestServerIdleConnections(t *testing.T) {
	cfg := ctl.ServerConfig{Timeout: 20 * time.Second, FirstByteTimeout: 10 * time.Second}
	s := serve(t, cfg, seedHandler())
	conns := idle(t, s.Path(), 100)
	cl := &ctl.Client{Path: s.Path(), Timeout: cfg.FirstByteTimeout / 2}
	if _, err := cl.Snapshot(context.Background()); err != nil {
		t.Fatalf("with 100 idle connections: %v", err)
	}
	for i, c := range conns {
		if !open(c, time.Millisecond) {
			t.Fatalf("idle connection %d was closed or answered", i)
		}
	}
}

// Past MaxPending connections waiting for their request, a new one closes
// the one that has waited longest: a flood of idle connections stays
// bounded and cannot keep a prompt client out.
func TestServerPendingBound(t *testing.T) {
	cfg := ctl.ServerConfig{Timeout: 20 * time.Second, FirstByteTimeout: 10 * time.Second, MaxPending: 3}
	s := serve(t, cfg, seedHandler())
	conns := idle(t, s.Path(), 3)
	cl := &ctl.Client{Path: s.Path(), Timeout: cfg.FirstByteTimeout / 2}
	if err := cl.Ping(context.Background()); err != nil {
		t.Fatalf("with MaxPending idle connections: %v", err)
	}
	// The ping took the oldest one's place; the others stay.
	if open(conns[0], cfg.FirstByteTimeout/2) {
		t.Error("the oldest idle connection is still open")
	}
	for i, c := range conns[1:] {
		if !open(c, time.Millisecond) {
			t.Errorf("idle connection %d was closed", i+1)
		}
	}
}

// A connection that sends nothing is closed at FirstByteTimeout, without
// an answer; one that started its request has the whole Timeout.
func TestServerFirstByteTimeout(t *testing.T) {
	cfg := ctl.ServerConfig{Timeout: time.Minute, FirstByteTimeout: 200 * time.Millisecond}
	s := serve(t, cfg, ctl.Handler{})
	silent := idle(t, s.Path(), 1)[0]
	slow := idle(t, s.Path(), 1)[0]
	if _, err := slow.Write([]byte(`{"version":1,`)); err != nil {
		t.Fatal(err)
	}
	// Both get the end of the connection (and nothing else) long before
	// Timeout, were the first-byte deadline theirs.
	silent.SetReadDeadline(time.Now().Add(cfg.Timeout / 2))
	if b, err := io.ReadAll(silent); err != nil || len(b) != 0 {
		t.Errorf("silent connection: read %q, %v; want it closed without a word", b, err)
	}
	if !open(slow, 3*cfg.FirstByteTimeout) {
		t.Fatal("a connection that started its request was closed at the first-byte deadline")
	}
	if _, err := slow.Write([]byte(`"command":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	slow.(*net.UnixConn).CloseWrite()
	slow.SetReadDeadline(time.Now().Add(cfg.Timeout / 2))
	b, err := io.ReadAll(slow)
	if r := decode(t, string(b)); err != nil || !r.OK {
		t.Errorf("slow request: %+v, %v", r, err)
	}
}

// What a client sends is quoted and cut in the log and the answer: an
// unknown command of 60 KB makes a short line.
func TestServerLogsClientWordsBounded(t *testing.T) {
	var buf syncBuffer
	s := serve(t, ctl.ServerConfig{Log: slog.New(slog.NewTextHandler(&buf, nil))}, ctl.Handler{})
	name := "\x00frob" + strings.Repeat("nicate", 10000)
	req, _ := json.Marshal(ctl.Request{Version: ctl.ProtocolVersion, Command: name})
	r := decode(t, raw(t, s.Path(), string(req)))
	want := strconv.Quote(name[:64]) + "..."
	if r.OK || !strings.Contains(r.Error, "unknown command "+want+" (known: ") || len(r.Error) > 512 {
		t.Errorf("answer %.200q (%d bytes), want the command as %s", r.Error, len(r.Error), want)
	}
	s.Close() // the line is written before the connection ends; Close waits for it
	line := buf.String()
	if len(line) > 1024 || strings.Count(line, "\n") != 1 || !strings.Contains(line, "command="+strconv.Quote(want)) {
		t.Errorf("log line of %d bytes: %.300q, want one line with command=%s", len(line), line, strconv.Quote(want))
	}
}

// syncBuffer is a bytes.Buffer for a logger written by other goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
