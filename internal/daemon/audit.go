package daemon

import (
	"errors"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/pim"
)

// The kernel audit: the daemon compares what the kernel forwards with what
// it installed, and repairs the difference. Another tool or a second
// daemon may delete or change an MFC entry or a MIF behind our back; a
// crashed instance's leftovers may be there. The kernel announces every
// MFC change (kernel.Netlink.SubscribeMFC), so an audit runs auditDelay
// after one; it also runs every global.audit-interval, which catches what
// is not announced (MIFs).

const (
	// auditDelay gathers a burst of changes (ours, when many routes
	// change) into one audit, well inside the 1 s a repair may take.
	auditDelay = 200 * time.Millisecond
)

type auditState struct {
	next time.Time // the next audit; zero before Begin
	runs uint64
	last time.Time
	// lastFound is what the last audit found; found the sum of all.
	lastFound, found ctl.AuditFindings
	// errors counts audits that could not read the kernel.
	errors uint64
}

// mfcChanged is the kernel's notification of an MFC change: audit soon.
func (d *Daemon) mfcChanged(now time.Time) {
	if at := now.Add(auditDelay); d.audit.next.IsZero() || at.Before(d.audit.next) {
		d.audit.next = at
	}
}

// runAudit compares the kernel's MIFs and MFC entries with the MRIB's and
// repairs them.
func (d *Daemon) runAudit(now time.Time) {
	d.audit.next = now.Add(d.auditInterval())
	d.audit.runs++
	d.audit.last = now
	mifs := d.auditMIFs()
	entries, err := d.k.MFCs()
	if err != nil {
		d.audit.errors++
		d.logKernel.Warn("audit: cannot read the kernel's forwarding entries", "err", err)
		return
	}
	ops, res := d.mrib.Audit(d.kernelEntries(entries))
	found := ctl.AuditFindings{Missing: uint64(res.Missing), Changed: uint64(res.Changed), Extra: uint64(res.Extra), MIFs: uint64(mifs)}
	d.audit.lastFound = found
	d.audit.found.Missing += found.Missing
	d.audit.found.Changed += found.Changed
	d.audit.found.Extra += found.Extra
	d.audit.found.MIFs += found.MIFs
	if found.Repairs() > 0 {
		d.logKernel.Warn("audit: the kernel differed from what pim6sd installed; repaired",
			"missing", found.Missing, "changed", found.Changed, "extra", found.Extra, "mifs", mifs)
	}
	d.applyMRIB(ops)
}

// auditMIFs adds again every MIF the kernel lost while the interface (or
// the register MIF) still needs it, and returns how many.
func (d *Daemon) auditMIFs() int {
	repaired := 0
	check := func(ifindex int, add func() (kernel.MIF, error), name string) {
		m, ok := d.mifOf(ifindex)
		if !ok {
			return
		}
		if _, err := d.k.MIFCount(m); !errors.Is(err, kernel.ErrUnknownMIF) {
			return
		}
		// The slot is freed in our books (the kernel has none to delete),
		// the MRIB forgets the MIF and learns the new one: the entries on
		// it are set again.
		_ = d.k.DelMIF(m)
		d.applyMRIB(d.mrib.DelMIF(ifindex))
		nm, err := add()
		if err != nil {
			d.logKernel.Warn("audit: a MIF was removed behind our back and cannot be added again", "iface", name, "mif", m, "err", err)
			return
		}
		d.applyMRIB(d.mrib.SetMIF(ifindex, uint16(nm)))
		repaired++
		d.logKernel.Warn("audit: a MIF was removed behind our back; added again", "iface", name, "old-mif", m, "mif", nm)
	}
	for _, i := range d.sortedIfs() {
		check(i.index, func() (kernel.MIF, error) { return d.k.AddMIF(i.index) }, i.name)
	}
	check(pim.RegisterIf, d.k.AddRegisterMIF, "pim6reg")
	return repaired
}

func (d *Daemon) auditView() ctl.Audit {
	return ctl.Audit{
		Runs: d.audit.runs, Last: d.audit.last, Next: d.audit.next,
		LastFound: d.audit.lastFound, Found: d.audit.found, Errors: d.audit.errors,
	}
}

// auditInterval is global.audit-interval, a minute if it is not set (a
// configuration made in code rather than parsed).
func (d *Daemon) auditInterval() time.Duration {
	if i := d.conf.Global.AuditInterval; i > 0 {
		return i
	}
	return time.Minute
}
