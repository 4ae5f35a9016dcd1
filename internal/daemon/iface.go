package daemon

import (
	"net/netip"
	"slices"
	"time"

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
	linkLocal netip.Addr
	globals   []netip.Prefix

	active bool // MLD runs here
	mif    kernel.MIF
}

// eligible is the default rule for running MLD (and PIM) on an interface:
// up, multicast-capable, not loopback, not the register device, with a
// usable link-local address (the source of every MLD and PIM message).
func (i *iface) eligible() bool {
	return i.up && i.multicast && !i.loopback && !i.register && i.linkLocal.IsValid()
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
}

// resync reads every link and address again and reconciles: at start and
// after netlink events were lost.
func (d *Daemon) resync(now time.Time) {
	links, err := d.k.Links()
	if err != nil {
		d.log.Error("listing links", "err", err)
		return
	}
	addrs, err := d.k.Addrs()
	if err != nil {
		d.log.Error("listing addresses", "err", err)
		return
	}
	seen := make(map[int]bool)
	for _, l := range links {
		seen[l.Index] = true
		d.ifaceOf(l.Index).setLink(l)
	}
	for idx, i := range d.ifs {
		if !seen[idx] {
			if i.active {
				d.deactivate(now, i)
			}
			delete(d.ifs, idx)
		}
	}
	for _, i := range d.ifs {
		i.linkLocal, i.globals = netip.Addr{}, nil
	}
	for _, a := range addrs {
		if i := d.ifs[a.LinkIndex]; i != nil {
			i.addAddr(a)
		}
	}
	for _, i := range d.sortedIfs() {
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
			i.linkLocal = a.Prefix.Addr()
		}
		return
	}
	if !slices.Contains(i.globals, a.Prefix) {
		i.globals = append(i.globals, a.Prefix)
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
			if i.active {
				d.deactivate(now, i)
			}
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
		return // an address of a link not seen yet; its LinkEvent follows with a resync of addresses
	}
	wasLL := i.linkLocal
	if ev.Deleted || !usable(ev.Addr) {
		i.delAddr(ev.Addr)
		if ev.Deleted && ev.Addr.LinkLocal && i.linkLocal == (netip.Addr{}) {
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
	if i.active && i.linkLocal.IsValid() && i.linkLocal != wasLL {
		d.mldActions(now, d.mld.SetAddress(now, i.index, i.linkLocal))
	}
	d.reconcile(now, i)
}

// reconcile starts or stops MLD on an interface to match eligible().
func (d *Daemon) reconcile(now time.Time, i *iface) {
	switch want := i.eligible(); {
	case want && !i.active:
		d.activate(now, i)
	case !want && i.active:
		d.deactivate(now, i)
	}
}

func (d *Daemon) activate(now time.Time, i *iface) {
	mif, err := d.k.AddMIF(i.index)
	if err != nil {
		d.log.Error("cannot add a multicast interface; not running MLD there", "iface", i.name, "err", err)
		return
	}
	if err := d.k.JoinMLD(i.index); err != nil {
		d.log.Error("cannot listen for MLD; not running MLD there", "iface", i.name, "err", err)
		_ = d.k.DelMIF(mif)
		return
	}
	acts, err := d.mld.AddInterface(now, i.index, i.name, i.linkLocal, d.cfg.MLD)
	if err != nil {
		d.log.Error("bad MLD configuration; not running MLD there", "iface", i.name, "err", err)
		_ = d.k.LeaveMLD(i.index)
		_ = d.k.DelMIF(mif)
		return
	}
	i.active, i.mif = true, mif
	d.log.Info("interface up: running MLD", "iface", i.name, "ifindex", i.index, "mif", int(mif), "address", i.linkLocal)
	d.mldActions(now, acts)
}

func (d *Daemon) deactivate(now time.Time, i *iface) {
	d.mldActions(now, d.mld.RemoveInterface(now, i.index))
	// Either may fail when the link is already gone; the kernel then has
	// dropped the membership and the MIF itself.
	_ = d.k.LeaveMLD(i.index)
	_ = d.k.DelMIF(i.mif)
	i.active = false
	d.log.Info("interface down: MLD stopped", "iface", i.name, "ifindex", i.index)
}
