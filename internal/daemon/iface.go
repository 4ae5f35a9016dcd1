package daemon

import (
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/kernel"
)

// iface is the daemon's view of one interface.
type iface struct {
	index     int
	name      string
	up        bool
	multicast bool
	loopback  bool
	register  bool // the kernel's pim6reg device
	mtu       int
	linkLocal netip.Addr
	llBits    int // prefix length of the link-local address
	globals   []netip.Prefix

	// Whether the interface has a MIF, and which, is the MRIB's record
	// (Daemon.mifOf).
	mldOn bool
	pimOn bool
}

// eligible is the rule for running MLD and PIM on an interface at all: up,
// multicast-capable, not loopback, not the register device, with a usable
// link-local address (the source of every MLD and PIM message). The
// configuration then picks among eligible interfaces.
func (i *iface) eligible() bool {
	return i.up && i.multicast && !i.loopback && !i.register && i.linkLocal.IsValid()
}

func (i *iface) globalAddrs() []netip.Addr {
	out := make([]netip.Addr, 0, len(i.globals))
	for _, p := range i.globals {
		out = append(out, p.Addr())
	}
	return out
}

func (d *Daemon) sortedIfs() []*iface {
	out := make([]*iface, 0, len(d.ifs))
	for _, i := range d.ifs {
		out = append(out, i)
	}
	slices.SortFunc(out, func(a, b *iface) int { return a.index - b.index })
	return out
}

func (d *Daemon) ifaceOf(index int) *iface {
	i := d.ifs[index]
	if i == nil {
		i = &iface{index: index}
		d.ifs[index] = i
	}
	return i
}

func (i *iface) setLink(l kernel.Link) {
	i.name = l.Name
	i.up = l.Up
	i.multicast = l.Multicast
	i.loopback = l.Loopback
	i.register = l.LinkType == "pimreg"
	i.mtu = l.MTU
}

// resync reads every link and address again and reconciles: at start and
// after netlink events were lost.
func (d *Daemon) resync(now time.Time) {
	links, err := d.k.Links()
	if err != nil {
		d.logKernel.Error("listing links", "err", err)
		return
	}
	addrs, err := d.k.Addrs()
	if err != nil {
		d.logKernel.Error("listing addresses", "err", err)
		return
	}
	seen := make(map[int]bool)
	for _, l := range links {
		seen[l.Index] = true
		d.ifaceOf(l.Index).setLink(l)
	}
	for idx, i := range d.ifs {
		if !seen[idx] {
			d.stopInterface(now, i)
			delete(d.ifs, idx)
		}
	}
	old := make(map[int]netip.Addr)
	for idx, i := range d.ifs {
		old[idx] = i.linkLocal
		i.linkLocal, i.globals = netip.Addr{}, nil
	}
	for _, a := range addrs {
		if i := d.ifs[a.LinkIndex]; i != nil {
			i.addAddr(a)
		}
	}
	for _, i := range d.sortedIfs() {
		d.addressesChanged(now, i, old[i.index])
		d.reconcile(now, i)
	}
}

func usable(a kernel.Addr) bool { return !a.Tentative && !a.DADFailed }

func (i *iface) addAddr(a kernel.Addr) {
	if !usable(a) {
		return
	}
	if a.LinkLocal {
		// Keep the lowest, so the choice does not depend on event order.
		if !i.linkLocal.IsValid() || a.Prefix.Addr().Less(i.linkLocal) {
			i.linkLocal, i.llBits = a.Prefix.Addr(), a.Prefix.Bits()
		}
		return
	}
	if !slices.Contains(i.globals, a.Prefix) {
		i.globals = append(i.globals, a.Prefix)
		slices.SortFunc(i.globals, func(x, y netip.Prefix) int { return x.Addr().Compare(y.Addr()) })
	}
}

func (i *iface) delAddr(a kernel.Addr) {
	if a.LinkLocal {
		if i.linkLocal == a.Prefix.Addr() {
			i.linkLocal = netip.Addr{}
		}
		return
	}
	i.globals = slices.DeleteFunc(i.globals, func(p netip.Prefix) bool { return p == a.Prefix })
}

func (d *Daemon) linkEvent(now time.Time, ev kernel.LinkEvent) {
	if ev.Deleted {
		if i := d.ifs[ev.Link.Index]; i != nil {
			d.stopInterface(now, i)
			delete(d.ifs, ev.Link.Index)
		}
		return
	}
	i := d.ifaceOf(ev.Link.Index)
	i.setLink(ev.Link)
	d.reconcile(now, i)
}

func (d *Daemon) addrEvent(now time.Time, ev kernel.AddrEvent) {
	i := d.ifs[ev.Addr.LinkIndex]
	if i == nil {
		return // a link not seen yet; its LinkEvent brings a reconcile
	}
	wasLL := i.linkLocal
	if ev.Deleted || !usable(ev.Addr) {
		i.delAddr(ev.Addr)
		if ev.Addr.LinkLocal && !i.linkLocal.IsValid() {
			// Another link-local address may remain: read them again.
			if addrs, err := d.k.Addrs(); err == nil {
				for _, a := range addrs {
					if a.LinkIndex == i.index && a.LinkLocal {
						i.addAddr(a)
					}
				}
			}
		}
	} else {
		i.addAddr(ev.Addr)
	}
	d.addressesChanged(now, i, wasLL)
	d.reconcile(now, i)
}

// addressesChanged tells the running engines about new addresses.
func (d *Daemon) addressesChanged(now time.Time, i *iface, wasLL netip.Addr) {
	if !i.linkLocal.IsValid() {
		return // reconcile stops the engines
	}
	if i.mldOn && i.linkLocal != wasLL {
		d.mldActions(now, d.mld.SetAddress(now, i.index, i.linkLocal))
	}
	if i.pimOn {
		d.pimActions(now, d.pim.SetAddresses(now, i.index, i.linkLocal, i.globalAddrs()))
	}
}

// link is what the configuration needs to know of the interface.
func (i *iface) link() conf.Link { return conf.Link{Name: i.name, MTU: i.mtu} }

// reconcile starts or stops MLD and PIM on an interface to match the
// eligibility rule and the configuration.
func (d *Daemon) reconcile(now time.Time, i *iface) {
	eligible := i.eligible()
	e := d.conf.Engines(i.link())
	wantMLD, wantPIM := eligible && e.RunMLD, eligible && e.RunPIM
	if _, has := d.mifOf(i.index); (wantMLD || wantPIM) && !has {
		mif, err := d.k.AddMIF(i.index)
		if err != nil {
			d.logKernel.Error("cannot add a multicast interface; not running MLD or PIM there", "iface", i.name, "err", err)
			return
		}
		d.applyMRIB(d.mrib.SetMIF(i.index, uint16(mif)))
	}
	if wantMLD && !i.mldOn {
		d.startMLD(now, i)
	} else if !wantMLD && i.mldOn {
		d.stopMLD(now, i)
	}
	if wantPIM && !i.pimOn {
		d.startPIM(now, i)
	} else if !wantPIM && i.pimOn {
		d.stopPIM(now, i)
	}
	if !i.mldOn && !i.pimOn {
		d.dropMIF(i)
	}
}

// mifOf is the MIF of interface ifindex (pim.RegisterIf: the register
// MIF), as the MRIB records it: the one record of which interface is
// which MIF.
func (d *Daemon) mifOf(ifindex int) (kernel.MIF, bool) {
	m, ok := d.mrib.MIF(ifindex)
	return kernel.MIF(m), ok
}

// mifNumber is the interface's MIF for logs, -1 for none.
func (d *Daemon) mifNumber(ifindex int) int {
	if m, ok := d.mifOf(ifindex); ok {
		return int(m)
	}
	return -1
}

// dropMIF removes the interface's MIF, if it has one.
func (d *Daemon) dropMIF(i *iface) {
	mif, ok := d.mifOf(i.index)
	if !ok {
		return
	}
	// May fail when the link is gone: the kernel removed the MIF itself.
	_ = d.k.DelMIF(mif)
	d.applyMRIB(d.mrib.DelMIF(i.index))
}

// stopInterface stops everything on an interface (it went away, or the
// daemon stops).
func (d *Daemon) stopInterface(now time.Time, i *iface) {
	if i.mldOn {
		d.stopMLD(now, i)
	}
	if i.pimOn {
		d.stopPIM(now, i)
	}
	d.dropMIF(i)
}

func (d *Daemon) startMLD(now time.Time, i *iface) {
	cfg := d.conf.Engines(i.link()).MLD
	if err := d.k.JoinMLD(i.index); err != nil {
		d.logMLD.Error("cannot listen for MLD; not running MLD there", "iface", i.name, "err", err)
		return
	}
	acts, err := d.mld.AddInterface(now, i.index, i.name, i.linkLocal, cfg)
	if err != nil {
		d.logMLD.Error("bad MLD configuration; not running MLD there", "iface", i.name, "err", err)
		_ = d.k.LeaveMLD(i.index)
		return
	}
	i.mldOn = true
	d.logMLD.Info("MLD started", "iface", i.name, "ifindex", i.index, "mif", d.mifNumber(i.index), "address", i.linkLocal)
	d.mldActions(now, acts)
}

func (d *Daemon) stopMLD(now time.Time, i *iface) {
	d.mldActions(now, d.mld.RemoveInterface(now, i.index))
	_ = d.k.LeaveMLD(i.index)
	i.mldOn = false
	d.logMLD.Info("MLD stopped", "iface", i.name, "ifindex", i.index)
}

func (d *Daemon) startPIM(now time.Time, i *iface) {
	if err := d.k.JoinPIM(i.index); err != nil {
		d.logPIM.Error("cannot listen for PIM; not running PIM there", "iface", i.name, "err", err)
		return
	}
	acts, err := d.pim.AddInterface(now, i.index, i.name, i.linkLocal, i.globalAddrs(), d.conf.Engines(i.link()).PIMInterface)
	if err != nil {
		d.logPIM.Error("bad PIM configuration; not running PIM there", "iface", i.name, "err", err)
		_ = d.k.LeavePIM(i.index)
		return
	}
	i.pimOn = true
	d.logPIM.Info("PIM started", "iface", i.name, "ifindex", i.index, "mif", d.mifNumber(i.index), "address", i.linkLocal)
	d.pimActions(now, acts)
	// PIM forgets an interface's listeners when it is removed and MLD only
	// reports changes: give it what MLD knows.
	for _, l := range d.mld.Listeners(i.index) {
		d.pimActions(now, d.pim.SetListeners(now, listenerInput(l)))
	}
}

func (d *Daemon) stopPIM(now time.Time, i *iface) {
	d.pimActions(now, d.pim.RemoveInterface(now, i.index))
	_ = d.k.LeavePIM(i.index)
	i.pimOn = false
	d.logPIM.Info("PIM stopped", "iface", i.name, "ifindex", i.index)
}
