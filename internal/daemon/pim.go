package daemon

import (
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mrib"
	"github.com/pim6sd/pim6sd/pim"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

func (d *Daemon) receivePIM(now time.Time, in PIMInput) {
	// The engine alone decides what a message on an interface without PIM
	// may do (pim.Router.Receive: the unicast Register, Register-Stop and
	// Candidate-RP-Advertisement count, nothing else), so every message
	// the socket read goes to it.
	d.pimActions(now, d.pim.Receive(now, in.Info.IfIndex, in.Info.Src, in.Info.Dst, in.Data))
}

// pimActions carries out what the PIM engine asked for. The WatchRPF
// actions of one list are answered together with one SetRPFs, so the Joins
// they cause go out aggregated.
func (d *Daemon) pimActions(now time.Time, acts []pim.Action) {
	var watch []pim.RPFUpdate
	for _, a := range acts {
		d.publishPIM(now, a) // watch.go; before a Route reaches the MRIB
		switch a := a.(type) {
		case pim.SendPIM:
			d.sendPIM(a)
		case pim.WatchRPF:
			watch = append(watch, pim.RPFUpdate{Addr: a.Addr, RPF: d.lookupRPF(a.Addr)})
		case pim.UnwatchRPF:
			// The engine keeps the watched addresses and their answers
			// (pim.Router.WatchedRPF, RPFOf): nothing to forget here.
		case pim.Route:
			d.applyMRIB(d.mrib.Set(mrib.Route{SG: mrib.SG{Source: a.Source, Group: a.Group}, IIF: a.IIF, OIFs: a.OIFs}))
		case pim.WatchActivity:
			d.watchActivity(now)
		case pim.UnwatchActivity:
			// The engine no longer lists the entry (WatchedActivity); the
			// polling clock stops at the first poll that finds none.
		case pim.NeighborChange:
			if a.Up {
				d.logPIM.Info("PIM neighbor up", "iface", d.name(a.IfIndex), "neighbor", a.Neighbor, "event", a.Reason)
			} else {
				d.logPIM.Info("PIM neighbor down", "iface", d.name(a.IfIndex), "neighbor", a.Neighbor, "event", a.Reason)
			}
		case pim.DRChange:
			d.logPIM.Info("PIM DR", "iface", d.name(a.IfIndex), "dr", a.DR, "self", a.Self)
		case pim.BSRChange:
			log := d.logBSR
			if a.Zone.IsValid() {
				log = log.With("zone", a.Zone) // an administrative scope zone
			}
			if a.BSR.IsValid() {
				log.Info("PIM BSR", "bsr", a.BSR, "priority", a.Priority, "state", a.State)
			} else {
				log.Info("PIM BSR", "bsr", "none", "state", a.State)
			}
		case pim.RPChange:
			if a.RP.IsValid() {
				d.logBSR.Debug("RP changed", "group", a.Group, "rp", a.RP, "origin", a.Origin)
			} else {
				d.logBSR.Debug("RP changed", "group", a.Group, "rp", "none")
			}
		case pim.LimitHit:
			d.logPIM.Warn("PIM limit reached; further state is refused", "iface", d.name(a.IfIndex), "kind", a.Kind, "limit", a.Limit)
		}
	}
	if len(watch) > 0 {
		d.pimActions(now, d.pim.SetRPFs(now, watch))
	}
}

func (d *Daemon) sendPIM(a pim.SendPIM) {
	src := a.Src
	name := ""
	if a.IfIndex != 0 {
		// Link-local messages go out of the interface the engine names.
		i := d.ifs[a.IfIndex]
		if i == nil {
			return
		}
		name = i.name
		if !src.IsValid() {
			src = i.linkLocal
		}
	}
	// IfIndex 0: a unicast message (Register, Register-Stop) that routing
	// takes out of the right interface; the engine gives its source.
	if !src.IsValid() {
		return
	}
	b, err := pimmsg.Marshal(a.Msg, src, a.Dst)
	if err != nil {
		d.pimLog(a.Msg.Type()).Error("cannot encode a PIM message", "iface", name, "type", a.Msg.Type(), "err", err)
		return
	}
	if err := d.k.SendPIM(b, a.IfIndex, src, a.Dst); err != nil {
		d.pimLog(a.Msg.Type()).Warn("sending a PIM message failed", "iface", name, "dst", a.Dst, "type", a.Msg.Type(), "err", err)
		return
	}
	d.pimLog(a.Msg.Type()).Debug("PIM sent", "iface", name, "dst", a.Dst, "type", a.Msg.Type().String(), "bytes", len(b))
}

// pimLog is the logger of PIM messages of type t: RP discovery's
// (Bootstrap, Candidate-RP-Advertisement) go to the bsr subsystem.
func (d *Daemon) pimLog(t pimmsg.Type) *slog.Logger {
	if t == pimmsg.TypeBootstrap || t == pimmsg.TypeCandidateRPAdvertisement {
		return d.logBSR
	}
	return d.logPIM
}

// applyMRIB carries out kernel forwarding operations and reports each
// result back to the MRIB.
func (d *Daemon) applyMRIB(ops []mrib.Op) {
	for _, op := range ops {
		var err error
		if op.Del {
			err = d.k.DelMFC(op.SG.Source, op.SG.Group)
			if errors.Is(err, kernel.ErrNoMFC) {
				err = nil // already gone (the kernel dropped it with a MIF)
			}
		} else {
			err = d.k.SetMFC(op.SG.Source, op.SG.Group, kernel.MIF(op.IIF), kernel.MIFSet(op.OIFs))
		}
		d.mrib.Applied(op, err)
		if err != nil {
			d.logKernel.Error("programming the kernel's multicast forwarding failed", "source", op.SG.Source, "group", op.SG.Group, "delete", op.Del, "err", err)
		} else {
			d.logKernel.Debug("kernel MFC", "source", op.SG.Source, "group", op.SG.Group, "delete", op.Del, "iif", op.IIF, "oifs", kernel.MIFSet(op.OIFs))
		}
	}
}

// lookupRPF asks the kernel for the unicast route toward addr
// (MRIB.next_hop, RPF_interface).
func (d *Daemon) lookupRPF(addr netip.Addr) pim.RPF {
	r, err := d.k.RouteTo(addr)
	if err != nil {
		if !errors.Is(err, kernel.ErrNoRoute) {
			d.logKernel.Warn("RPF lookup failed", "addr", addr, "err", err)
		}
		return pim.RPF{}
	}
	return pim.RPF{Valid: true, IfIndex: r.LinkIndex, NextHop: r.Gateway, Metric: r.Metric, Preference: preference(r.Protocol)}
}

// preference maps the protocol that installed a route to an administrative
// distance, the Metric Preference of Assert (RFC 7761 4.6): lower wins.
func preference(proto int) uint32 {
	switch proto {
	case 2: // kernel: connected
		return 0
	case 3, 4: // boot, static
		return 1
	case 186: // bgp
		return 20
	case 188: // ospf
		return 110
	case 189: // rip
		return 120
	case 187: // isis
		return 115
	}
	return 150
}

// refreshRPF looks up every watched address again after a routing, link
// or address change and tells PIM what moved. Carrier loss moves no route
// event, so link and address events also get here.
func (d *Daemon) refreshRPF(now time.Time) {
	var changed []pim.RPFUpdate
	for _, addr := range d.pim.WatchedRPF() {
		rpf := d.lookupRPF(addr)
		if cur, ok := d.pim.RPFOf(addr); ok && cur == rpf.Canonical() {
			continue
		}
		changed = append(changed, pim.RPFUpdate{Addr: addr, RPF: rpf})
	}
	if len(changed) > 0 {
		for _, c := range changed {
			d.logPIM.Info("RPF changed", "addr", c.Addr, "iface", d.name(c.RPF.IfIndex), "nexthop", c.RPF.NextHop, "valid", c.RPF.Valid)
		}
		d.pimActions(now, d.pim.SetRPFs(now, changed))
	}
}

// localAddresses tells PIM every global address of the router (loopback
// ones included): I_am_RP, and the source of Registers.
func (d *Daemon) localAddresses(now time.Time) {
	var addrs []netip.Addr
	for _, i := range d.ifs {
		for _, p := range i.globals {
			addrs = append(addrs, p.Addr())
		}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	addrs = slices.Compact(addrs)
	if slices.Equal(addrs, d.local) {
		return
	}
	d.local = addrs
	d.pimActions(now, d.pim.SetLocalAddresses(now, addrs))
}
