package kernel

import (
	"errors"
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mrtSockaddrIn6 is struct sockaddr_in6 (28 bytes, 4-aligned).
type mrtSockaddrIn6 struct {
	Family   uint16 // AF_INET6, host order
	Port     uint16 // network order; 0 here
	Flowinfo uint32
	Addr     [16]byte
	ScopeID  uint32
}

func mrtSockaddr(a netip.Addr) mrtSockaddrIn6 {
	return mrtSockaddrIn6{Family: unix.AF_INET6, Addr: a.As16()}
}

// mrtMF6cctl is struct mf6cctl (92 bytes). The 2 bytes of padding after
// the u16 parent matter: the kernel reads the interface set at offset 60,
// and with a layout that is off it silently installs an entry with no (or
// other) outgoing interfaces.
type mrtMF6cctl struct {
	Origin mrtSockaddrIn6
	Group  mrtSockaddrIn6
	Parent uint16 // mifi_t mf6cc_parent: the iif
	_      [2]byte
	IfSet  [8]uint32 // struct if_set: IF_SETSIZE 256 bits, bit n = MIF n
}

func mrtMFC(src, grp netip.Addr, iif MIF, oifs MIFSet) mrtMF6cctl {
	c := mrtMF6cctl{Origin: mrtSockaddr(src), Group: mrtSockaddr(grp), Parent: uint16(iif)}
	c.IfSet[0] = uint32(oifs) // MaxMIFs is 32: only the first word is used
	return c
}

func checkSG(src, grp netip.Addr) error {
	if !src.Is6() || src.Is4In6() {
		return fmt.Errorf("source %v is not an IPv6 address", src)
	}
	if !grp.Is6() || !grp.IsMulticast() {
		return fmt.Errorf("group %v is not an IPv6 multicast address", grp)
	}
	return nil
}

// SetMFC installs the MFC entry for (src, grp) (MRT6_ADD_MFC): packets of
// src to grp that arrive on iif are forwarded to each MIF in oifs. An
// existing entry for (src, grp) is replaced, iif included. iif and every
// oif must be MIFs of this MRT (else ErrUnknownMIF): the kernel would
// silently ignore an unknown oif. Packets the kernel queued while (src,
// grp) was unresolved are forwarded now.
//
// src may be the unspecified address ::, but Linux treats such an entry as
// a proxy entry, not as PIM's (*,G): it matches packets of any source only
// when their arrival MIF is one of oifs (and does not send them back out
// of it), whatever iif says. PIM's (*,G) state is better installed as
// (S,G) entries when NoCache upcalls name the sources.
func (m *MRT) SetMFC(src, grp netip.Addr, iif MIF, oifs MIFSet) error {
	if err := checkSG(src, grp); err != nil {
		return fmt.Errorf("mrt table %d: set MFC: %w", m.table, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkMIFsLocked(iif, oifs); err != nil {
		return fmt.Errorf("mrt table %d: set MFC (%v,%v): %w", m.table, src, grp, err)
	}
	c := mrtMFC(src, grp, iif, oifs)
	if err := m.setsockopt(mrt6AddMFC, unsafe.Pointer(&c), unsafe.Sizeof(c)); err != nil {
		return fmt.Errorf("mrt table %d: set MFC (%v,%v) iif %d oifs %v: %w", m.table, src, grp, iif, oifs, err)
	}
	return nil
}

// DelMFC removes the MFC entry for (src, grp) (MRT6_DEL_MFC), whatever its
// iif. If there is none, the error satisfies errors.Is(err, ErrNoMFC) and
// errors.Is(err, unix.ENOENT).
func (m *MRT) DelMFC(src, grp netip.Addr) error {
	if err := checkSG(src, grp); err != nil {
		return fmt.Errorf("mrt table %d: delete MFC: %w", m.table, err)
	}
	c := mrtMFC(src, grp, 0, 0)
	if err := m.setsockopt(mrt6DelMFC, unsafe.Pointer(&c), unsafe.Sizeof(c)); err != nil {
		if errors.Is(err, unix.ENOENT) {
			err = fmt.Errorf("%w: %w", ErrNoMFC, err)
		}
		return fmt.Errorf("mrt table %d: delete MFC (%v,%v): %w", m.table, src, grp, err)
	}
	return nil
}
