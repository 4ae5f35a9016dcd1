package pim

import (
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
)

// iface is the PIM state of one interface: our Hello state, the neighbors
// and the DR, and the local receivers that MLD reported.
type iface struct {
	index   int
	name    string
	self    netip.Addr   // link-local: the primary address (4.3.4), no zone
	globals []netip.Addr // secondary addresses, sent in the Address List option
	cfg     IfConfig
	genID   uint32 // our Generation ID (4.3.1), new each time PIM starts on the interface

	hello timerq.ID // Hello Timer (4.3.1)
	// helloSent: the neighbors have had a Hello from us with our current
	// address. Before a Join/Prune or an Assert goes out on an interface
	// where it is false, a Hello is sent at once (4.3.1, helloFirst). A new
	// or restarted neighbor clears it: it has not heard us yet and would
	// drop our Join/Prune or Assert.
	helloSent bool

	neighbors   map[addrKey]*neighbor // by primary (link-local) address
	byAddr      map[addrKey]*neighbor // by primary and secondary addresses (4.3.4)
	nbrLimitHit bool

	// The Designated Router (4.3.2).
	dr     netip.Addr
	drSelf bool

	// listeners holds what MLD asked for, per group: the sources included
	// (local_receiver_include(S,G,I)), or EXCLUDE mode
	// (local_receiver_include(*,G,I)) with the sources excluded
	// (local_receiver_exclude(S,G,I)) (4.1.5).
	listeners map[addrKey]listenerSet
	// borderListeners are the listeners MLD reported for groups of a
	// scope zone this interface is at the border of, not used (zones.go).
	borderListeners map[addrKey]ListenerInput

	stats counters
}

// cleanGlobals keeps the addresses that can be secondary addresses of a
// PIM interface: IPv6 unicast, not link-local (that is the primary), no
// zone, sorted and unique.
func cleanGlobals(in []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range in {
		a = a.WithZone("")
		if validSource(a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// isOwn reports whether a is one of our addresses on the interface: a
// Join/Prune whose Upstream Neighbor Address is one of them is for us
// (4.5: "addresses this router"; 4.3.4 lets a neighbor use any of them).
func (ifc *iface) isOwn(a netip.Addr) bool {
	a = a.WithZone("")
	if a == ifc.self {
		return true
	}
	_, ok := slices.BinarySearchFunc(ifc.globals, a, netip.Addr.Compare)
	return ok
}

func (ifc *iface) sortedNeighbors() []*neighbor {
	out := make([]*neighbor, 0, len(ifc.neighbors))
	for _, n := range ifc.neighbors {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *neighbor) int { return a.key.Compare(b.key) })
	return out
}

// SetInterfaceConfig applies a new configuration to the interface, keeping
// its state. A change of what our Hello says (holdtime, DR priority, LAN
// Prune Delay values) is announced by a triggered Hello (4.3.1); a shorter
// Hello_Period brings the next Hello forward; the DR is elected again
// (4.3.2). Timer values (t_periodic, J/P_HoldTime, the override interval)
// apply from the next time they are used. An invalid cfg is refused whole.
func (r *Router) SetInterfaceConfig(now time.Time, ifindex int, cfg IfConfig) ([]Action, error) {
	ifc := r.ifaces[ifindex]
	if ifc == nil || r.closed {
		return nil, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := r.begin(now)
	old := ifc.cfg
	ifc.cfg = cfg
	if at, ok := r.q.When(ifc.hello); ok && at.After(r.abs(n+int64(cfg.HelloPeriod))) {
		r.setHelloTimer(ifc, n+int64(cfg.HelloPeriod))
	}
	if old.HelloHoldtime != cfg.HelloHoldtime || old.DRPriority != cfg.DRPriority ||
		old.PropagationDelay != cfg.PropagationDelay || old.OverrideInterval != cfg.OverrideInterval ||
		old.TrackingSupport != cfg.TrackingSupport {
		r.triggeredHello(ifc, n)
	}
	r.electDR(ifc)
	return r.finish(n), nil
}

// SetAddresses records the interface's addresses. A new link-local address
// is a new primary address (4.3.1): a Hello with Holdtime 0 goes out from
// the old one at once, so that neighbors forget it, then a Hello from the
// new one after a random delay (or at once, before any Join/Prune), and
// the DR is elected again. A change of the global addresses alone is sent
// at once in a Hello with the new Address List (4.3.1), unless our first
// Hello is still to come. An address that is not link-local is ignored (the
// daemon removes the interface instead).
func (r *Router) SetAddresses(now time.Time, ifindex int, linkLocal netip.Addr, globals []netip.Addr) []Action {
	ifc := r.ifaces[ifindex]
	linkLocal = linkLocal.WithZone("")
	if ifc == nil || r.closed || !isLinkLocal6(linkLocal) {
		return nil
	}
	globals = cleanGlobals(globals)
	primary := linkLocal != ifc.self
	secondary := !slices.Equal(globals, ifc.globals)
	if !primary && !secondary {
		return nil
	}
	n := r.begin(now)
	if primary {
		if ifc.helloSent {
			r.sendHelloHoldtime(ifc, ifc.self, 0)
		}
		ifc.self, ifc.globals = linkLocal, globals
		ifc.helloSent = false
		r.triggeredHello(ifc, n)
		r.electDR(ifc)
	} else {
		ifc.globals = globals
		if ifc.helloSent {
			r.sendHello(ifc, n)
		}
	}
	return r.finish(n)
}
