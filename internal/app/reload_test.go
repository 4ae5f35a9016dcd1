package app

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/pim6sd/pim6sd/conf"
	"github.com/pim6sd/pim6sd/internal/logging"
)

// The SIGHUP log line names the keys that changed, not their sections.
// apply stands for the daemon's Reload, which returns conf.Diff of its
// running configuration and the new one.
func TestReloadLogNamesKeys(t *testing.T) {
	path := write(t, "[pim]\nhello-period = \"30s\"\n[[interface]]\nname = \"eth0\"\nmld.query-interval = \"60s\"\n")
	o := options{configPath: path}
	running, err := loadConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("[pim]\nhello-period = \"20s\"\n[[interface]]\nname = \"eth0\"\nmld.query-interval = \"90s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	logs := logging.New(&buf, logging.Text, 0)
	old := running
	apply := func(c *conf.Config) (conf.Changes, error) { return conf.Diff(old, c), nil }
	reload(apply, o, running, logs)
	line := buf.String()
	for _, want := range []string{`msg="SIGHUP: configuration reloaded"`, ` changes="pim.hello-period; interface \"eth0\".mld.query-interval"` + "\n"} {
		if !strings.Contains(line, want) {
			t.Errorf("log:\n%s\nwant a line with\n%s", line, want)
		}
	}
}
