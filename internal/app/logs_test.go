package app

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/logging"
)

func TestLogFormatFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main([]string{"pim6sd", "--foreground", "--log-format", "xml"}, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), `pim6sd: --log-format: unknown log format "xml" (use text or json)`) {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestLogLevelHandler(t *testing.T) {
	logs := logging.New(io.Discard, logging.Text, 0)
	h := logLevelHandler(logs)
	got, err := h(context.Background(), "kernel", "error")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(logging.Subsystems) || got[4] != (ctl.LogLevel{Subsystem: "kernel", Level: "error"}) || got[2].Level != "info" {
		t.Errorf("%+v", got)
	}
	if _, err := h(context.Background(), "kernel", "verbose"); err == nil || !strings.Contains(err.Error(), `unknown log level "verbose"`) {
		t.Errorf("bad level: %v", err)
	}
}

func TestMetricsMaxSGFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main([]string{"pim6sd", "--foreground", "--metrics-max-sg", "-1"}, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "pim6sd: --metrics-max-sg: -1 must not be negative") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}
