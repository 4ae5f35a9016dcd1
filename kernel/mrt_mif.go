package kernel

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mrtMIF6ctl is struct mif6ctl of include/uapi/linux/mroute6.h (12 bytes:
// the u32 rate limit is 4-aligned, after 2 bytes of padding).
type mrtMIF6ctl struct {
	Mifi      uint16 // mifi_t mif6c_mifi
	Flags     uint8  // mif6c_flags (MIFF_REGISTER)
	Threshold uint8  // vifc_threshold (not used by the IPv6 forwarding path)
	Pifi      uint16 // mif6c_pifi: the ifindex, 16 bits only
	_         [2]byte
	RateLimit uint32 // vifc_rate_limit (not implemented by Linux)
}

// MIFEntry is one MIF as this MRT knows it.
type MIFEntry struct {
	MIF      MIF
	IfIndex  int  // the interface; for the register MIF, the pim6reg device (0 if its lookup failed)
	Register bool // the register MIF (MIFF_REGISTER)
}

type mrtMIFSlot struct {
	used     bool
	ifindex  int
	register bool
}

// AddMIF makes the interface ifindex a MIF (MRT6_ADD_MIF) in the lowest
// free slot and returns it; slots of deleted MIFs are reused. If the
// interface already is a MIF of this MRT, AddMIF returns that MIF and does
// nothing, so callers can re-add after an interface event without checking
// first. When all MaxMIFs slots are taken the error satisfies
// errors.Is(err, ErrNoFreeMIF); a slot the kernel says is taken (a static
// MIF another socket added) is stepped over. A missing interface is an
// error satisfying errors.Is(err, unix.EADDRNOTAVAIL). The kernel turns on
// allmulti on the interface.
func (m *MRT) AddMIF(ifindex int) (MIF, error) {
	if ifindex <= 0 || ifindex > 0xffff {
		// mif6c_pifi is a u16.
		return 0, fmt.Errorf("mrt table %d: add MIF: ifindex %d out of range 1..65535", m.table, ifindex)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range m.mifs {
		if s.used && !s.register && s.ifindex == ifindex {
			return MIF(i), nil
		}
	}
	return m.addMIFLocked(mrtMIF6ctl{Pifi: uint16(ifindex), Threshold: 1}, ifindex)
}

// AddRegisterMIF adds the register MIF (MIFF_REGISTER), for which the
// kernel creates the pim6reg device (pim6reg<table> in a non-default
// table). Packets an MFC entry forwards to it come up as WholePkt upcalls,
// to be sent to the RP in PIM Registers. There is at most one per table;
// if this MRT has it already, AddRegisterMIF returns it. On a kernel
// without CONFIG_IPV6_PIMSM_V2 the error satisfies
// errors.Is(err, ErrNoPIMRegister).
func (m *MRT) AddRegisterMIF() (MIF, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range m.mifs {
		if s.used && s.register {
			return MIF(i), nil
		}
	}
	mif, err := m.addMIFLocked(mrtMIF6ctl{Flags: miffRegister, Threshold: 1}, 0)
	if err != nil {
		return 0, err
	}
	// Ask the socket (it lives in the right namespace) for the device's
	// index. Not knowing it is no reason to fail.
	if idx, err := m.ifIndex(m.RegisterDevice()); err == nil {
		m.mifs[mif].ifindex = idx
	}
	return mif, nil
}

// RegisterDevice is the name the kernel gives the register MIF's device:
// pim6reg in the default table, pim6reg<table> in others.
func (m *MRT) RegisterDevice() string {
	if m.table == rt6TableDefault {
		return "pim6reg"
	}
	return fmt.Sprintf("pim6reg%d", m.table)
}

// addMIFLocked adds the MIF in the lowest free slot. A slot the kernel
// refuses with EADDRINUSE holds a MIF someone else added (a static one:
// root may add MIFs to any table through another socket); the next free
// slot is tried then.
func (m *MRT) addMIFLocked(ctl mrtMIF6ctl, ifindex int) (MIF, error) {
	what := fmt.Sprintf("ifindex %d", ifindex)
	if ctl.Flags&miffRegister != 0 {
		what = "register MIF"
	}
	var busy error
	for slot := range m.mifs {
		if m.mifs[slot].used {
			continue
		}
		ctl.Mifi = uint16(slot)
		err := m.setsockopt(mrt6AddMIF, unsafe.Pointer(&ctl), unsafe.Sizeof(ctl))
		if errors.Is(err, unix.EADDRINUSE) {
			busy = err
			continue
		}
		if err != nil {
			if ctl.Flags&miffRegister != 0 && errors.Is(err, unix.EINVAL) {
				// The kernel has no MIFF_REGISTER (CONFIG_IPV6_PIMSM_V2).
				return 0, ExplainMRTError(m.table, OpAddRegister, err)
			}
			if errors.Is(err, unix.ENFILE) {
				err = fmt.Errorf("%w: %w", ErrNoFreeMIF, err)
			}
			return 0, fmt.Errorf("mrt table %d: add MIF %d for %s: %w", m.table, slot, what, err)
		}
		m.mifs[slot] = mrtMIFSlot{used: true, ifindex: ifindex, register: ctl.Flags&miffRegister != 0}
		return MIF(slot), nil
	}
	if busy != nil {
		// Every free slot of ours is taken in the kernel; for the register
		// MIF this also means the table has one already.
		return 0, fmt.Errorf("mrt table %d: add MIF for %s: every free slot is in use by MIFs of another socket: %w: %w", m.table, what, ErrNoFreeMIF, busy)
	}
	return 0, fmt.Errorf("mrt table %d: add MIF for %s: all %d in use: %w", m.table, what, MaxMIFs, ErrNoFreeMIF)
}

// DelMIF removes a MIF (MRT6_DEL_MIF) and frees its slot for the next
// AddMIF. If the kernel no longer has it (EADDRNOTAVAIL: the kernel removes
// the MIF of an interface that is deleted), DelMIF only frees the slot and
// returns nil: call it when an interface goes away. A MIF this MRT did not
// add is an error satisfying errors.Is(err, ErrUnknownMIF).
func (m *MRT) DelMIF(mif MIF) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mif >= MaxMIFs || !m.mifs[mif].used {
		return fmt.Errorf("mrt table %d: delete MIF %d: %w", m.table, mif, ErrUnknownMIF)
	}
	v := uint16(mif)
	if err := m.setsockopt(mrt6DelMIF, unsafe.Pointer(&v), unsafe.Sizeof(v)); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("mrt table %d: delete MIF %d: %w", m.table, mif, err)
	}
	m.mifs[mif] = mrtMIFSlot{}
	return nil
}

// MIFs lists this MRT's MIFs in index order.
func (m *MRT) MIFs() []MIFEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []MIFEntry
	for i, s := range m.mifs {
		if s.used {
			out = append(out, MIFEntry{MIF: MIF(i), IfIndex: s.ifindex, Register: s.register})
		}
	}
	return out
}

// LookupMIF returns the MIF of interface ifindex, if it has one (the
// register MIF is found by its pim6reg device's index).
func (m *MRT) LookupMIF(ifindex int) (MIF, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range m.mifs {
		if s.used && s.ifindex == ifindex {
			return MIF(i), true
		}
	}
	return 0, false
}

// checkMIFsLocked returns an error naming the first of iif and the members
// of set that is not a MIF of this MRT.
func (m *MRT) checkMIFsLocked(iif MIF, set MIFSet) error {
	if iif >= MaxMIFs || !m.mifs[iif].used {
		return fmt.Errorf("iif %d: %w", iif, ErrUnknownMIF)
	}
	for _, o := range set.MIFs() {
		if !m.mifs[o].used {
			return fmt.Errorf("oif %d: %w", o, ErrUnknownMIF)
		}
	}
	return nil
}

// ifIndex asks the kernel, through the socket and so in the socket's
// namespace, for the index of the interface name (SIOCGIFINDEX).
func (m *MRT) ifIndex(name string) (int, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	var ierr error
	if cerr := m.rc.Control(func(fd uintptr) {
		ierr = unix.IoctlIfreq(int(fd), unix.SIOCGIFINDEX, ifr)
	}); cerr != nil {
		return 0, cerr
	}
	if ierr != nil {
		return 0, ierr
	}
	return int(ifr.Uint32()), nil
}
