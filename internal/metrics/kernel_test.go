package metrics

import (
	"testing"

	"github.com/pim6sd/pim6sd/kernel"
)

// The collector states the kernel's MIF limit itself (the package must not
// import kernel, see internal/archtest); this test, which may, keeps the
// copy honest.
func TestMaxMIFsIsTheKernels(t *testing.T) {
	if maxMIFs != kernel.MaxMIFs {
		t.Fatalf("maxMIFs = %d, kernel.MaxMIFs = %d", maxMIFs, kernel.MaxMIFs)
	}
}
