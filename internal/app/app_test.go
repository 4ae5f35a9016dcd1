package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runMain(args ...string) (int, string, string) {
	var o, e bytes.Buffer
	code := Main(append([]string{"pim6sd"}, args...), &o, &e)
	return code, o.String(), e.String()
}

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pim6sd.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckConfig(t *testing.T) {
	good := write(t, "[mld]\nquery-interval = \"60s\"\n")
	if code, out, errOut := runMain("check-config", good); code != 0 || !strings.Contains(out, good+": ok") {
		t.Fatalf("good file: exit %d, %q %q", code, out, errOut)
	}
	// Every problem is listed, each with file, line and key.
	bad := write(t, "[mld]\nquery-interval = \"soon\"\nrobustness = 9\n[pim]\nhelo-period = \"30s\"\n")
	code, _, errOut := runMain("check-config", bad)
	if code != 1 {
		t.Fatalf("bad file: exit %d", code)
	}
	for _, want := range []string{"3 problem(s)", bad + ":2: mld.query-interval", bad + ":3: mld.robustness", bad + ":5: pim.helo-period"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// A table header without its "]" is reported at its own line, not the
	// next one.
	unclosed := write(t, "[mld]\nrobustness = 2\n[pim\nhello-period = \"30s\"\n")
	if code, _, errOut := runMain("check-config", unclosed); code != 1 || !strings.Contains(errOut, unclosed+":3: syntax error") {
		t.Errorf("unclosed header: exit %d, stderr %q; want line 3", code, errOut)
	}
	if code, _, errOut := runMain("check-config", "/nonexistent.toml"); code != 1 || !strings.Contains(errOut, "no such file") {
		t.Fatalf("missing file: exit %d %q", code, errOut)
	}
	if code, _, _ := runMain("check-config"); code != 2 {
		t.Fatalf("no argument: exit %d, want 2", code)
	}
}

// The example configuration shipped in etc/ is accepted by the daemon.
func TestExampleConfigChecks(t *testing.T) {
	if code, out, errOut := runMain("check-config", "../../etc/pim6sd.toml"); code != 0 {
		t.Fatalf("etc/pim6sd.toml: exit %d %s %s", code, out, errOut)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runMain("version")
	if code != 0 || !strings.HasPrefix(out, "pim6sd ") {
		t.Fatalf("version: exit %d %q", code, out)
	}
}

// Bad start-up arguments stop the daemon before it touches the kernel,
// with a message and a non-zero exit.
func TestStartupErrors(t *testing.T) {
	bad := write(t, "[global]\nmrt-table = \"x\"\n")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad config", []string{"--foreground", "--config", bad}, 1, "global.mrt-table"},
		{"missing config", []string{"--foreground", "--config", "/nonexistent.toml"}, 1, "no such file"},
		{"bad log level", []string{"--foreground", "--log-level", "loud"}, 1, "--log-level"},
		{"stray argument", []string{"--foreground", "start"}, 2, "unexpected argument"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runMain(c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d %q; want exit %d mentioning %q", code, errOut, c.code, c.want)
			}
		})
	}
}
