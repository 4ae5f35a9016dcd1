package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/pim"
)

// noPIMSMKernel answers MRT6_PIM and the register MIF as a kernel built
// without CONFIG_IPV6_PIMSM_V2 does (ENOPROTOOPT, EINVAL).
type noPIMSMKernel struct{ idleKernel }

func (noPIMSMKernel) EnablePIM(bool) error {
	return kernel.ExplainMRTError(254, kernel.OpPIM, unix.ENOPROTOOPT)
}

func (noPIMSMKernel) AddRegisterMIF() (kernel.MIF, error) {
	return 0, kernel.ExplainMRTError(254, kernel.OpAddRegister, unix.EINVAL)
}

// On a kernel without CONFIG_IPV6_PIMSM_V2 the daemon runs on (SSM needs
// neither the register MIF nor MRT6_PIM) and says once, as an error, what
// is lost, which option is missing and the fix.
func TestRunsWithoutPIMSMKernelOption(t *testing.T) {
	var logs bytes.Buffer
	d, err := New(conf.Default(), noPIMSMKernel{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	// The loop answers: it started and keeps running.
	var hasReg bool
	if err := d.Do(func() { _, hasReg = d.mifOf(pim.RegisterIf) }); err != nil {
		t.Fatalf("the daemon is not running: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if hasReg {
		t.Error("the daemon records a register MIF the kernel refused")
	}
	var errs []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=ERROR") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("%d error records, want exactly 1:\n%s", len(errs), logs.String())
	}
	for _, want := range []string{"CONFIG_IPV6_PIMSM_V2", "SSM works", "any-source multicast will not work",
		"fix=", "pim6sd check-kernel", "MRT6_PIM: protocol not available", "MIFF_REGISTER: invalid argument"} {
		if !strings.Contains(errs[0], want) {
			t.Errorf("the error record lacks %q:\n%s", want, errs[0])
		}
	}
}
