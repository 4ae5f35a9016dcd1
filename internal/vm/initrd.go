package vm

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/cavaliergopher/cpio"
)

// Busybox is the statically linked busybox of Debian's busybox-static
// package: stage 1 runs on it before the host's root is mounted.
const Busybox = "/bin/busybox"

// Mount tags of the two 9p shares (qemu -virtfs mount_tag) and where the
// run directory appears in the guest.
const (
	tagHostRoot = "hostroot"
	tagRun      = "pim6vm"
	guestRunDir = "/run/pim6vm"
)

// stage1 is the initramfs's /init. @VERSION@ and @MODULES@ (the host path
// of the kernel's module directory, seen through the host's root) are
// filled in by Initrd. It must not use anything but busybox.
const stage1 = `#!/bin/busybox sh
# pim6sd test VM, stage 1 (internal/vm): reach the host's files, then hand
# over to the run directory's init as PID 1 in the host's userland.
/bin/busybox --install -s /bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
die() {
	echo "pim6vm: stage 1: $*"
	echo o >/proc/sysrq-trigger
	sleep 10
}
while read -r m; do
	[ -n "$m" ] && { insmod "/mods/$m" || echo "pim6vm: insmod $m failed"; }
done </mods/order
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose ` + tagHostRoot + ` /lower ||
	die "cannot mount the host's root over 9p"
mount -t tmpfs -o mode=0755 upper /upper
mkdir -p /upper/data /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot ||
	die "cannot make the overlay root"
mount -t tmpfs -o mode=0755 run /newroot/run
mkdir -p /newroot` + guestRunDir + `
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 ` + tagRun + ` /newroot` + guestRunDir + ` ||
	die "cannot mount the run directory over 9p"
mkdir -p /newroot/lib/modules/@VERSION@
mount -o bind "/newroot@MODULES@" /newroot/lib/modules/@VERSION@ ||
	die "cannot bind the kernel's modules"
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash ` + guestRunDir + `/init
`

// Initrd returns the path of an initramfs (gzipped newc cpio) for k,
// building it on first use and reusing it while its inputs are unchanged.
// It is kept in k's directory as initrd-HASH.gz.
func (k *Kernel) Initrd() (string, error) {
	mods, err := k.bootModuleFiles()
	if err != nil {
		return "", err
	}
	bb, err := os.Stat(Busybox)
	if err != nil {
		return "", fmt.Errorf("vm: %w (install Debian's busybox-static: `make deps`)", err)
	}
	if err := checkStatic(Busybox); err != nil {
		return "", err
	}
	init := strings.NewReplacer("@VERSION@", k.Version, "@MODULES@", k.Modules()).Replace(stage1)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%d\x00%s\x00", init, bb.Size(), bb.ModTime().UnixNano(), strings.Join(mods, "\x00"))
	path := filepath.Join(k.Dir, "initrd-"+hex.EncodeToString(h.Sum(nil))[:16]+".gz")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	var buf bytes.Buffer
	if err := writeInitrd(&buf, init, k.Modules(), mods); err != nil {
		return "", fmt.Errorf("vm: initrd for %s: %w", k.Version, err)
	}
	// Old initrds of this kernel are stale: their inputs changed.
	old, _ := filepath.Glob(filepath.Join(k.Dir, "initrd-*.gz"))
	tmp, err := os.CreateTemp(k.Dir, ".initrd-*")
	if err != nil {
		return "", fmt.Errorf("vm: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return "", fmt.Errorf("vm: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("vm: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("vm: %w", err)
	}
	for _, o := range old {
		os.Remove(o)
	}
	return path, nil
}

// checkStatic makes sure path needs no dynamic loader: stage 1 runs before
// any library is reachable, so a dynamically linked busybox (Debian's
// busybox package, not busybox-static) would fail there with no message.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("vm: %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("vm: %s is dynamically linked; stage 1 needs a static one (apt-get install busybox-static)", path)
		}
	}
	return nil
}

// writeInitrd writes the gzipped cpio archive: directories, busybox, /init
// and the boot modules (decompressed: busybox's insmod reads plain .ko)
// with /mods/order listing them in load order.
func writeInitrd(w io.Writer, init, moddir string, mods []string) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	cw := cpio.NewWriter(zw)
	ino := int64(0)
	add := func(name string, mode cpio.FileMode, data []byte) error {
		ino++
		hdr := &cpio.Header{Name: name, Mode: mode, Size: int64(len(data)), Links: 1, Inode: ino}
		if mode&cpio.TypeDir != 0 {
			hdr.Links = 2
		}
		if err := cw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := cw.Write(data)
		return err
	}
	for _, d := range []string{"bin", "dev", "proc", "sys", "mods", "lower", "upper", "newroot"} {
		if err := add(d, cpio.TypeDir|0o755, nil); err != nil {
			return err
		}
	}
	bb, err := os.ReadFile(Busybox)
	if err != nil {
		return err
	}
	if err := add("bin/busybox", cpio.TypeReg|0o755, bb); err != nil {
		return err
	}
	if err := add("init", cpio.TypeReg|0o755, []byte(init)); err != nil {
		return err
	}
	var order strings.Builder
	for i, m := range mods {
		data, err := readModule(filepath.Join(moddir, m))
		if err != nil {
			return err
		}
		name := fmt.Sprintf("%02d-%s.ko", i, moduleName(m))
		if err := add("mods/"+name, cpio.TypeReg|0o644, data); err != nil {
			return err
		}
		order.WriteString(name + "\n")
	}
	if err := add("mods/order", cpio.TypeReg|0o644, []byte(order.String())); err != nil {
		return err
	}
	if err := cw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// readModule reads a module file, decompressing .ko.gz in Go and .ko.xz or
// .ko.zst with the xz or zstd command.
func readModule(path string) ([]byte, error) {
	switch {
	case strings.HasSuffix(path, ".ko"):
		return os.ReadFile(path)
	case strings.HasSuffix(path, ".ko.gz"):
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return io.ReadAll(zr)
	case strings.HasSuffix(path, ".ko.xz"), strings.HasSuffix(path, ".ko.zst"):
		tool := "xz"
		if strings.HasSuffix(path, ".zst") {
			tool = "zstd"
		}
		out, err := exec.Command(tool, "-dc", path).Output()
		if err != nil {
			return nil, fmt.Errorf("%s -dc %s: %w (install %s)", tool, path, err, tool)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: not a kernel module file", path)
}
