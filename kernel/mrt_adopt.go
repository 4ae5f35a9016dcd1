package kernel

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrNotMRTOwner: a descriptor handed to AdoptMRT is not the socket that
// owns its multicast routing table.
var ErrNotMRTOwner = errors.New("not the multicast routing socket of the table")

// Handover returns a duplicate of the socket's descriptor without
// close-on-exec, for a successor process that calls AdoptMRT: a daemon
// that executes itself again passes it across exec, so the socket (and
// with it every MIF and MFC entry) outlives the old program. The caller
// owns the file.
func (m *MRT) Handover() (*os.File, error) {
	var nfd int
	var derr error
	if err := m.rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD, 0)
	}); err != nil {
		return nil, fmt.Errorf("mrt table %d: handover: %w", m.table, err)
	}
	if derr != nil {
		return nil, fmt.Errorf("mrt table %d: handover: %w", m.table, derr)
	}
	return os.NewFile(uintptr(nfd), fmt.Sprintf("mrt6-table-%d", m.table)), nil
}

// AdoptMRT takes over the multicast routing socket of table (0 = the
// default) that a previous instance handed over (MRT.Handover, across
// exec, or from systemd's file descriptor store). The kernel kept every
// MIF and MFC entry, since the socket never closed. mifs is the previous
// instance's MIF list (MRT.MIFs): the kernel has no way to list the MIFs
// of a non-default table, so the list says which interface each MIF is;
// entries whose MIF the kernel no longer has (the interface was deleted
// meanwhile) are left out. f is closed; the MRT has its own descriptor.
//
// A descriptor that is not a raw ICMPv6 socket, or one that does not own
// the table, is an error satisfying errors.Is(err, ErrNotMRTOwner).
func AdoptMRT(f *os.File, table uint32, mifs []MIFEntry) (*MRT, error) {
	if table == 0 {
		table = rt6TableDefault
	}
	defer f.Close()
	var nfd int
	var derr error
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("mrt table %d: adopt: %w", table, err)
	}
	if err := rc.Control(func(fd uintptr) { nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, fmt.Errorf("mrt table %d: adopt: %w", table, err)
	}
	if derr != nil {
		return nil, fmt.Errorf("mrt table %d: adopt: %w", table, derr)
	}
	fail := func(err error) (*MRT, error) {
		unix.Close(nfd)
		return nil, fmt.Errorf("mrt table %d: adopt descriptor %d: %w", table, f.Fd(), err)
	}
	for _, o := range []struct {
		opt, want int
		what      string
	}{
		{unix.SO_DOMAIN, unix.AF_INET6, "domain"},
		{unix.SO_TYPE, unix.SOCK_RAW, "type"},
		{unix.SO_PROTOCOL, unix.IPPROTO_ICMPV6, "protocol"},
	} {
		v, err := unix.GetsockoptInt(nfd, unix.SOL_SOCKET, o.opt)
		if err != nil {
			return fail(err)
		}
		if v != o.want {
			return fail(fmt.Errorf("socket %s %d, want %d: %w", o.what, v, o.want, ErrNotMRTOwner))
		}
	}
	// MRT6_TABLE fails with EBUSY on the socket that owns its table and
	// would move any other socket to the table. Without multiple tables
	// the option does not exist; then MRT6_INIT failing with EADDRINUSE
	// says the table is owned (by this socket, if the handover is ours).
	v := table
	err = mrtSetsockopt(uintptr(nfd), unix.IPPROTO_IPV6, mrt6Table, unsafe.Pointer(&v), unsafe.Sizeof(v))
	switch {
	case errors.Is(err, unix.EBUSY):
	case errors.Is(err, unix.ENOPROTOOPT) && table == rt6TableDefault:
		one := int32(1)
		ierr := mrtSetsockopt(uintptr(nfd), unix.IPPROTO_IPV6, mrt6Init, unsafe.Pointer(&one), unsafe.Sizeof(one))
		if ierr == nil {
			// It was no owner and now is one: a fresh table, which is
			// not what a handover means.
			zero := int32(0)
			mrtSetsockopt(uintptr(nfd), unix.IPPROTO_IPV6, mrt6Done, unsafe.Pointer(&zero), unsafe.Sizeof(zero))
			return fail(ErrNotMRTOwner)
		}
		if !errors.Is(ierr, unix.EADDRINUSE) {
			return fail(ierr)
		}
	case err == nil:
		return fail(ErrNotMRTOwner)
	default:
		return fail(err)
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		return fail(err)
	}
	nf := os.NewFile(uintptr(nfd), fmt.Sprintf("mrt6-table-%d", table))
	nrc, err := nf.SyscallConn()
	if err != nil {
		nf.Close()
		return nil, fmt.Errorf("mrt table %d: adopt: %w", table, err)
	}
	m := &MRT{table: table, f: nf, rc: nrc, buf: make([]byte, 1<<16+mrt6msgLen)}
	for _, e := range mifs {
		if e.MIF >= MaxMIFs || m.mifs[e.MIF].used {
			continue
		}
		if _, err := m.MIFCount(e.MIF); err != nil {
			continue // gone: its interface was deleted
		}
		s := mrtMIFSlot{used: true, ifindex: e.IfIndex, register: e.Register}
		if e.Register {
			if idx, err := m.ifIndex(m.RegisterDevice()); err == nil {
				s.ifindex = idx
			}
		}
		m.mifs[e.MIF] = s
	}
	return m, nil
}

// Release closes this MRT's descriptor without MRT6_DONE. With no other
// descriptor of the socket open it is Close (the kernel ends routing on
// the table when the socket closes); with one (Handover), the table lives
// on for whoever holds it.
func (m *MRT) Release() error {
	if m.closed.Swap(true) {
		return fmt.Errorf("mrt table %d: %w", m.table, net.ErrClosed)
	}
	m.mu.Lock()
	m.mifs = [MaxMIFs]mrtMIFSlot{}
	m.mu.Unlock()
	if err := m.f.Close(); err != nil {
		return fmt.Errorf("mrt table %d: release: %w", m.table, err)
	}
	return nil
}

// DefaultTableMIFs reads the MIFs of the default table from
// /proc/net/ip6_mr_vif (in the calling process's network namespace): the
// only listing of MIFs the kernel has, and for the default table only.
// A restarted daemon that was handed the routing socket without its MIF
// list (by systemd's file descriptor store) takes the list from here.
func DefaultTableMIFs() ([]MIFEntry, error) {
	b, err := os.ReadFile("/proc/net/ip6_mr_vif")
	if err != nil {
		return nil, fmt.Errorf("kernel: MIFs: %w", err)
	}
	return parseProcMIFs(string(b), func(name string) (int, error) {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return 0, err
		}
		return ifi.Index, nil
	})
}

// parseProcMIFs parses /proc/net/ip6_mr_vif: a header line, then "MIF
// name bytes-in pkts-in bytes-out pkts-out flags(hex)". A MIF whose
// interface cannot be found is left out.
func parseProcMIFs(s string, index func(string) (int, error)) ([]MIFEntry, error) {
	var out []MIFEntry
	for i, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		if i == 0 || len(f) == 0 {
			continue
		}
		if len(f) != 7 {
			return nil, fmt.Errorf("kernel: MIFs: line %q", l)
		}
		mif, err := strconv.Atoi(f[0])
		if err != nil || mif < 0 || mif >= MaxMIFs {
			return nil, fmt.Errorf("kernel: MIFs: line %q", l)
		}
		flags, err := strconv.ParseUint(f[6], 16, 32)
		if err != nil {
			return nil, fmt.Errorf("kernel: MIFs: line %q", l)
		}
		idx, err := index(f[1])
		if err != nil {
			continue
		}
		out = append(out, MIFEntry{MIF: MIF(mif), IfIndex: idx, Register: flags&miffRegister != 0})
	}
	return out, nil
}
