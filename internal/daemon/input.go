package daemon

import "github.com/pim6sd/pim6sd/kernel"

// Input is one input of the loop: what the kernel's readers post and
// Handle takes. The set is closed (the method is unexported), so a new
// kind of input cannot reach the loop without a case in Handle: posting
// anything else does not compile.
type Input interface{ input() }

// MLDInput is one message read from the MLD socket.
type MLDInput struct {
	Info kernel.RecvInfo
	Data []byte
}

// PIMInput is one message read from the PIM socket.
type PIMInput struct {
	Info kernel.RecvInfo
	Data []byte
}

// UpcallInput is one upcall read from the multicast routing socket.
type UpcallInput struct {
	Upcall kernel.Upcall
}

// NetlinkInput is one event of the netlink subscription: a link, address
// or route change, a resync after lost events, or the subscription's end
// (kernel.Event is itself a closed set).
type NetlinkInput struct {
	Event kernel.Event
}

// MFCChangedInput says the kernel's MFC changed (an rtnetlink
// notification): by us or behind our back. The audit reads it again.
type MFCChangedInput struct{}

// ReaderError is a read failure a reader reports and survives.
type ReaderError struct {
	What string
	Err  error
}

func (MLDInput) input()        {}
func (PIMInput) input()        {}
func (UpcallInput) input()     {}
func (NetlinkInput) input()    {}
func (ReaderError) input()     {}
func (MFCChangedInput) input() {}
