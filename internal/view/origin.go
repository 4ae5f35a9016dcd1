package view

import (
	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/pim"
)

// rpOrigin is the control protocol's word (ctl.RPOrigin...) for where the
// PIM engine's RP(G) comes from (pim.Origin...): the one place where the
// engine's vocabulary becomes the wire's, so that the engine can name its
// origins as it likes and pim6stat, the metrics and scripts see one
// stable set. An origin it does not know, or none, is "".
func rpOrigin(origin string) string {
	switch origin {
	case pim.OriginStatic:
		return ctl.RPOriginStatic
	case pim.OriginStaticOverride:
		return ctl.RPOriginOverride
	case pim.OriginBSR:
		return ctl.RPOriginBSR
	case pim.OriginEmbedded:
		return ctl.RPOriginEmbedded
	}
	return ""
}
