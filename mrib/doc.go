// Package mrib is the multicast RIB: the forwarding the protocol engines
// want, per (S,G) with an incoming interface and outgoing interfaces (by
// interface index), turned into kernel MFC operations by MIF number and
// diffed against what is installed, so that only changes reach the kernel.
//
// It is pure: the daemon applies the operations it returns and reports each
// result back (Applied), and tells it which interfaces have MIFs. An entry
// whose incoming interface has no MIF cannot be installed; outgoing
// interfaces without a MIF are left out until they get one.
package mrib
