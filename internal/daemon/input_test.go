package daemon

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/kernel"
)

// An input Handle has no case for is a programming error: it panics
// instead of being dropped. Input is sealed, so only a nil Input or a
// netlink input without an event can get there from outside the package.
func TestHandleUnknownInputPanics(t *testing.T) {
	d, err := New(conf.Default(), idleKernel{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   Input
		want string
	}{
		{"nil input", nil, "unknown input <nil>"},
		{"netlink without event", NetlinkInput{}, "unknown netlink event <nil>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Errorf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			d.Handle(time.Unix(1, 0), tc.in)
		})
	}
}

// Every kind of input the readers post has its case: none panics, and an
// upcall is counted even for a MIF the daemon does not have.
func TestHandleKnownInputs(t *testing.T) {
	d, err := New(conf.Default(), idleKernel{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1, 0)
	for _, in := range []Input{
		MLDInput{Info: kernel.RecvInfo{IfIndex: 9}},
		PIMInput{Info: kernel.RecvInfo{IfIndex: 9}},
		NetlinkInput{Event: kernel.RouteEvent{}},
		NetlinkInput{Event: kernel.ErrorEvent{}},
		UpcallInput{Upcall: kernel.Upcall{Type: kernel.NoCache, MIF: 5}},
		ReaderError{What: "mld"},
	} {
		d.Handle(now, in)
	}
	if got := d.upcalls["upcall/nocache"]; got != 1 {
		t.Errorf("upcall/nocache counted %d times, want 1", got)
	}
}
