package view

import (
	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/pim"
)

// anycastOf is the Anycast-RP set as pim6stat shows it; nil without one.
func anycastOf(a *pim.AnycastState) *ctl.AnycastRP {
	if a == nil {
		return nil
	}
	out := &ctl.AnycastRP{Address: a.Addr, Local: a.Local, Self: a.Self, Members: []ctl.AnycastMember{}}
	for _, m := range a.Members {
		out.Members = append(out.Members, ctl.AnycastMember{
			Address: m.Addr, Self: m.Self,
			RegistersIn: m.RegistersIn, NullRegistersIn: m.NullRegistersIn,
			RegistersOut: m.RegistersOut, NullRegistersOut: m.NullRegistersOut,
			RegisterStopsIn: m.RegisterStopsIn, RegisterStopsOut: m.RegisterStopsOut,
		})
	}
	return out
}
