package daemon

import (
	"time"

	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
	"github.com/pim6sd/pim6sd/pim"
)

func (d *Daemon) receiveMLD(now time.Time, in MLDInput) {
	i := d.ifs[in.Info.IfIndex]
	if i == nil || !i.mldOn {
		return // not an MLD interface (the socket hears every link)
	}
	pkt := mld.Packet{Src: in.Info.Src, Dst: in.Info.Dst, HopLimit: in.Info.HopLimit, RouterAlert: in.Info.RouterAlert, Data: in.Data}
	d.mldActions(now, d.mld.Receive(now, i.index, pkt))
}

func listenerInput(l mld.ListenerUpdate) pim.ListenerInput {
	return pim.ListenerInput{IfIndex: l.IfIndex, Group: l.Group, Exclude: l.Mode == mld.Exclude, Sources: l.Sources}
}

// mldActions carries out what the MLD engine asked for.
func (d *Daemon) mldActions(now time.Time, acts []mld.Action) {
	for _, a := range acts {
		d.publishMLD(now, a) // watch.go
		switch a := a.(type) {
		case mld.SendQuery:
			i := d.ifs[a.IfIndex]
			if i == nil || !i.linkLocal.IsValid() {
				continue
			}
			b, err := mldmsg.Marshal(a.Msg, i.linkLocal, a.Dst)
			if err != nil {
				d.logMLD.Error("cannot encode an MLD query", "iface", i.name, "err", err)
				continue
			}
			if err := d.k.SendMLD(b, i.index, i.linkLocal, a.Dst); err != nil {
				d.logMLD.Warn("sending an MLD query failed", "iface", i.name, "err", err)
			} else {
				d.logMLD.Debug("MLD query sent", "iface", i.name, "dst", a.Dst, "bytes", len(b))
			}
		case mld.ListenerUpdate:
			d.logMLD.Debug("listeners changed", "iface", d.name(a.IfIndex), "group", a.Group, "mode", a.Mode, "sources", a.Sources)
			if i := d.ifs[a.IfIndex]; i != nil && i.pimOn {
				d.pimActions(now, d.pim.SetListeners(now, listenerInput(a)))
			}
		case mld.QuerierChange:
			d.logMLD.Info("MLD querier", "iface", d.name(a.IfIndex), "querier", a.Querier, "self", a.Self)
		case mld.OlderQuerier:
			if a.Present {
				d.logMLD.Warn("an MLDv1 querier is on the link: sending MLDv1 queries", "iface", d.name(a.IfIndex), "querier", a.Querier)
			} else {
				d.logMLD.Info("no MLDv1 querier heard any more: back to MLDv2", "iface", d.name(a.IfIndex))
			}
		case mld.LimitHit:
			d.logMLD.Warn("MLD limit reached; further state is refused", "iface", d.name(a.IfIndex), "kind", a.Kind, "limit", a.Limit, "group", a.Group)
		}
	}
}

func (d *Daemon) name(ifindex int) string {
	if i := d.ifs[ifindex]; i != nil {
		return i.name
	}
	return ""
}

// MLDState returns the MLD engine's state, read on the loop.
func (d *Daemon) MLDState() ([]mld.InterfaceState, error) {
	var out []mld.InterfaceState
	err := d.Do(func() { out = d.mld.Snapshot(d.now()) })
	return out, err
}

// Listeners returns the current listener state per interface and group:
// what PIM consumes as local receivers.
func (d *Daemon) Listeners() ([]mld.ListenerUpdate, error) {
	var out []mld.ListenerUpdate
	err := d.Do(func() {
		for _, i := range d.sortedIfs() {
			out = append(out, d.mld.Listeners(i.index)...)
		}
	})
	return out, err
}
