// Package tiny is the test binary internal/vm's own test runs through the
// VM runner: one test passes (and says which kernel it ran on), one fails,
// one panics. It is under testdata so that `go test ./...` never runs it.
package tiny

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestPass(t *testing.T) {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	wd, _ := os.Getwd()
	t.Logf("tiny: kernel %s, in %s, PIM6SD_VM=%s", b.String(), wd, os.Getenv("PIM6SD_VM"))
}

func TestFail(t *testing.T) {
	t.Error("tiny: failing on purpose")
}

func TestPanic(t *testing.T) {
	panic("tiny: panicking on purpose")
}
