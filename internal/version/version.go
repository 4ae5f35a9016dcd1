// Package version holds the release string both commands print.
package version

import "runtime/debug"

// Version is set at link time by the Makefile
// (-ldflags "-X github.com/pim6sd/pim6sd/internal/version.Version=...").
var Version = ""

// String returns the release, or the module version and VCS revision the
// binary was built from.
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev := ""
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = s.Value[:12]
			}
		}
		if rev != "" {
			return bi.Main.Version + " (" + rev + ")"
		}
		return bi.Main.Version
	}
	return "unknown"
}
