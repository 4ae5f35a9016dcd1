package conf

import (
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// global.dump-file-mode: the permission bits of the SIGUSR1 dump, octal
// digits as chmod takes them; 0600 by default (the report lists the
// router's neighbors, groups and sources: only root reads it unless the
// file says otherwise).
func TestDumpFileMode(t *testing.T) {
	if got := Default().Global.DumpFileMode; got != 0o600 {
		t.Errorf("default %v, want 0600", got)
	}
	good := []struct {
		value string
		want  fs.FileMode
	}{
		{`"0600"`, 0o600},
		{`"0640"`, 0o640},
		{`"644"`, 0o644},
		{`"0400"`, 0o400},
		{`"0"`, 0},
	}
	for _, tt := range good {
		t.Run(tt.value, func(t *testing.T) {
			c := mustParse(t, "[global]\ndump-file-mode = "+tt.value+"\n")
			if c.Global.DumpFileMode != tt.want {
				t.Errorf("got %v, want %v", c.Global.DumpFileMode, tt.want)
			}
		})
	}
	bad := []struct {
		value string
		want  string
	}{
		{`0o600`, `3: global.dump-file-mode: expected a string of octal digits such as "0600", found integer 384`},
		{`600`, `3: global.dump-file-mode: expected a string of octal digits such as "0600", found integer 600`},
		{`"rw-------"`, `3: global.dump-file-mode: "rw-------" is not a mode: write octal digits such as "0600" or "0640"`},
		{`"0608"`, `3: global.dump-file-mode: "0608" is not a mode: write octal digits such as "0600" or "0640"`},
		{`""`, `3: global.dump-file-mode: "" is not a mode: write octal digits such as "0600" or "0640"`},
		{`"01600"`, `3: global.dump-file-mode: "01600" has bits beyond the permissions (0777)`},
		{`"4755"`, `3: global.dump-file-mode: "4755" has bits beyond the permissions (0777)`},
		{`"0666"`, `3: global.dump-file-mode: "0666" lets group or others write the dump, which only the daemon writes`},
		{`"0620"`, `3: global.dump-file-mode: "0620" lets group or others write the dump, which only the daemon writes`},
	}
	for _, tt := range bad {
		t.Run(tt.value, func(t *testing.T) {
			got := parseErrors(t, "[global]\nlog-level = \"info\"\ndump-file-mode = "+tt.value+"\n")
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
