package vm

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultCache is where scripts/vm-kernel.sh puts the kernels it fetches
// (one directory per Debian release) unless PIM6SD_VM_CACHE says otherwise.
const DefaultCache = "/var/cache/pim6sd-vm"

// DefaultRelease is the kernel the tests use when the host has no
// multicast routing: Debian 12's (6.1, CONFIG_IPV6_MROUTE=y).
const DefaultRelease = "bookworm"

// Kernel is a kernel image with its modules, as scripts/vm-kernel.sh lays
// them out in a directory: vmlinuz, config, version (the release, as
// uname -r prints it) and lib/modules/VERSION with modules.dep.
type Kernel struct {
	Dir     string // absolute
	Version string
}

// Image is the kernel image.
func (k *Kernel) Image() string { return filepath.Join(k.Dir, "vmlinuz") }

// Modules is the kernel's module directory (lib/modules/VERSION).
func (k *Kernel) Modules() string { return filepath.Join(k.Dir, "lib", "modules", k.Version) }

// Config is the kernel's build configuration (may be missing).
func (k *Kernel) Config() string { return filepath.Join(k.Dir, "config") }

// CacheDir is the kernel cache: PIM6SD_VM_CACHE or DefaultCache.
func CacheDir() string {
	if d := os.Getenv("PIM6SD_VM_CACHE"); d != "" {
		return d
	}
	return DefaultCache
}

// OpenKernel finds a kernel by directory or by release name (a directory
// of the cache: "bookworm", "trixie"). The error says how to fetch one.
func OpenKernel(nameOrDir string) (*Kernel, error) {
	dir := nameOrDir
	if !strings.ContainsRune(nameOrDir, '/') {
		dir = filepath.Join(CacheDir(), nameOrDir)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fetch := fmt.Sprintf("fetch it with `scripts/vm-kernel.sh %s` (as root; `make deps` fetches %s)", filepath.Base(dir), DefaultRelease)
	v, err := os.ReadFile(filepath.Join(dir, "version"))
	if err != nil {
		return nil, fmt.Errorf("vm: no kernel in %s: %w; %s", dir, err, fetch)
	}
	k := &Kernel{Dir: dir, Version: strings.TrimSpace(string(v))}
	for _, p := range []string{k.Image(), filepath.Join(k.Modules(), "modules.dep")} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("vm: kernel %s in %s is incomplete: %w; delete the directory and %s", k.Version, dir, err, fetch)
		}
	}
	return k, nil
}

// moduleName is a module's name as modprobe knows it: the file name
// without directory and .ko[.xz|.zst|.gz], with '-' read as '_'.
func moduleName(path string) string {
	base := filepath.Base(path)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

// modDep is modules.dep: for each module (by name) its file, relative to
// the module directory, and the files it depends on.
type modDep struct {
	file map[string]string
	deps map[string][]string // name -> dependency names
}

func parseModulesDep(r io.Reader) (*modDep, error) {
	md := &modDep{file: map[string]string{}, deps: map[string][]string{}}
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for s.Scan() {
		line++
		text := strings.TrimSpace(s.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		mod, deps, ok := strings.Cut(text, ":")
		if !ok {
			return nil, fmt.Errorf("modules.dep:%d: no ':' in %q", line, text)
		}
		name := moduleName(mod)
		md.file[name] = mod
		for _, d := range strings.Fields(deps) {
			md.deps[name] = append(md.deps[name], moduleName(d))
		}
	}
	return md, s.Err()
}

// loadOrder returns the module files (relative to the module directory)
// that must be loaded, dependencies first, for the wanted modules to be
// present. Wanted modules that are not in modules.dep are built in (or
// missing): they are returned in builtinOrMissing, and the caller decides
// with modules.builtin which.
func (md *modDep) loadOrder(wanted []string) (files, builtinOrMissing []string) {
	done := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if done[name] {
			return
		}
		done[name] = true
		file, ok := md.file[name]
		if !ok {
			builtinOrMissing = append(builtinOrMissing, name)
			return
		}
		// modules.dep lists a module's dependencies so that loading them
		// from last to first works; visiting each first gives the same.
		deps := md.deps[name]
		for i := len(deps) - 1; i >= 0; i-- {
			visit(deps[i])
		}
		files = append(files, file)
	}
	for _, w := range wanted {
		visit(moduleName(w))
	}
	return files, builtinOrMissing
}

// builtins reads modules.builtin: the names of modules compiled into the
// kernel.
func builtins(moddir string) (map[string]bool, error) {
	f, err := os.Open(filepath.Join(moddir, "modules.builtin"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := map[string]bool{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if t := strings.TrimSpace(s.Text()); t != "" {
			b[moduleName(t)] = true
		}
	}
	return b, s.Err()
}

// bootModules are what stage 1 needs to reach the host's files: virtio PCI,
// 9p over virtio, overlayfs, and virtio-rng for the guest's entropy. Each is
// a module on some kernels and built in on others.
var bootModules = []string{"virtio_pci", "virtio_rng", "9pnet_virtio", "9p", "overlay"}

// requiredBoot are the boot modules without which stage 1 cannot work.
var requiredBoot = map[string]bool{"virtio_pci": true, "9pnet_virtio": true, "9p": true, "overlay": true}

// bootModuleFiles resolves bootModules on k: the files to insmod, in order.
func (k *Kernel) bootModuleFiles() ([]string, error) {
	f, err := os.Open(filepath.Join(k.Modules(), "modules.dep"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	md, err := parseModulesDep(f)
	if err != nil {
		return nil, fmt.Errorf("vm: kernel %s: %w", k.Version, err)
	}
	files, other := md.loadOrder(bootModules)
	if len(other) > 0 {
		bi, err := builtins(k.Modules())
		if err != nil {
			return nil, fmt.Errorf("vm: kernel %s: %w", k.Version, err)
		}
		var missing []string
		for _, m := range other {
			if !bi[m] && requiredBoot[m] {
				missing = append(missing, m)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return nil, fmt.Errorf("vm: kernel %s has neither a module nor a built-in for %s", k.Version, strings.Join(missing, ", "))
		}
	}
	return files, nil
}
