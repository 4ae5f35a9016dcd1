package kernel

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6sd/pim6sd/internal/netns"
	"golang.org/x/sys/unix"
)

// Close wakes a ReadFrom blocked in the netpoller, which then fails with
// an error matching net.ErrClosed; so do later calls.
func TestSockCloseUnblocksRead(t *testing.T) {
	ns := netns.New(t, "close")
	for _, tc := range []struct {
		name string
		open func() (topoReader, func() error, error)
	}{
		{"MLD", func() (topoReader, func() error, error) {
			c, err := OpenMLD()
			if err != nil {
				return nil, nil, err
			}
			return c, c.Close, nil
		}},
		{"PIM", func() (topoReader, func() error, error) {
			c, err := OpenPIM()
			if err != nil {
				return nil, nil, err
			}
			return c, c.Close, nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				r       topoReader
				closeFn func() error
			)
			topoDo(t, ns, func() (err error) { r, closeFn, err = tc.open(); return err })
			started := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				close(started)
				_, _, err := r.ReadFrom(make([]byte, 1500))
				done <- err
			}()
			<-started
			// Give the reader time to park; if Close came first the
			// test would still pass, only prove less.
			time.Sleep(20 * time.Millisecond)
			select {
			case err := <-done:
				t.Fatalf("ReadFrom returned before Close: %v", err)
			default:
			}
			if err := closeFn(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("blocked ReadFrom after Close: %v, want net.ErrClosed", err)
				}
			case <-time.After(topoTimeout):
				t.Fatal("ReadFrom still blocked after Close")
			}
			if _, _, err := r.ReadFrom(make([]byte, 1500)); !errors.Is(err, net.ErrClosed) {
				t.Errorf("ReadFrom after Close: %v, want net.ErrClosed", err)
			}
		})
	}
}

// WriteTo refuses what it cannot send before asking the kernel.
func TestSockWriteToArguments(t *testing.T) {
	ns := netns.New(t, "wargs")
	var c *PIMConn
	topoDo(t, ns, func() (err error) { c, err = OpenPIM(); return err })
	defer c.Close()
	for _, tc := range []struct {
		name     string
		ifindex  int
		src, dst netip.Addr
	}{
		{"zero-dst", 1, netip.Addr{}, netip.Addr{}},
		{"ipv4-dst", 1, netip.Addr{}, netip.MustParseAddr("192.0.2.1")},
		{"mapped-dst", 1, netip.Addr{}, netip.MustParseAddr("::ffff:192.0.2.1")},
		{"ipv4-src", 1, netip.MustParseAddr("192.0.2.1"), AllPIMRouters},
		{"negative-ifindex", -1, netip.Addr{}, AllPIMRouters},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.WriteTo([]byte{0x20, 0, 0, 0}, tc.ifindex, tc.src, tc.dst); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// The control messages we build are the ones x/sys/unix builds, and we
// parse what the kernel's layout says.
func TestSockCmsg(t *testing.T) {
	src := netip.MustParseAddr("fe80::1")
	got := cmsgAppendPktinfo(nil, src, 7)
	want := unix.PktInfo6(&unix.Inet6Pktinfo{Addr: src.As16(), Ifindex: 7})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("IPV6_PKTINFO (-x/sys +ours):\n%s", diff)
	}
	if got := cmsgAppendPktinfo(nil, netip.Addr{}, 0); !cmp.Equal(got, unix.PktInfo6(&unix.Inet6Pktinfo{})) {
		t.Errorf("IPV6_PKTINFO without source: % x", got)
	}

	// A buffer as recvmsg fills it: PKTINFO, HOPLIMIT, HOPOPTS.
	dst := netip.MustParseAddr("ff02::16")
	oob := unix.PktInfo6(&unix.Inet6Pktinfo{Addr: dst.As16(), Ifindex: 42})
	hl := make([]byte, unix.CmsgSpace(4))
	off := cmsgPutHeader(hl, unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT, 4)
	binary.NativeEndian.PutUint32(hl[off:], 1)
	oob = append(oob, hl...)
	hbh := make([]byte, unix.CmsgSpace(8))
	off = cmsgPutHeader(hbh, unix.IPPROTO_IPV6, unix.IPV6_HOPOPTS, 8)
	copy(hbh[off:], []byte{58, 0, 5, 2, 0, 0, 1, 0})
	oob = append(oob, hbh...)
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("x/sys parses our test buffer as %d messages, %v", len(msgs), err)
	}
	ci := cmsgParse(oob)
	wantCI := cmsgInfo{pktinfo: true, dst: dst, ifIndex: 42, hopLimit: 1, hopOpts: true, routerAlert: true, raValue: 0}
	if ci != wantCI {
		t.Errorf("cmsgParse = %+v, want %+v", ci, wantCI)
	}
	if ci := cmsgParse(nil); ci != (cmsgInfo{hopLimit: -1}) {
		t.Errorf("cmsgParse(nil) = %+v", ci)
	}
	// A header claiming more than the buffer holds ends the walk but
	// keeps what came before it.
	cut := append(unix.PktInfo6(&unix.Inet6Pktinfo{Addr: dst.As16(), Ifindex: 42}), hl[:unix.CmsgLen(0)]...)
	cut = append(cut, hbh[:unix.CmsgLen(0)+2]...)
	if ci := cmsgParse(cut); !ci.pktinfo || ci.ifIndex != 42 || ci.hopOpts {
		t.Errorf("cmsgParse(cut) = %+v", ci)
	}
}

func TestSockHopOptsRouterAlert(t *testing.T) {
	for _, tc := range []struct {
		name  string
		h     []byte
		value uint16
		ok    bool
	}{
		{"ours", hopOptsRouterAlertMLD[:], 0, true},
		{"pad1-first", []byte{58, 0, 0, 0, 5, 2, 0, 0}, 0, true},
		{"rsvp-value", []byte{58, 0, 5, 2, 0, 1, 1, 0}, 1, true},
		{"after-other-option", []byte{58, 1, 0x1e, 4, 1, 2, 3, 4, 5, 2, 0, 0, 1, 2, 0, 0}, 0, true},
		{"only-padding", []byte{58, 0, 1, 4, 0, 0, 0, 0}, 0, false},
		{"wrong-length", []byte{58, 0, 5, 1, 0, 1, 0, 0}, 0, false},
		{"option-past-end", []byte{58, 0, 1, 2, 0, 0, 5, 2}, 0, false},
		{"beyond-hdr-ext-len", []byte{58, 0, 1, 4, 0, 0, 0, 0, 5, 2, 0, 0}, 0, false},
		{"short", []byte{58}, 0, false},
		{"empty", nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := hopOptsRouterAlert(tc.h)
			if v != tc.value || ok != tc.ok {
				t.Errorf("hopOptsRouterAlert(% x) = %d, %v; want %d, %v", tc.h, v, ok, tc.value, tc.ok)
			}
		})
	}
}
