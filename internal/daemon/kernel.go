package daemon

import (
	"net/netip"

	"github.com/pim6sd/pim6sd/kernel"
)

// Kernel is what the loop needs from the operating system.
type Kernel interface {
	// Links and Addrs list the interfaces and IPv6 addresses.
	Links() ([]kernel.Link, error)
	Addrs() ([]kernel.Addr, error)

	// AddMIF and DelMIF manage the multicast interfaces of the routing
	// table. A MIF per MLD interface also makes the kernel deliver MLDv1
	// Reports (it needs MRT6_INIT) and put real NICs in allmulti.
	AddMIF(ifindex int) (kernel.MIF, error)
	DelMIF(kernel.MIF) error
	// AddRegisterMIF adds the PIM register MIF (the kernel's pim6reg
	// device): Registers are encapsulated by sending packets to it
	// (WholePkt upcalls) and decapsulated packets arrive on it.
	AddRegisterMIF() (kernel.MIF, error)
	// EnablePIM turns on MRT6_PIM: wrong-MIF upcalls (for Assert and the
	// SPT switch). (Register decapsulation needs only the register MIF.)
	EnablePIM(on bool) error

	// JoinMLD and LeaveMLD make the MLD socket listen on an interface.
	JoinMLD(ifindex int) error
	LeaveMLD(ifindex int) error
	// SendMLD sends an MLD message (checksum filled in) out of ifindex.
	SendMLD(b []byte, ifindex int, src, dst netip.Addr) error

	// JoinPIM and LeavePIM make the PIM socket listen on an interface
	// (ALL-PIM-ROUTERS); SendPIM sends a PIM message (checksum filled in).
	JoinPIM(ifindex int) error
	LeavePIM(ifindex int) error
	SendPIM(b []byte, ifindex int, src, dst netip.Addr) error

	// SetMFC and DelMFC program the kernel's forwarding cache.
	SetMFC(src, grp netip.Addr, iif kernel.MIF, oifs kernel.MIFSet) error
	DelMFC(src, grp netip.Addr) error
	// SGCount reads the kernel's counters of an (S,G) entry.
	SGCount(src, grp netip.Addr) (kernel.SGCounters, error)
	// MIFCount reads a MIF's counters; a MIF the kernel does not have is
	// an error satisfying errors.Is(err, kernel.ErrUnknownMIF).
	MIFCount(kernel.MIF) (kernel.MIFCounters, error)

	// RouteTo is the RPF lookup: the unicast route toward addr.
	RouteTo(addr netip.Addr) (kernel.Route, error)

	// MFCs lists the entries the kernel forwards in the table: a
	// restart's adoption and the kernel audit compare them with the MRIB.
	MFCs() ([]kernel.MFCEntry, error)
	// MIFTable lists the routing socket's MIFs.
	MIFTable() []kernel.MIFEntry
	// Adopted says the routing socket was handed over by the previous
	// instance (a restart): the kernel still holds its MIFs and MFC
	// entries, and they still forward.
	Adopted() bool

	// Start starts the readers; each posts its inputs (input.go) with
	// post until Close.
	Start(post func(Input)) error
	// Close stops the readers and releases the kernel's state (MRT6_DONE
	// removes our MIFs and MFC entries).
	Close() error
	// Release stops the readers and closes the sockets but leaves the
	// routing table as it is, for the next instance to adopt (a restart:
	// the routing socket lives on in a handed-over descriptor).
	Release() error
}
