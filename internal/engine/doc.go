// Package engine holds what the protocol engines (mld, pim, and pim/bsr,
// the BSR machine of one zone) share and would otherwise each write again:
// engine time and the per-event frame of actions (Frame), the compact
// address key of their maps (Key), and the SSM range of RFC 4607
// (DefaultSSMRange, IsSSM).
//
// It is named for its users: these are the parts of an engine that are
// not protocol. Like the engines it is pure (internal/archtest): it takes
// `now` as an input and imports only the standard library.
package engine
