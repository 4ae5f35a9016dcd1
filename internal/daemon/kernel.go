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

	// JoinMLD and LeaveMLD make the MLD socket listen on an interface.
	JoinMLD(ifindex int) error
	LeaveMLD(ifindex int) error
	// SendMLD sends an MLD message (checksum filled in) out of ifindex.
	SendMLD(b []byte, ifindex int, src, dst netip.Addr) error

	// Start starts the readers; each posts its inputs (MLDInput,
	// kernel.Event) with post until Close.
	Start(post func(any)) error
	// Close stops the readers and releases the kernel's state (MRT6_DONE
	// removes our MIFs and MFC entries).
	Close() error
}

// MLDInput is one message read from the MLD socket.
type MLDInput struct {
	Info kernel.RecvInfo
	Data []byte
}
