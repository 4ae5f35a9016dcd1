package sim

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/daemon"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// Kernel is a router's simulated Linux kernel as the daemon sees it: it
// implements daemon.Kernel. Its state lives between Start (the daemon's
// sockets open: MRT6_INIT) and Close (MRT6_DONE).
type Kernel struct {
	r *Router

	open    bool
	session int // counts Starts; inputs of an older session are dropped
	// handedOver: Release left the routing table for the next daemon;
	// adopted: this session's daemon took it over.
	handedOver, adopted bool
	// mute stops the MFC change notifications (rtnetlink): for tests of
	// the simulated kernel that program it themselves, so that the
	// daemon's audit does not repair what they set up.
	mute bool

	mifs       [kernel.MaxMIFs]mifSlot
	regDev     *Iface // the pim6reg device while the register MIF exists
	pim        bool   // MRT6_PIM
	wrmifWhole bool   // WRMIFWHOLE upcalls (MRT6_PIM set to 4)

	mfc   map[sgKey]*mfcEntry
	unres []*unresEntry

	mldJoined map[int]bool // the MLD socket's ff02::16 and ff02::2 memberships
	pimJoined map[int]bool // the PIM socket's ff02::d memberships
}

var _ daemon.Kernel = (*Kernel)(nil)

type mifSlot struct {
	used     bool // the daemon holds this slot (until DelMIF)
	gone     bool // the kernel dropped the MIF (its device was deleted)
	ifindex  int
	register bool
}

type sgKey struct{ src, grp netip.Addr }

type mfcEntry struct {
	src, grp   netip.Addr
	iif        kernel.MIF
	oifs       kernel.MIFSet
	packets    uint64
	bytes      uint64
	wrongIf    uint64
	lastAssert time.Time
}

// unresEntry is an (S,G) the kernel reported with NOCACHE and holds
// packets for until an MFC entry resolves it or 10 s pass.
type unresEntry struct {
	key    sgKey
	queued []queuedPacket
	expiry *event
}

type queuedPacket struct {
	arrival *Iface
	p       *Packet
}

// Linux's ip6mr constants.
const (
	unresTimeout  = 10 * time.Second // an unresolved entry's life
	unresMax      = 10               // unresolved entries per table
	unresQueueMax = 4                // packets queued per unresolved entry ("qlen > 3")
	assertThresh  = 3 * time.Second  // MFC_ASSERT_THRESH: wrong-MIF upcalls per entry
)

var errClosed = errors.New("sim: the multicast routing socket is closed")

func (k *Kernel) reset() {
	k.mifs = [kernel.MaxMIFs]mifSlot{}
	k.regDev = nil
	k.pim, k.wrmifWhole = false, false
	for _, u := range k.unres {
		k.r.n.cancel(u.expiry)
	}
	k.mfc = map[sgKey]*mfcEntry{}
	k.unres = nil
	k.mldJoined = map[int]bool{}
	k.pimJoined = map[int]bool{}
}

func (k *Kernel) now() time.Time { return k.r.n.now }

// --- daemon.Kernel ---

// Links lists lo, the interfaces and the register device, by ifindex.
func (k *Kernel) Links() ([]kernel.Link, error) {
	var out []kernel.Link
	for _, i := range k.r.Ifaces() {
		out = append(out, k.r.kernelLink(i))
	}
	return out, nil
}

// Addrs lists the IPv6 addresses: ::1 and the lo addresses, and the
// link-local and global addresses of interfaces that are administratively
// up (Linux removes them on admin down).
func (k *Kernel) Addrs() ([]kernel.Addr, error) {
	var out []kernel.Addr
	for _, i := range k.r.Ifaces() {
		out = append(out, k.r.kernelAddrs(i)...)
	}
	return out, nil
}

// AddMIF makes ifindex a MIF in the lowest free slot (or returns its MIF).
func (k *Kernel) AddMIF(ifindex int) (kernel.MIF, error) {
	if !k.open {
		return 0, errClosed
	}
	i := k.r.ifaceByIndex(ifindex)
	if i == nil || i.register {
		return 0, fmt.Errorf("sim: add MIF: no interface with ifindex %d", ifindex)
	}
	for m, s := range k.mifs {
		if s.used && !s.register && s.ifindex == ifindex {
			return kernel.MIF(m), nil
		}
	}
	m, err := k.freeSlot()
	if err != nil {
		return 0, fmt.Errorf("sim: add MIF for %s: %w", i.name, err)
	}
	k.mifs[m] = mifSlot{used: true, ifindex: ifindex}
	k.r.n.note("%s mif add %d %s", k.r.name, m, i.name)
	return m, nil
}

func (k *Kernel) freeSlot() (kernel.MIF, error) {
	for m, s := range k.mifs {
		if !s.used {
			return kernel.MIF(m), nil
		}
	}
	return 0, fmt.Errorf("all %d in use: %w", kernel.MaxMIFs, kernel.ErrNoFreeMIF)
}

// DelMIF removes a MIF; the register MIF takes its pim6reg device along.
func (k *Kernel) DelMIF(m kernel.MIF) error {
	if !k.open {
		return errClosed
	}
	if m >= kernel.MaxMIFs || !k.mifs[m].used {
		return fmt.Errorf("sim: delete MIF %d: %w", m, kernel.ErrUnknownMIF)
	}
	if k.mifs[m].register {
		k.removeRegDev()
	}
	k.mifs[m] = mifSlot{}
	k.r.n.note("%s mif del %d", k.r.name, m)
	return nil
}

// AddRegisterMIF adds the register MIF and its pim6reg device (one per
// table: an existing one is returned).
func (k *Kernel) AddRegisterMIF() (kernel.MIF, error) {
	if !k.open {
		return 0, errClosed
	}
	for m, s := range k.mifs {
		if s.used && s.register {
			return kernel.MIF(m), nil
		}
	}
	m, err := k.freeSlot()
	if err != nil {
		return 0, fmt.Errorf("sim: add register MIF: %w", err)
	}
	r := k.r
	// ip6mr's reg_vif_setup: no ARP, no multicast flag, MTU 1500 - 48.
	dev := &Iface{owner: r, name: "pim6reg", index: r.nextIndex, mtu: 1500 - ipv6HeaderLen - 8, adminUp: true, carrier: true, register: true}
	r.nextIndex++
	r.ifs = append(r.ifs, dev)
	k.regDev = dev
	k.mifs[m] = mifSlot{used: true, ifindex: dev.index, register: true}
	r.postNetlink(kernel.LinkEvent{Link: r.kernelLink(dev)})
	r.n.note("%s mif add %d pim6reg (register)", r.name, m)
	return m, nil
}

func (k *Kernel) removeRegDev() {
	dev := k.regDev
	if dev == nil {
		return
	}
	k.regDev = nil
	dev.deleted = true
	k.r.postNetlink(kernel.LinkEvent{Link: k.r.kernelLink(dev), Deleted: true})
}

// EnablePIM is MRT6_PIM: wrong-MIF upcalls, with the whole packet too.
// As in Linux, it only acts when the on/off state changes.
func (k *Kernel) EnablePIM(on bool) error {
	if !k.open {
		return errClosed
	}
	if on != k.pim {
		k.pim, k.wrmifWhole = on, on
		k.r.n.note("%s mrt6_pim %v", k.r.name, on)
	}
	return nil
}

// JoinMLD makes the MLD socket listen on an interface (ff02::16, ff02::2).
func (k *Kernel) JoinMLD(ifindex int) error { return k.join(k.mldJoined, ifindex, true) }

// LeaveMLD undoes JoinMLD.
func (k *Kernel) LeaveMLD(ifindex int) error { return k.join(k.mldJoined, ifindex, false) }

// JoinPIM makes the PIM socket listen on an interface (ff02::d).
func (k *Kernel) JoinPIM(ifindex int) error { return k.join(k.pimJoined, ifindex, true) }

// LeavePIM undoes JoinPIM.
func (k *Kernel) LeavePIM(ifindex int) error { return k.join(k.pimJoined, ifindex, false) }

func (k *Kernel) join(set map[int]bool, ifindex int, on bool) error {
	if !k.open {
		return errClosed
	}
	if k.r.ifaceByIndex(ifindex) == nil {
		return fmt.Errorf("sim: join on ifindex %d: no such interface", ifindex)
	}
	if on {
		set[ifindex] = true
	} else {
		delete(set, ifindex)
	}
	return nil
}

// SendMLD sends an MLD message out of ifindex with hop limit 1 and Router
// Alert; as Linux does, the kernel writes the ICMPv6 checksum.
func (k *Kernel) SendMLD(b []byte, ifindex int, src, dst netip.Addr) error {
	if !k.open {
		return errClosed
	}
	i, err := k.sendIface(ifindex, src)
	if err != nil {
		return err
	}
	data := append([]byte(nil), b...)
	if len(data) >= 4 {
		binary.BigEndian.PutUint16(data[2:], 0)
		binary.BigEndian.PutUint16(data[2:], mldmsg.Checksum(data, src, dst))
	}
	p := &Packet{Src: src, Dst: dst, HopLimit: 1, Proto: protoICMPv6, RouterAlert: true, Payload: data}
	if !dst.IsMulticast() {
		return k.r.sendUnicast(p, ifindex)
	}
	if !k.r.n.transmit(i, p, nil) {
		return fmt.Errorf("sim: send MLD on %s: interface down", i.name)
	}
	return nil
}

// SendPIM sends a PIM message as it is (the PIM socket does not touch
// checksums): multicast with hop limit 1 out of ifindex, unicast with hop
// limit 64 along the routes. As with kernel.PIMConn.WriteTo, ifindex 0
// lets routing choose the interface of a unicast message (a Register or
// Register-Stop to a global address).
func (k *Kernel) SendPIM(b []byte, ifindex int, src, dst netip.Addr) error {
	if !k.open {
		return errClosed
	}
	p := &Packet{Src: src, Dst: dst, HopLimit: 64, Proto: protoPIM, Payload: append([]byte(nil), b...)}
	if ifindex == 0 && !dst.IsMulticast() {
		if _, ok := k.r.owns(src); !ok {
			return fmt.Errorf("sim: send PIM to %v: %v is not an address of %s", dst, src, k.r.name)
		}
		return k.r.sendUnicast(p, 0)
	}
	i, err := k.sendIface(ifindex, src)
	if err != nil {
		return err
	}
	if !dst.IsMulticast() {
		return k.r.sendUnicast(p, ifindex)
	}
	p.HopLimit = 1
	if !k.r.n.transmit(i, p, nil) {
		return fmt.Errorf("sim: send PIM on %s: interface down", i.name)
	}
	return nil
}

// sendIface checks a send's interface and source (IPV6_PKTINFO: the
// source must be one of our addresses).
func (k *Kernel) sendIface(ifindex int, src netip.Addr) (*Iface, error) {
	i := k.r.ifaceByIndex(ifindex)
	if i == nil {
		return nil, fmt.Errorf("sim: send on ifindex %d: no such interface", ifindex)
	}
	if _, ok := k.r.owns(src); !ok {
		return nil, fmt.Errorf("sim: send on %s: %v is not an address of %s", i.name, src, k.r.name)
	}
	return i, nil
}

// SetMFC installs or replaces the entry of (src, grp) and forwards the
// packets queued while it was unresolved, as ip6mr_mfc_add does.
func (k *Kernel) SetMFC(src, grp netip.Addr, iif kernel.MIF, oifs kernel.MIFSet) error {
	if !k.open {
		return errClosed
	}
	if !src.Is6() || !grp.IsMulticast() {
		return fmt.Errorf("sim: set MFC (%v,%v): not an IPv6 source and group", src, grp)
	}
	if iif >= kernel.MaxMIFs || !k.mifs[iif].used {
		return fmt.Errorf("sim: set MFC (%v,%v): iif %d: %w", src, grp, iif, kernel.ErrUnknownMIF)
	}
	for _, o := range oifs.MIFs() {
		if !k.mifs[o].used {
			return fmt.Errorf("sim: set MFC (%v,%v): oif %d: %w", src, grp, o, kernel.ErrUnknownMIF)
		}
	}
	key := sgKey{src, grp}
	e := k.mfc[key]
	if e == nil {
		e = &mfcEntry{src: src, grp: grp, lastAssert: k.now().Add(-assertThresh - time.Nanosecond)}
		k.mfc[key] = e
	}
	e.iif, e.oifs = iif, oifs
	k.r.n.note("%s mfc set (%v,%v) iif=%s oifs=%s", k.r.name, src, grp, k.mifName(iif), k.mifNames(oifs))
	k.notify()
	if idx := slices.IndexFunc(k.unres, func(u *unresEntry) bool { return u.key == key }); idx >= 0 {
		u := k.unres[idx]
		k.unres = slices.Delete(k.unres, idx, idx+1)
		k.r.n.cancel(u.expiry)
		for _, q := range u.queued {
			k.forward(e, q.arrival, q.p)
		}
	}
	return nil
}

// DelMFC removes the entry of (src, grp).
func (k *Kernel) DelMFC(src, grp netip.Addr) error {
	if !k.open {
		return errClosed
	}
	key := sgKey{src, grp}
	if k.mfc[key] == nil {
		return fmt.Errorf("sim: delete MFC (%v,%v): %w", src, grp, kernel.ErrNoMFC)
	}
	delete(k.mfc, key)
	k.r.n.note("%s mfc del (%v,%v)", k.r.name, src, grp)
	k.notify()
	return nil
}

// SGCount reads an entry's counters.
func (k *Kernel) SGCount(src, grp netip.Addr) (kernel.SGCounters, error) {
	e := k.mfc[sgKey{src, grp}]
	if !k.open || e == nil {
		return kernel.SGCounters{}, fmt.Errorf("sim: SG count (%v,%v): %w", src, grp, kernel.ErrNoMFC)
	}
	return kernel.SGCounters{Packets: e.packets, Bytes: e.bytes, WrongIf: e.wrongIf}, nil
}

// MIFCount reads a MIF's counters: the simulation keeps none, so it only
// says whether the kernel has the MIF.
func (k *Kernel) MIFCount(m kernel.MIF) (kernel.MIFCounters, error) {
	if !k.open || m >= kernel.MaxMIFs || !k.mifs[m].used || k.mifs[m].gone {
		return kernel.MIFCounters{}, fmt.Errorf("sim: MIF %d count: %w", m, kernel.ErrUnknownMIF)
	}
	return kernel.MIFCounters{}, nil
}

// RouteTo is the RPF lookup on the router's unicast routes.
func (k *Kernel) RouteTo(addr netip.Addr) (kernel.Route, error) { return k.r.routeTo(addr) }

// Start opens the kernel side: MRT6_INIT (which also turns on
// mc_forwarding, so MLDv1 Reports are delivered), the MLD and PIM sockets
// and the netlink subscription. Inputs are delivered by the simulation
// through the daemon's Handle, not through post.
func (k *Kernel) Start(post func(daemon.Input)) error {
	if k.open {
		return errors.New("sim: kernel already started")
	}
	k.adopted = k.handedOver
	if !k.handedOver {
		k.reset()
	}
	k.handedOver = false
	// The MLD and PIM sockets are new either way.
	k.mldJoined = map[int]bool{}
	k.pimJoined = map[int]bool{}
	k.open = true
	k.session++
	return nil
}

// Release is the daemon executing itself again with the routing socket
// handed over: its MLD and PIM sockets close, the MIFs, the MFC and the
// unresolved entries stay (and keep forwarding) for the next Start.
func (k *Kernel) Release() error {
	if !k.open {
		return nil
	}
	k.open = false
	k.handedOver = true
	k.mldJoined = map[int]bool{}
	k.pimJoined = map[int]bool{}
	k.r.n.note("%s routing socket handed over", k.r.name)
	return nil
}

// Adopted says this session's daemon took the routing table over.
func (k *Kernel) Adopted() bool { return k.adopted }

// MIFTable of the daemon.Kernel interface: the MIF table as the routing
// socket knows it.
func (k *Kernel) MIFTable() []kernel.MIFEntry {
	var out []kernel.MIFEntry
	for m, s := range k.mifs {
		if s.used && !s.gone {
			e := kernel.MIFEntry{MIF: kernel.MIF(m), IfIndex: s.ifindex, Register: s.register}
			if s.register && k.regDev != nil {
				e.IfIndex = k.regDev.index
			}
			out = append(out, e)
		}
	}
	return out
}

// MFCs dumps the resolved entries as rtnetlink does: interfaces by index.
func (k *Kernel) MFCs() ([]kernel.MFCEntry, error) {
	var out []kernel.MFCEntry
	ifindex := func(m kernel.MIF) int {
		s := k.mifs[m]
		if s.register && k.regDev != nil {
			return k.regDev.index
		}
		return s.ifindex
	}
	for _, e := range k.sortedMFC() {
		if !k.mifs[e.iif].used || k.mifs[e.iif].gone {
			continue
		}
		me := kernel.MFCEntry{Src: e.src, Grp: e.grp, IIF: ifindex(e.iif),
			Counters: kernel.SGCounters{Packets: e.packets, Bytes: e.bytes, WrongIf: e.wrongIf}}
		for _, o := range e.oifs.MIFs() {
			if k.mifs[o].used && !k.mifs[o].gone {
				me.OIFs = append(me.OIFs, ifindex(o))
			}
		}
		slices.Sort(me.OIFs)
		out = append(out, me)
	}
	return out, nil
}

// Close is the daemon's sockets closing: MRT6_DONE removes the MIFs (the
// register device with its MIF), the MFC and the unresolved entries.
func (k *Kernel) Close() error {
	if !k.open {
		return nil
	}
	k.removeRegDev()
	k.open = false
	k.reset()
	k.r.n.note("%s mrt6_done", k.r.name)
	return nil
}

// --- helpers ---

// mifOf returns the MIF of an interface (-1 if none, or if the kernel
// dropped it).
func (k *Kernel) mifOf(ifindex int) int {
	for m, s := range k.mifs {
		if s.used && !s.gone && s.ifindex == ifindex {
			return m
		}
	}
	return -1
}

// ifaceGone is a device's deletion: the kernel drops its MIF (the daemon's
// DelMIF then only frees the slot).
func (k *Kernel) ifaceGone(ifindex int) {
	for m := range k.mifs {
		if k.mifs[m].used && k.mifs[m].ifindex == ifindex {
			k.mifs[m].gone = true
		}
	}
	delete(k.mldJoined, ifindex)
	delete(k.pimJoined, ifindex)
}

func (k *Kernel) mifName(m kernel.MIF) string {
	if m >= kernel.MaxMIFs {
		return ""
	}
	s := k.mifs[m]
	if !s.used || s.gone {
		return ""
	}
	if s.register {
		return "pim6reg"
	}
	if i := k.r.ifaceByIndex(s.ifindex); i != nil {
		return i.name
	}
	return ""
}

func (k *Kernel) mifNames(set kernel.MIFSet) string {
	var names []string
	for _, m := range set.MIFs() {
		names = append(names, k.mifName(m))
	}
	return fmt.Sprint(names)
}

func (k *Kernel) sortedMFC() []*mfcEntry {
	out := make([]*mfcEntry, 0, len(k.mfc))
	for _, e := range k.mfc {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *mfcEntry) int {
		return cmp.Or(a.grp.Compare(b.grp), a.src.Compare(b.src))
	})
	return out
}

// MIFs lists the MIF table: for each MIF in use, its interface's name
// ("pim6reg" for the register MIF).
func (k *Kernel) MIFs() map[kernel.MIF]string {
	out := map[kernel.MIF]string{}
	for m, s := range k.mifs {
		if s.used && !s.gone {
			out[kernel.MIF(m)] = k.mifName(kernel.MIF(m))
		}
	}
	return out
}

// PIMMode reports MRT6_PIM.
func (k *Kernel) PIMMode() bool { return k.pim }

// Open reports whether the daemon's sockets are open (MRT6_INIT done).
func (k *Kernel) Open() bool { return k.open }

// Unresolved lists the (S,G)s waiting for an MFC entry, with the number
// of packets queued for each.
func (k *Kernel) Unresolved() map[[2]netip.Addr]int {
	out := map[[2]netip.Addr]int{}
	for _, u := range k.unres {
		out[[2]netip.Addr{u.key.src, u.key.grp}] = len(u.queued)
	}
	return out
}

// Tamper changes the MFC as another program would behind the daemon's
// back (a second daemon, a tool with CAP_NET_ADMIN): with oifs nil it
// deletes the entry of (src, grp), otherwise it sets the entry's oifs to
// the MIFs of the named interfaces. The kernel announces the change as
// it announces any.
func (k *Kernel) Tamper(src, grp netip.Addr, oifs ...string) error {
	if len(oifs) == 0 {
		return k.DelMFC(src, grp)
	}
	e := k.mfc[sgKey{src, grp}]
	if e == nil {
		return fmt.Errorf("sim: tamper (%v,%v): %w", src, grp, kernel.ErrNoMFC)
	}
	var set kernel.MIFSet
	for _, name := range oifs {
		i := k.r.Iface(name)
		if i == nil || k.mifOf(i.index) < 0 {
			return fmt.Errorf("sim: tamper: %s has no MIF", name)
		}
		set = set.Add(kernel.MIF(k.mifOf(i.index)))
	}
	return k.SetMFC(src, grp, e.iif, set)
}

// TamperMIF deletes a MIF behind the daemon's back (MRT6_DEL_MIF from
// another socket): nothing announces it.
func (k *Kernel) TamperMIF(ifname string) error {
	i := k.r.Iface(ifname)
	if i == nil || k.mifOf(i.index) < 0 {
		return fmt.Errorf("sim: tamper: %s has no MIF", ifname)
	}
	m := k.mifOf(i.index)
	k.mifs[m].gone = true
	k.r.n.note("%s mif %d of %s deleted behind the daemon's back", k.r.name, m, ifname)
	return nil
}

// notify is rtnetlink's RTNLGRP_IPV6_MROUTE message of an MFC change.
func (k *Kernel) notify() {
	if !k.mute {
		k.r.post(daemon.MFCChangedInput{})
	}
}
