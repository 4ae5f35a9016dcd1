package conf

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// startup-query-response-interval: the Maximum Response Delay of the
// Startup Queries, in [mld] and [interface.mld]; not set, it is the
// query-response-interval (0 in mld.Config).
func TestStartupQueryResponseIntervalKey(t *testing.T) {
	c := mustParse(t, `
[mld]
startup-query-response-interval = "2s"
[[interface]]
name = "eth1"
mld.startup-query-response-interval = "500ms"
`)
	for _, tt := range []struct {
		iface string
		want  time.Duration
	}{{"eth0", 2 * time.Second}, {"eth1", 500 * time.Millisecond}} {
		if m, _ := c.InterfaceMLD(tt.iface); m.StartupQueryResponseInterval != tt.want {
			t.Errorf("%s: %v, want %v", tt.iface, m.StartupQueryResponseInterval, tt.want)
		}
	}
	if m, _ := Default().InterfaceMLD("eth0"); m.StartupQueryResponseInterval != 0 {
		t.Errorf("default %v, want 0 (the query-response-interval)", m.StartupQueryResponseInterval)
	}

	// More than the query-response-interval, or not a delay, is refused
	// at its line; an interface that inherits a value too long for its
	// own query-response-interval, at its [interface.mld] table, as a
	// value not set there.
	bad := []struct {
		name string
		doc  string
		want []string
	}{
		{"longer than the query-response-interval", "[mld]\nquery-response-interval = \"5s\"\nstartup-query-response-interval = \"6s\"\n", []string{
			"3: mld.startup-query-response-interval: 6s is more than query-response-interval 5s: the Startup Queries' answers are meant to come sooner",
		}},
		{"an interface's query-response-interval below the inherited value",
			"[mld]\nstartup-query-response-interval = \"2s\"\n[[interface]]\nname = \"eth2\"\nmld.query-response-interval = \"1s\"\n", []string{
				"5: interface[0].mld.startup-query-response-interval: 2s is more than query-response-interval 1s: the Startup Queries' answers are meant to come sooner (not set here: from [mld] or the default)",
			}},
		{"not a duration", "[mld]\nstartup-query-response-interval = 2\n", []string{
			`2: mld.startup-query-response-interval: expected a duration string such as "125s", found integer 2`,
		}},
		{"zero", "[[interface]]\nname = \"eth0\"\nmld.startup-query-response-interval = \"0s\"\n", []string{
			`3: interface[0].mld.startup-query-response-interval: "0s" must be more than zero`,
		}},
		{"below the 1ms unit", "[mld]\nstartup-query-response-interval = \"10us\"\n", []string{
			"2: mld.startup-query-response-interval: 10µs is less than 1ms, the unit of the Maximum Response Code",
		}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseErrors(t, tt.doc)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
