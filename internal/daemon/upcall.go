package daemon

import (
	"errors"
	"strings"
	"time"

	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mrib"
)

// The multicast routing upcalls: NOCACHE for a packet of an (S,G) without
// a forwarding entry (a new source of a (*,G) group), WRONGMIF for one
// that arrived on another MIF than the entry's (the SPT switch and
// Assert), WHOLEPKT for a packet a first-hop router Registers. Each goes
// to the PIM engine with the interface its MIF stands for.

// ifindexOfMIF maps a MIF of an upcall back to what the engine calls it.
// The register MIF is recorded under pim.RegisterIf.
func (d *Daemon) ifindexOfMIF(m kernel.MIF) (int, bool) {
	return d.mrib.IfIndex(uint16(m))
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
		// A NOCACHE for an entry we installed: it was deleted behind our
		// back, unless the upcall was queued before we installed it (the
		// kernel then has the entry). Set it again at once rather than
		// wait for the audit.
		sg := mrib.SG{Source: u.Src, Group: u.Dst}
		if _, installed := d.mrib.InstalledEntry(sg); !installed {
			// nothing of ours
		} else if _, err := d.k.SGCount(u.Src, u.Dst); !errors.Is(err, kernel.ErrNoMFC) {
			// still there: an upcall from before our entry
		} else if ops, lost := d.mrib.Lost(sg); lost {
			d.audit.found.Missing++
			d.logKernel.Warn("audit: an entry was deleted behind our back; set again", "source", u.Src, "group", u.Dst)
			d.applyMRIB(ops)
		}
		d.pimActions(now, d.pim.NoCache(now, ifindex, u.Src, u.Dst))
	case kernel.WrongMIF:
		d.pimActions(now, d.pim.WrongIIF(now, ifindex, u.Src, u.Dst))
	case kernel.WholePkt:
		d.pimActions(now, d.pim.WholePacket(now, u.Src, u.Dst, u.Packet))
	case kernel.WrongMIFWhole:
		// The same event as the WrongMIF that precedes it, with the packet.
	}
}
