package daemon

import (
	"errors"
	"strings"

	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/pim"
)

// Any-source multicast needs the register MIF, the kernel's pim6reg
// device: Registers leave a first-hop router as WHOLEPKT upcalls of
// packets sent to it (upcall.go), and an RP's decapsulated packets arrive
// on it. MRT6_PIM turns on the wrong-MIF upcalls of Assert and the SPT
// switch.

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
	d.applyMRIB(d.mrib.SetMIF(pim.RegisterIf, uint16(mif)))
}
