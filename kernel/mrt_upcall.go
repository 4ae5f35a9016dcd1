package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// struct mrt6msg: u8 im6_mbz, u8 im6_msgtype, u16 im6_mif (host order),
// u32 im6_pad, in6_addr im6_src, in6_addr im6_dst.
const mrt6msgLen = 40

// ipv6HeaderLen is the length of the fixed IPv6 header: a whole-packet
// upcall carries at least that much packet.
const ipv6HeaderLen = 40

// Message types of struct mrt6msg (MRT6MSG_*).
const (
	mrt6msgNoCache       = 1
	mrt6msgWrongMIF      = 2
	mrt6msgWholePkt      = 3
	mrt6msgWrongMIFWhole = 4
)

// UpcallType is the kind of an upcall (im6_msgtype).
type UpcallType uint8

const (
	// NoCache: a packet arrived for an (S,G) without an MFC entry. The
	// kernel queues up to a few such packets for 10 s and reports the
	// (S,G) once while it stays unresolved.
	NoCache UpcallType = mrt6msgNoCache
	// WrongMIF: a packet arrived on a MIF other than its entry's iif (PIM
	// mode only, rate-limited to one per entry per 3 s). For asserts and
	// the SPT switch.
	WrongMIF UpcallType = mrt6msgWrongMIF
	// WholePkt: a packet an MFC entry forwarded to the register MIF; Packet
	// is the whole IPv6 packet, to be encapsulated in a PIM Register.
	WholePkt UpcallType = mrt6msgWholePkt
	// WrongMIFWhole: as WrongMIF, with the whole packet, sent right after
	// the WrongMIF upcall when EnablePIM asked for it (Linux 4.19 and later).
	WrongMIFWhole UpcallType = mrt6msgWrongMIFWhole
)

func (t UpcallType) String() string {
	switch t {
	case NoCache:
		return "NOCACHE"
	case WrongMIF:
		return "WRONGMIF"
	case WholePkt:
		return "WHOLEPKT"
	case WrongMIFWhole:
		return "WRMIFWHOLE"
	}
	return "UpcallType(" + strconv.Itoa(int(t)) + ")"
}

// Upcall is a message from the kernel's multicast forwarding about one
// data packet.
type Upcall struct {
	Type UpcallType
	// MIF the packet arrived on (NoCache, WrongMIF, WrongMIFWhole), or the
	// register MIF (WholePkt).
	MIF      MIF
	Src, Dst netip.Addr // the packet's source and destination (the group)
	// Packet is the whole IPv6 packet, for WholePkt and WrongMIFWhole
	// (what follows struct mrt6msg). It is nil for NoCache and WrongMIF:
	// for those Linux (seen on 6.18) delivers 80 bytes, struct mrt6msg and
	// then 40 bytes that are not the packet's IPv6 header (ip6mr.c builds
	// a copy of the header in front of the struct; what arrives after the
	// struct held leftovers of earlier messages in our tests), so they
	// are ignored.
	Packet []byte
}

// Reasons why a message on the socket is not an upcall. ParseUpcall
// returns them; ReadUpcall counts them in Stats and skips the message.
var (
	ErrUpcallShort   = errors.New("upcall shorter than struct mrt6msg")
	ErrUpcallMBZ     = errors.New("upcall with non-zero im6_mbz")
	ErrUpcallUnknown = errors.New("upcall of unknown type")
)

// ParseUpcall decodes a message read from the multicast routing socket.
// It copies what it keeps out of b.
func ParseUpcall(b []byte) (Upcall, error) {
	if len(b) < mrt6msgLen {
		return Upcall{}, fmt.Errorf("%w: %d bytes", ErrUpcallShort, len(b))
	}
	if b[0] != 0 {
		// An ICMPv6 message (the type is never 0) got past the filter.
		return Upcall{}, fmt.Errorf("%w: %#x", ErrUpcallMBZ, b[0])
	}
	t := UpcallType(b[1])
	if t < NoCache || t > WrongMIFWhole {
		return Upcall{}, fmt.Errorf("%w: %d", ErrUpcallUnknown, b[1])
	}
	u := Upcall{
		Type: t,
		MIF:  MIF(binary.NativeEndian.Uint16(b[2:4])),
		Src:  netip.AddrFrom16([16]byte(b[8:24])),
		Dst:  netip.AddrFrom16([16]byte(b[24:40])),
	}
	if t == WholePkt || t == WrongMIFWhole {
		if len(b) < mrt6msgLen+ipv6HeaderLen {
			return Upcall{}, fmt.Errorf("%w: %v with %d bytes of packet", ErrUpcallShort, t, len(b)-mrt6msgLen)
		}
		u.Packet = append([]byte(nil), b[mrt6msgLen:]...)
	}
	return u, nil
}

// MRTStats counts what ReadUpcall read.
type MRTStats struct {
	NoCache, WrongMIF, WholePkt, WrongMIFWhole uint64 // upcalls by type
	// Messages skipped as not upcalls, by reason.
	Short, NonZeroMBZ, UnknownType uint64
}

type mrtStats struct {
	byType                         [5]atomic.Uint64
	short, nonZeroMBZ, unknownType atomic.Uint64
}

// Stats returns the counts of messages read so far.
func (m *MRT) Stats() MRTStats {
	s := &m.stats
	return MRTStats{
		NoCache: s.byType[NoCache].Load(), WrongMIF: s.byType[WrongMIF].Load(),
		WholePkt: s.byType[WholePkt].Load(), WrongMIFWhole: s.byType[WrongMIFWhole].Load(),
		Short: s.short.Load(), NonZeroMBZ: s.nonZeroMBZ.Load(), UnknownType: s.unknownType.Load(),
	}
}

// ReadUpcall blocks until the kernel sends an upcall and returns it.
// Messages that are not upcalls are counted in Stats and skipped. After
// Close it returns an error satisfying errors.Is(err, net.ErrClosed); after
// the read deadline, one satisfying errors.Is(err, os.ErrDeadlineExceeded).
// One goroutine at a time reads; others wait for it.
func (m *MRT) ReadUpcall() (Upcall, error) {
	m.readMu.Lock()
	defer m.readMu.Unlock()
	for {
		n, err := m.recv()
		if err != nil {
			if m.closed.Load() {
				return Upcall{}, fmt.Errorf("mrt table %d: read upcall: %w", m.table, net.ErrClosed)
			}
			return Upcall{}, fmt.Errorf("mrt table %d: read upcall: %w", m.table, err)
		}
		u, err := ParseUpcall(m.buf[:n])
		switch {
		case err == nil:
			m.stats.byType[u.Type].Add(1)
			return u, nil
		case errors.Is(err, ErrUpcallShort):
			m.stats.short.Add(1)
		case errors.Is(err, ErrUpcallMBZ):
			m.stats.nonZeroMBZ.Add(1)
		default:
			m.stats.unknownType.Add(1)
		}
	}
}

func (m *MRT) recv() (int, error) {
	var n int
	var rerr error
	err := m.rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = unix.Read(int(fd), m.buf)
			if rerr != unix.EINTR {
				break
			}
		}
		return rerr != unix.EAGAIN
	})
	if err != nil {
		return 0, err
	}
	return n, rerr
}
