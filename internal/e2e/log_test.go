package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

// logRecord is one JSON log line of pim6sd.
type logRecord struct {
	Level  string `json:"level"`
	Msg    string `json:"msg"`
	Subsys string `json:"subsys"`
}

// jsonLog parses every line of out as a JSON log record.
func jsonLog(t *testing.T, out string) []logRecord {
	t.Helper()
	var rs []logRecord
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r logRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line is not JSON: %v: %q", err, line)
		}
		if r.Subsys == "" || r.Msg == "" || r.Level == "" {
			t.Fatalf("log line without subsys, msg or level: %q", line)
		}
		rs = append(rs, r)
	}
	return rs
}

func has(rs []logRecord, subsys, level, msg string) bool {
	for _, r := range rs {
		if r.Subsys == subsys && (level == "" || r.Level == level) && (msg == "" || r.Msg == msg) {
			return true
		}
	}
	return false
}

// JSON logs on stderr with a subsystem per record; `pim6stat log pim debug`
// turns on PIM's debug records and leaves MLD's off.
func TestLogLevelsAtRunTime(t *testing.T) {
	tp := newOneRouter(t)
	// Hellos every 2s: PIM has something to say at debug level soon.
	d := startPim6sd(t, tp.rtr, "[pim]\nhello-period = \"2s\"\ntriggered-hello-delay = \"1s\"\n", "--log-level", "info", "--log-format", "json")
	d.waitFor(5*time.Second, "PIM on both interfaces", func(s *ctl.Snapshot) bool {
		return hasInterface(s, "to-snd") && hasInterface(s, "to-rcv")
	})

	start := jsonLog(t, d.proc.Output())
	for _, w := range [][3]string{
		{"mld", "INFO", "MLD started"},
		{"pim", "INFO", "PIM started"},
		{"daemon", "INFO", "pim6sd running"},
	} {
		if !has(start, w[0], w[1], w[2]) {
			t.Errorf("no %s record %q at start", w[0], w[2])
		}
	}
	if has(start, "pim", "DEBUG", "") || has(start, "mld", "DEBUG", "") {
		t.Errorf("debug records at level info")
	}

	out, err := d.pim6stat("log", "pim", "debug")
	if err != nil {
		t.Fatalf("pim6stat log pim debug: %v\n%s", err, out)
	}
	if !strings.Contains(out, "pim        debug\n") || !strings.Contains(out, "mld        info\n") {
		t.Errorf("pim6stat log pim debug printed:\n%s", out)
	}
	out, err = d.pim6stat("log")
	if err != nil || !strings.Contains(out, "pim        debug\n") || !strings.Contains(out, "kernel     info\n") {
		t.Errorf("pim6stat log: %v\n%s", err, out)
	}
	if out, err := d.pim6stat("log", "routing", "debug"); err == nil || !strings.Contains(out, `unknown log subsystem "routing"`) {
		t.Errorf("unknown subsystem: %v\n%s", err, out)
	}

	// A listener makes MLD's debug record ("listeners changed") due; PIM
	// sends Hellos.
	mark := len(d.proc.Output())
	rcv := joinSSM(t, tp.rcv, "eth0", srcAddr, ssmGrp, 5090)
	d.waitFor(5*time.Second, "the listener is known", func(s *ctl.Snapshot) bool {
		for _, g := range s.Groups {
			if g.Group.String() == ssmGrp {
				return true
			}
		}
		return false
	})
	deadline := time.Now().Add(8 * time.Second)
	var after []logRecord
	for {
		after = jsonLog(t, d.proc.Output()[mark:])
		if has(after, "pim", "DEBUG", "PIM sent") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no PIM debug record after pim6stat log pim debug; log since:\n%s", d.proc.Output()[mark:])
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, sub := range []string{"mld", "kernel", "daemon", "bsr"} {
		if has(after, sub, "DEBUG", "") {
			t.Errorf("%s debug records though only pim was set to debug:\n%s", sub, d.proc.Output()[mark:])
		}
	}

	// MLD had a debug record due: setting mld to debug shows the next.
	if out, err := d.pim6stat("log", "mld", "debug"); err != nil {
		t.Fatalf("pim6stat log mld debug: %v\n%s", err, out)
	}
	mark = len(d.proc.Output())
	rcv.leave()
	deadline = time.Now().Add(8 * time.Second)
	for !has(jsonLog(t, d.proc.Output()[mark:]), "mld", "DEBUG", "listeners changed") {
		if time.Now().After(deadline) {
			t.Fatalf("no MLD debug record after the listener left at mld debug; log since:\n%s", d.proc.Output()[mark:])
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !has(jsonLog(t, d.proc.Output()), "ctl", "INFO", "log level set") {
		t.Errorf("the change is not logged by ctl")
	}
}
