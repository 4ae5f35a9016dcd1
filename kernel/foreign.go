package kernel

import (
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Foreign is a multicast routing socket that does not own its table: what
// another program with CAP_NET_ADMIN (a second daemon, a tool) uses to
// change a table behind its owner's back. Entries and MIFs it adds are
// static (the kernel keeps them when the owner closes). The daemon's
// kernel audit and tests that exercise it use it.
type Foreign struct {
	fd    int
	table uint32
}

// OpenForeign opens a Foreign socket on table (0 = the default) in the
// calling thread's network namespace.
func OpenForeign(table uint32) (*Foreign, error) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
	if err != nil {
		return nil, fmt.Errorf("kernel: foreign routing socket: %w", err)
	}
	if table != 0 {
		v := table
		if err := mrtSetsockopt(uintptr(fd), unix.IPPROTO_IPV6, mrt6Table, unsafe.Pointer(&v), unsafe.Sizeof(v)); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("kernel: foreign routing socket: MRT6_TABLE %d: %w", table, err)
		}
	} else {
		table = rt6TableDefault
	}
	return &Foreign{fd: fd, table: table}, nil
}

// SetMFC adds or replaces the entry (src, grp) with no check of its MIFs.
func (f *Foreign) SetMFC(src, grp netip.Addr, iif MIF, oifs MIFSet) error {
	c := mrtMFC(src, grp, iif, oifs)
	if err := mrtSetsockopt(uintptr(f.fd), unix.IPPROTO_IPV6, mrt6AddMFC, unsafe.Pointer(&c), unsafe.Sizeof(c)); err != nil {
		return fmt.Errorf("kernel: foreign set MFC (%v,%v) in table %d: %w", src, grp, f.table, err)
	}
	return nil
}

// DelMFC deletes the entry (src, grp).
func (f *Foreign) DelMFC(src, grp netip.Addr) error {
	c := mrtMFC(src, grp, 0, 0)
	if err := mrtSetsockopt(uintptr(f.fd), unix.IPPROTO_IPV6, mrt6DelMFC, unsafe.Pointer(&c), unsafe.Sizeof(c)); err != nil {
		return fmt.Errorf("kernel: foreign delete MFC (%v,%v) in table %d: %w", src, grp, f.table, err)
	}
	return nil
}

// DelMIF deletes a MIF.
func (f *Foreign) DelMIF(m MIF) error {
	v := uint16(m)
	if err := mrtSetsockopt(uintptr(f.fd), unix.IPPROTO_IPV6, mrt6DelMIF, unsafe.Pointer(&v), unsafe.Sizeof(v)); err != nil {
		return fmt.Errorf("kernel: foreign delete MIF %d in table %d: %w", m, f.table, err)
	}
	return nil
}

// Close closes the socket; what it added stays.
func (f *Foreign) Close() error { return unix.Close(f.fd) }
