package daemon

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mrib"
	"github.com/pim6sd/pim6sd/pim"
)

// Any-source multicast needs three things from the kernel beyond SSM: the
// register MIF (Registers leave a first-hop router as WHOLEPKT upcalls of
// packets sent to it; an RP's decapsulated packets arrive on it), the
// multicast routing upcalls (NOCACHE for a new source of a (*,G) group,
// WRONGMIF for the SPT switch and Assert), and the (S,G) counters, polled
// for the Keepalive Timers and the rate-based SPT switch.

// setupRegister adds the register MIF and turns MRT6_PIM on. Without them
// SSM still works; ASM sources then cannot register. The daemon goes on
// without them rather than stop: an SSM-only router on a kernel without
// CONFIG_IPV6_PIMSM_V2 has all it needs, and ASM's loss is logged as an
// error that names the option and the fix (once, not once per call that
// failed for the same reason).
func (d *Daemon) setupRegister() {
	pimErr := d.k.EnablePIM(true)
	mif, regErr := d.k.AddRegisterMIF()
	var missing *kernel.MissingOptionError
	switch {
	case errors.As(pimErr, &missing) && errors.Is(pimErr, kernel.ErrNoPIMRegister),
		errors.As(regErr, &missing) && errors.Is(regErr, kernel.ErrNoPIMRegister):
		// The errors' own text repeats the explanation; the record gives
		// it once and, as err, only what the kernel answered.
		var answers []string
		for _, err := range []error{pimErr, regErr} {
			var m *kernel.MissingOptionError
			switch {
			case errors.As(err, &m):
				answers = append(answers, m.Op+": "+m.Err.Error())
			case err != nil:
				answers = append(answers, err.Error())
			}
		}
		d.logKernel.Error("the kernel has no PIM-SM support in multicast routing (built without "+missing.Option+
			"): any-source multicast will not work (no Registers, no decapsulation at the RP, no Assert or SPT switch); SSM works",
			"fix", missing.Fix+"; "+kernel.CheckKernelHint, "err", strings.Join(answers, "; "))
	default:
		if pimErr != nil {
			d.logKernel.Error("cannot enable MRT6_PIM: no wrong-interface upcalls (Assert, SPT switch)", "err", pimErr)
		}
		if regErr != nil {
			d.logKernel.Error("cannot add the register MIF: first-hop routers cannot Register, an RP cannot decapsulate", "err", regErr)
		}
	}
	if regErr != nil {
		return
	}
	d.regMIF, d.hasRegMIF = mif, true
	d.applyMRIB(d.mrib.SetMIF(pim.RegisterIf, uint16(mif)))
}

// ifindexOfMIF maps a MIF of an upcall back to what the engine calls it.
func (d *Daemon) ifindexOfMIF(m kernel.MIF) (int, bool) {
	if d.hasRegMIF && m == d.regMIF {
		return pim.RegisterIf, true
	}
	for _, i := range d.ifs {
		if i.hasMIF && i.mif == m {
			return i.index, true
		}
	}
	return 0, false
}

func (d *Daemon) upcall(now time.Time, u kernel.Upcall) {
	if d.upcalls == nil {
		d.upcalls = make(map[string]uint64)
	}
	d.upcalls["upcall/"+strings.ToLower(u.Type.String())]++
	ifindex, ok := d.ifindexOfMIF(u.MIF)
	if !ok {
		return // a MIF we no longer have
	}
	switch u.Type {
	case kernel.NoCache:
		d.pimActions(now, d.pim.NoCache(now, ifindex, u.Src, u.Dst))
	case kernel.WrongMIF:
		d.pimActions(now, d.pim.WrongIIF(now, ifindex, u.Src, u.Dst))
	case kernel.WholePkt:
		d.pimActions(now, d.pim.WholePacket(now, u.Src, u.Dst, u.Packet))
	case kernel.WrongMIFWhole:
		// The same event as the WrongMIF that precedes it, with the packet.
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

// pollActivity reads the counters of the entries PIM watches and reports
// them, every ActivityInterval.
func (d *Daemon) pollActivity(now time.Time) {
	if len(d.activity) == 0 || now.Before(d.nextPoll) {
		return
	}
	sgs := make([]mrib.SG, 0, len(d.activity))
	for sg := range d.activity {
		sgs = append(sgs, sg)
	}
	slices.SortFunc(sgs, func(a, b mrib.SG) int {
		if c := a.Group.Compare(b.Group); c != 0 {
			return c
		}
		return a.Source.Compare(b.Source)
	})
	for _, sg := range sgs {
		c, err := d.k.SGCount(sg.Source, sg.Group)
		if err != nil {
			continue // not installed (yet or any more)
		}
		d.pimActions(now, d.pim.DataActivity(now, sg.Source, sg.Group, c.Packets, c.Bytes))
	}
	d.nextPoll = now.Add(d.activityInterval)
}

func (d *Daemon) watchActivity(now time.Time, sg mrib.SG, on bool) {
	if !on {
		delete(d.activity, sg)
		return
	}
	if len(d.activity) == 0 {
		d.nextPoll = now.Add(d.activityInterval)
	}
	d.activity[sg] = struct{}{}
}
