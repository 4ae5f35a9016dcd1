package sim

import (
	"net/netip"
	"slices"
	"time"
)

// node is what owns interfaces: a *Router or a *Host.
type node interface {
	Name() string
	// receive handles a packet that arrived on ifc.
	receive(ifc *Iface, p *Packet, from *Iface)
	// ifaceChanged is told when ifc's state changed (old is its state
	// before), so that the owner can report it (a router's netlink) or
	// react (a host re-reports its groups).
	ifaceChanged(ifc *Iface, old ifaceState)
}

// Link is a LAN: every frame sent by an attached interface reaches every
// other attached interface (a unicast frame only the one it is for).
type Link struct {
	n      *Net
	name   string
	ifs    []*Iface // attached, in attach order
	up     bool
	silent bool
	delay  time.Duration
}

// Name is the link's name.
func (l *Link) Name() string { return l.name }

// Ifaces lists the attached interfaces in the order they were attached.
func (l *Link) Ifaces() []*Iface { return append([]*Iface(nil), l.ifs...) }

// SetDelay sets this link's delivery delay (Options.Delay by default).
func (l *Link) SetDelay(d time.Duration) { l.delay = d }

// SetUp sets the medium up or down, as if the switch lost power: every
// attached interface loses (or regains) carrier, which its owner sees
// (a netlink LinkEvent with Up false, AdminUp true, LowerUp false;
// addresses and routes stay, as Linux keeps them on carrier loss).
func (l *Link) SetUp(up bool) {
	if l.up == up {
		return
	}
	olds := make([]ifaceState, len(l.ifs))
	for i, ifc := range l.ifs {
		olds[i] = ifc.state()
	}
	l.up = up
	for i, ifc := range l.ifs {
		ifc.changed(olds[i])
	}
}

// SetSilent makes the medium drop every frame (or stop doing so) without
// any interface noticing: neighbors are lost only by their timers.
func (l *Link) SetSilent(silent bool) { l.silent = silent }

// Frames returns the frames sent on this link so far.
func (l *Link) Frames() []Frame {
	var out []Frame
	for _, f := range l.n.frames {
		if f.Link == l.name {
			out = append(out, f)
		}
	}
	return out
}

// Iface is a network interface of a router or host.
type Iface struct {
	owner   node
	name    string
	index   int
	link    *Link // nil when detached
	ll      netip.Addr
	llNext  netip.Addr // a router's second link-local address during SetLinkLocal
	globals []netip.Prefix
	mtu     int
	// downGlobals are the globals an admin down just removed, for the
	// owner to report.
	downGlobals []netip.Prefix

	adminUp bool
	carrier bool // the interface's own carrier (SetCarrier)
	silent  bool
	deleted bool

	loopback bool // a router's lo
	register bool // a router's pim6reg device
}

// ifaceState is what decides what an owner is told.
type ifaceState struct {
	adminUp, lowerUp bool
}

func (i *Iface) state() ifaceState { return ifaceState{i.adminUp, i.lowerUp()} }

// lowerUp is carrier: attached to a link that is up, and the interface's
// own carrier on. lo and the register device always have it.
func (i *Iface) lowerUp() bool {
	if i.loopback || i.register {
		return true
	}
	return !i.deleted && i.carrier && i.link != nil && i.link.up
}

// Up is what Linux calls up and running: administratively up with carrier.
func (i *Iface) Up() bool { return i.adminUp && i.lowerUp() }

// Name is the interface's name on its node.
func (i *Iface) Name() string { return i.name }

// Index is the interface's ifindex on its node.
func (i *Iface) Index() int { return i.index }

// Owner is the name of the router or host the interface belongs to.
func (i *Iface) Owner() string { return i.owner.Name() }

// Link is the link the interface is attached to, nil when detached.
func (i *Iface) Link() *Link { return i.link }

// LinkLocal is the interface's link-local address (invalid while admin
// down: Linux removes it).
func (i *Iface) LinkLocal() netip.Addr {
	if !i.adminUp {
		return netip.Addr{}
	}
	return i.ll
}

// SetLinkLocal gives the interface another link-local address, as `ip
// addr add new dev X; ip addr del old dev X` does: a router's daemon
// sees the new address while the old one is still there (it may send
// from either), then the old one going. Routes that name the old address
// as their next hop stay (the test changes them, as an IGP would).
func (i *Iface) SetLinkLocal(ll string) {
	a := i.n().addr(ll)
	if a == i.ll {
		return
	}
	r, ok := i.owner.(*Router)
	if !ok || !i.adminUp || i.deleted {
		i.ll = a
		return
	}
	r.linkLocalChanged(i, a)
}

// Globals lists the interface's global addresses with their prefix
// lengths.
func (i *Iface) Globals() []netip.Prefix { return slices.Clone(i.globals) }

// MTU is the interface's MTU.
func (i *Iface) MTU() int { return i.mtu }

// SetMTU changes the MTU (the owner sees a LinkEvent).
func (i *Iface) SetMTU(mtu int) {
	old := i.state()
	i.mtu = mtu
	i.changedAlways(old)
}

func (i *Iface) String() string { return i.owner.Name() + "/" + i.name }

// canSend: the interface is up and attached (its owner sees no
// difference when frames are then lost to silence).
func (i *Iface) canSend() bool { return i.Up() && i.link != nil }

// canReceive: the interface is up, attached, not silenced, and its link
// does not drop everything.
func (i *Iface) canReceive() bool {
	return i.Up() && !i.silent && i.link != nil && !i.link.silent
}

// SetUp sets the interface administratively up or down (ip link set dev
// X up/down). As on Linux, going down removes every IPv6 address of the
// interface (global ones included) and every route through it; coming
// up brings back only the link-local address.
func (i *Iface) SetUp(up bool) {
	if i.adminUp == up || i.deleted {
		return
	}
	old := i.state()
	i.adminUp = up
	if !up {
		i.downGlobals, i.globals = i.globals, nil
	}
	i.changed(old)
}

// SetCarrier sets this interface's carrier (a cable pulled at this end):
// the owner sees a LinkEvent; addresses and routes stay.
func (i *Iface) SetCarrier(on bool) {
	if i.carrier == on {
		return
	}
	old := i.state()
	i.carrier = on
	i.changed(old)
}

// SetSilent makes the interface lose every frame it sends or would
// receive, without any state change its owner could see: the neighbor
// loss of a broken path.
func (i *Iface) SetSilent(silent bool) { i.silent = silent }

// Detach unplugs the interface from its link (it loses carrier).
func (i *Iface) Detach() {
	if i.link == nil {
		return
	}
	old := i.state()
	i.link.ifs = slices.DeleteFunc(i.link.ifs, func(x *Iface) bool { return x == i })
	i.link = nil
	i.changed(old)
}

// Attach plugs a detached interface into link l.
func (i *Iface) Attach(l *Link) {
	if i.link != nil {
		i.Detach()
	}
	old := i.state()
	i.link = l
	l.ifs = append(l.ifs, i)
	i.changed(old)
}

// AddAddr adds a global address with its prefix length, e.g.
// "2001:db8:1::1/64" (its owner sees an AddrEvent and, for a router, the
// connected route).
func (i *Iface) AddAddr(prefix string) {
	p := i.n().prefix(prefix)
	if slices.Contains(i.globals, p) {
		return
	}
	i.globals = append(i.globals, p)
	if r, ok := i.owner.(*Router); ok {
		r.addrAdded(i, p)
	}
}

// DelAddr removes a global address.
func (i *Iface) DelAddr(prefix string) {
	p := i.n().prefix(prefix)
	if !slices.Contains(i.globals, p) {
		return
	}
	i.globals = slices.DeleteFunc(i.globals, func(x netip.Prefix) bool { return x == p })
	if r, ok := i.owner.(*Router); ok {
		r.addrRemoved(i, p)
	}
}

// Delete removes the interface from its node, as when a device is
// deleted: a router's daemon sees the link go away, and the kernel drops
// the interface's MIF.
func (i *Iface) Delete() {
	if i.deleted || i.loopback {
		return
	}
	if i.link != nil {
		i.link.ifs = slices.DeleteFunc(i.link.ifs, func(x *Iface) bool { return x == i })
		i.link = nil
	}
	i.deleted = true
	if r, ok := i.owner.(*Router); ok {
		r.ifaceDeleted(i)
	}
}

func (i *Iface) n() *Net {
	switch o := i.owner.(type) {
	case *Router:
		return o.n
	case *Host:
		return o.n
	}
	panic("sim: interface without owner")
}

// changed tells the owner when the visible state moved.
func (i *Iface) changed(old ifaceState) {
	if old == i.state() {
		return
	}
	i.owner.ifaceChanged(i, old)
}

func (i *Iface) changedAlways(old ifaceState) { i.owner.ifaceChanged(i, old) }

// transmit sends p out of from onto its link: to every other attached
// interface, or only to `to` (a unicast frame). It reports whether the
// frame left.
func (n *Net) transmit(from *Iface, p *Packet, to *Iface) bool {
	if !from.canSend() {
		return false
	}
	if p.Len() > from.mtu {
		if r, ok := from.owner.(*Router); ok {
			r.drop("mtu")
		}
		return false
	}
	l := from.link
	f := Frame{At: n.now, Link: l.name, From: from.String(), Packet: p, Lost: from.silent || l.silent}
	if to != nil {
		f.To = to.String()
	}
	n.frames = append(n.frames, f)
	n.trace = append(n.trace, traceLine{at: n.now, frame: len(n.frames) - 1})
	if f.Lost {
		return true
	}
	for _, dst := range l.ifs {
		if dst == from || (to != nil && dst != to) {
			continue
		}
		if !dst.canReceive() {
			continue
		}
		n.schedule(n.now.Add(l.delay), func() {
			// The state may have changed in flight.
			if dst.link == l && dst.canReceive() && !l.silent {
				dst.owner.receive(dst, p, from)
			}
		})
	}
	return true
}

// neighbor finds on from's link the interface (other than from) that
// answers neighbor discovery for addr: its link-local address or one of
// its global addresses (Linux answers only for addresses of the receiving
// interface).
func (n *Net) neighbor(from *Iface, addr netip.Addr) *Iface {
	if from.link == nil {
		return nil
	}
	for _, i := range from.link.ifs {
		if i == from || !i.Up() {
			continue
		}
		if i.LinkLocal() == addr {
			return i
		}
		for _, g := range i.globals {
			if g.Addr() == addr {
				return i
			}
		}
	}
	return nil
}
