package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// records parses JSON lines.
func records(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestLogLevelsPerSubsystem(t *testing.T) {
	var b bytes.Buffer
	s := New(&b, JSON, slog.LevelInfo)
	if err := s.SetLevel(PIM, slog.LevelDebug); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLevel(Kernel, slog.LevelError); err != nil {
		t.Fatal(err)
	}
	for _, name := range Subsystems {
		l := s.Logger(name)
		l.Debug("d")
		l.Info("i")
		l.Warn("w")
		l.Error("e")
	}
	var got []string
	for _, r := range records(t, &b) {
		got = append(got, r[Key].(string)+" "+r["msg"].(string))
	}
	want := []string{
		"daemon i", "daemon w", "daemon e",
		"mld i", "mld w", "mld e",
		"pim d", "pim i", "pim w", "pim e",
		"bsr i", "bsr w", "bsr e",
		"kernel e",
		"ctl i", "ctl w", "ctl e",
		"conf i", "conf w", "conf e",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	// Changing one leaves the others.
	wantLevels := []SubsystemLevel{
		{Daemon, slog.LevelInfo}, {MLD, slog.LevelInfo}, {PIM, slog.LevelDebug}, {BSR, slog.LevelInfo},
		{Kernel, slog.LevelError}, {Ctl, slog.LevelInfo}, {Conf, slog.LevelInfo},
	}
	if diff := cmp.Diff(wantLevels, s.Levels()); diff != "" {
		t.Errorf("levels (-want +got):\n%s", diff)
	}
	if err := s.SetLevel(All, slog.LevelWarn); err != nil {
		t.Fatal(err)
	}
	for _, sl := range s.Levels() {
		if sl.Level != slog.LevelWarn {
			t.Errorf("after all=warn: %s at %v", sl.Subsystem, sl.Level)
		}
	}
	// Loggers derived with With keep the subsystem's level.
	b.Reset()
	s.Logger(MLD).With("iface", "eth0").Info("dropped")
	s.Logger(MLD).WithGroup("g").Warn("kept", "x", 1)
	rs := records(t, &b)
	if len(rs) != 1 || rs[0]["msg"] != "kept" || rs[0][Key] != MLD {
		t.Errorf("derived loggers: %v", rs)
	}
}

func TestLogLevelErrors(t *testing.T) {
	s := New(&bytes.Buffer{}, Text, slog.LevelInfo)
	if err := s.SetLevel("routing", slog.LevelDebug); err == nil || !strings.Contains(err.Error(), `unknown log subsystem "routing"`) || !strings.Contains(err.Error(), "pim") {
		t.Errorf("unknown subsystem: %v", err)
	}
	if err := s.SetLevelText(PIM, "loud"); err == nil || !strings.Contains(err.Error(), `unknown log level "loud"`) {
		t.Errorf("unknown level: %v", err)
	}
	if err := s.SetLevelText("PIM", "DEBUG"); err != nil {
		t.Errorf("case: %v", err)
	}
	if l, _ := s.Level(PIM); l != slog.LevelDebug {
		t.Errorf("pim at %v", l)
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "use text or json") {
		t.Errorf("ParseFormat(xml): %v", err)
	}
	for _, c := range []struct {
		in   string
		want slog.Level
	}{{"debug", slog.LevelDebug}, {"Info", slog.LevelInfo}, {"warn", slog.LevelWarn}, {"warning", slog.LevelWarn}, {"error", slog.LevelError}} {
		if l, err := ParseLevel(c.in); err != nil || l != c.want || (c.in != "warning" && LevelName(l) != strings.ToLower(c.in)) {
			t.Errorf("ParseLevel(%q) = %v, %v", c.in, l, err)
		}
	}
}

func TestLogFormats(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		var b bytes.Buffer
		New(&b, JSON, slog.LevelInfo).Logger(BSR).Info("PIM BSR", "bsr", "2001:db8::1", "state", "elected")
		rs := records(t, &b)
		if len(rs) != 1 {
			t.Fatalf("%d records", len(rs))
		}
		for _, k := range []string{"time", "level", "msg", Key, "bsr", "state"} {
			if _, ok := rs[0][k]; !ok {
				t.Errorf("no key %q in %v", k, rs[0])
			}
		}
		if rs[0][Key] != "bsr" || rs[0]["level"] != "INFO" || rs[0]["msg"] != "PIM BSR" {
			t.Errorf("record %v", rs[0])
		}
	})
	t.Run("text", func(t *testing.T) {
		var b bytes.Buffer
		New(&b, Text, slog.LevelInfo).Logger(Kernel).Warn("read failed", "reader", "mld")
		line := b.String()
		for _, want := range []string{"time=", "level=WARN", `msg="read failed"`, "subsys=kernel", "reader=mld"} {
			if !strings.Contains(line, want) {
				t.Errorf("%q lacks %q", line, want)
			}
		}
		if strings.Count(line, "\n") != 1 {
			t.Errorf("not one line: %q", line)
		}
	})
}

func TestLogLevelsConcurrent(t *testing.T) {
	var mu sync.Mutex
	var b bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return b.Write(p)
	})
	s := New(w, JSON, slog.LevelInfo)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 200 {
				lvl := slog.LevelDebug
				if j%2 == 1 {
					lvl = slog.LevelError
				}
				name := Subsystems[(i+j)%len(Subsystems)]
				if j%7 == 0 {
					name = All
				}
				if err := s.SetLevel(name, lvl); err != nil {
					t.Error(err)
				}
				_ = s.Levels()
			}
		}()
		go func() {
			defer wg.Done()
			for j := range 200 {
				s.Logger(Subsystems[(i+j)%len(Subsystems)]).Debug("x", "j", j)
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	records(t, &b) // whatever got through is whole lines
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestLogFallback(t *testing.T) {
	var b bytes.Buffer
	l := Fallback(slog.New(slog.NewJSONHandler(&b, nil)))(MLD)
	l.Debug("hidden")
	l.Info("shown")
	rs := records(t, &b)
	if len(rs) != 1 || rs[0][Key] != "mld" {
		t.Errorf("%v", rs)
	}
}
