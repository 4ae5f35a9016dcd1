package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/ctl/ctltest"
	"github.com/pim6sd/pim6sd/internal/sim"
)

// The views against the state of a flood (sim.Flood: 8192 groups, 14,227
// routes), from the daemon's view to the text printed: each op is one
// pim6stat command against a real control socket. The daemon is a
// simulated router's: its views run on the benchmark's goroutine, as they
// would on its loop. loop-max-ms is the longest the loop was held at once,
// loop-ms/op the loop's time per command; resp-bytes the size of the
// daemon's answer.
//
//	go test -run='^$' -bench=FloodViews -benchmem -count=3 ./cmd/pim6stat/
func BenchmarkFloodViews(b *testing.B) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"interfaces", []string{"interfaces"}},
		{"routes-group", []string{"routes", "--group", sim.FloodGroup(100)}},
		{"report", nil},
		{"json", []string{"--json"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			n, r := sim.Flood{Groups: 8192, Sources: 6035}.Build(b)
			d := r.Daemon()
			var mu sync.Mutex // the simulated loop: one view at a time
			var req ctl.Query
			sock := daemonWithTB(b, ctl.Handler{Snapshot: func(_ context.Context, q ctl.Query) (*ctl.Snapshot, error) {
				mu.Lock()
				defer mu.Unlock()
				req = q
				return d.SnapshotOfAt(n.Now(), q)
			}})
			args := append([]string{"pim6stat", "--socket", sock}, c.args...)
			if code := run(args, io.Discard, io.Discard); code != 0 {
				b.Fatalf("exit %d", code)
			}
			size := responseBytes(b, sock, ctl.Request{Version: ctl.ProtocolVersion, Command: ctl.CommandSnapshot, Query: &req})
			pauses := func() *ctl.Pauses {
				s, err := d.SnapshotOfAt(n.Now(), ctl.Query{Parts: []string{ctl.PartCacheMirrors}})
				if err != nil {
					b.Fatal(err)
				}
				return s.Daemon.ViewPauses
			}
			before := pauses()
			for b.Loop() {
				if code := run(args, io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
			after := pauses()
			b.ReportMetric(float64(time.Duration(after.Max))/1e6, "loop-max-ms")
			b.ReportMetric(float64(time.Duration(after.Sum-before.Sum))/1e6/float64(b.N), "loop-ms/op")
			b.ReportMetric(float64(size), "resp-bytes")
		})
	}
}

func daemonWithTB(tb testing.TB, h ctl.Handler) string {
	tb.Helper()
	s, err := ctl.Listen(ctl.ServerConfig{Path: ctltest.SocketPath(tb)}, h)
	if err != nil {
		tb.Fatal(err)
	}
	go s.Serve()
	tb.Cleanup(func() { s.Close() })
	return s.Path()
}

// responseBytes is the size of the daemon's answer to req.
func responseBytes(tb testing.TB, sock string, req ctl.Request) int64 {
	tb.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	if err := json.NewEncoder(c).Encode(req); err != nil {
		tb.Fatal(err)
	}
	c.(*net.UnixConn).CloseWrite()
	n, err := io.Copy(io.Discard, c)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
