package kernel

import (
	"errors"
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mrtSiocSGReq6 is struct sioc_sg_req6: two sockaddr_in6 then three
// unsigned long (Go's uint has the size and alignment of C's unsigned long
// on Linux): 80 bytes on 64-bit machines, 68 on 32-bit ones.
type mrtSiocSGReq6 struct {
	Src, Grp mrtSockaddrIn6
	PktCnt   uint
	ByteCnt  uint
	WrongIf  uint
}

// mrtSiocMIFReq6 is struct sioc_mif_req6: a u16 MIF index, padding to the
// alignment of unsigned long, then four unsigned long (40 bytes on 64-bit).
type mrtSiocMIFReq6 struct {
	Mifi   uint16
	ICount uint
	OCount uint
	IBytes uint
	OBytes uint
}

// SGCounters are the kernel's counters of one MFC entry.
type SGCounters struct {
	// Packets and Bytes count every packet of the (S,G) the entry saw,
	// those that arrived on the wrong MIF included (Linux counts before it
	// checks the iif).
	Packets uint64
	Bytes   uint64
	WrongIf uint64 // of those, the packets that arrived on a MIF other than the iif
}

// MIFCounters are the kernel's counters of one MIF.
type MIFCounters struct {
	InPackets, OutPackets uint64
	InBytes, OutBytes     uint64
}

// SGCount reads the counters of the MFC entry (src, grp)
// (SIOCGETSGCNT_IN6). With no such entry the error satisfies
// errors.Is(err, ErrNoMFC).
func (m *MRT) SGCount(src, grp netip.Addr) (SGCounters, error) {
	if err := checkSG(src, grp); err != nil {
		return SGCounters{}, fmt.Errorf("mrt table %d: SG count: %w", m.table, err)
	}
	req := mrtSiocSGReq6{Src: mrtSockaddr(src), Grp: mrtSockaddr(grp)}
	if err := m.ioctl(siocGetSGCntIn6, unsafe.Pointer(&req)); err != nil {
		if errors.Is(err, unix.EADDRNOTAVAIL) {
			err = fmt.Errorf("%w: %w", ErrNoMFC, err)
		}
		return SGCounters{}, fmt.Errorf("mrt table %d: SG count (%v,%v): %w", m.table, src, grp, err)
	}
	return SGCounters{Packets: uint64(req.PktCnt), Bytes: uint64(req.ByteCnt), WrongIf: uint64(req.WrongIf)}, nil
}

// MIFCount reads the counters of a MIF (SIOCGETMIFCNT_IN6). A MIF the
// kernel does not have is an error satisfying errors.Is(err, ErrUnknownMIF).
func (m *MRT) MIFCount(mif MIF) (MIFCounters, error) {
	req := mrtSiocMIFReq6{Mifi: uint16(mif)}
	if err := m.ioctl(siocGetMIFCntIn6, unsafe.Pointer(&req)); err != nil {
		if errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.EINVAL) {
			err = fmt.Errorf("%w: %w", ErrUnknownMIF, err)
		}
		return MIFCounters{}, fmt.Errorf("mrt table %d: MIF %d count: %w", m.table, mif, err)
	}
	return MIFCounters{
		InPackets: uint64(req.ICount), OutPackets: uint64(req.OCount),
		InBytes: uint64(req.IBytes), OutBytes: uint64(req.OBytes),
	}, nil
}
