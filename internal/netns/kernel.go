package netns

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"
)

// HaveMRT6 is the kernel's own word on IPv6 multicast routing: it has
// /proc/net/ip6_mr_vif exactly when it was built with CONFIG_IPV6_MROUTE.
func HaveMRT6() bool {
	_, err := os.Stat("/proc/net/ip6_mr_vif")
	return err == nil
}

// KernelConfig reads the running kernel's build configuration, for tests
// that compare what the kernel offers with what it was built with: the
// file PIM6SD_VM_KERNEL_CONFIG names (tools/vmrun sets it for the kernel
// it booted), or else /proc/config.gz where the kernel has one. It returns
// the CONFIG_ options that are set (value "y", "m" or a value) and where it
// read them, or nil and "" when there is neither.
func KernelConfig(t testing.TB) (map[string]string, string) {
	t.Helper()
	var r io.Reader
	src := os.Getenv("PIM6SD_VM_KERNEL_CONFIG")
	if src != "" {
		f, err := os.Open(src)
		if err != nil {
			t.Fatalf("PIM6SD_VM_KERNEL_CONFIG: %v", err)
		}
		defer f.Close()
		r = f
	} else {
		f, err := os.Open("/proc/config.gz")
		if err != nil {
			return nil, ""
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("/proc/config.gz: %v", err)
		}
		src, r = "/proc/config.gz", z
	}
	cfg := map[string]string{}
	s := bufio.NewScanner(r)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), "="); ok && strings.HasPrefix(k, "CONFIG_") {
			cfg[k] = v
		}
	}
	if err := s.Err(); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if len(cfg) == 0 {
		t.Fatalf("%s: no CONFIG_ lines", src)
	}
	return cfg, src
}
