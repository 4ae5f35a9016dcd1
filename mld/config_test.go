package mld

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestConfigMessages has each rule of Config.Validate that a
// configuration file can break with its exact message: these are what the
// file's user reads (conf names the fields by their keys).
func TestConfigMessages(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"query interval below the QQIC's unit", func(c *Config) {
			c.Version, c.QueryInterval, c.QueryResponseInterval, c.StartupQueryInterval = V2, 500*time.Millisecond, 2*time.Hour, 125*time.Millisecond
		}, []string{
			"QueryInterval: 500ms is less than 1s, the unit of the QQIC (RFC 3810 5.1.9)",
			"QueryResponseInterval: 2h0m0s must be less than QueryInterval 500ms (RFC 3810 9.3)",
		}},
		{"MLDv1 delay", func(c *Config) { c.QueryResponseInterval = 70 * time.Second }, []string{
			"QueryResponseInterval: 1m10s is more than 1m5.535s, the largest an MLDv1 Query can carry (Version includes MLDv1)",
		}},
		{"start-up slower than the query interval", func(c *Config) { c.StartupQueryInterval = 200 * time.Second }, []string{
			"StartupQueryInterval: 3m20s is not in (0, QueryInterval 2m5s]: start-up is meant to be faster (RFC 3810 9.6)",
		}},
		{"counts", func(c *Config) {
			c.StartupQueryCount, c.LastListenerQueryCount, c.MaxGroups, c.MaxSources = 256, 0, 0, -1
		}, []string{
			"StartupQueryCount: 256 is not in 1..255",
			"LastListenerQueryCount: 0 is not in 1..255",
			"MaxGroups: 0 must be at least 1",
			"MaxSources: -1 must be at least 1",
		}},
		{"SSM range", func(c *Config) {
			c.SSMRange = []netip.Prefix{netip.MustParsePrefix("ff3e::1/32"), netip.MustParsePrefix("2001:db8::/32")}
		}, []string{
			"SSMRange[0]: ff3e::1/32 has bits set beyond its length: write ff3e::/32",
			"SSMRange[1]: 2001:db8::/32 is not an IPv6 multicast prefix (ff00::/8 or longer)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mod(&c)
			var got []string
			if err := c.Validate(); err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					fe, ok := e.(*FieldError)
					if !ok {
						t.Fatalf("%T is not a *FieldError: %v", e, e)
					}
					got = append(got, fe.Field+": "+fe.Message(nil))
				}
			}
			diff(t, "errors", tt.want, got)
		})
	}
}

// TestFieldError checks what a caller takes apart: the field, the fields
// the message names, and the message with those named as the caller says.
func TestFieldError(t *testing.T) {
	c := DefaultConfig()
	c.QueryResponseInterval = 200 * time.Second
	err := c.Validate()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("errors.As(%v) found no *FieldError", err)
	}
	diff(t, "first error", []any{"QueryResponseInterval", []string{"Version"}}, []any{fe.Field, fe.Refs()})
	keys := map[string]string{"Version": "version", "QueryInterval": "query-interval"}
	name := func(f string) string { return keys[f] }
	diff(t, "named", "3m20s is more than 1m5.535s, the largest an MLDv1 Query can carry (version includes MLDv1)", fe.Message(name))
	diff(t, "Error", []string{
		"mld: QueryResponseInterval: 3m20s is more than 1m5.535s, the largest an MLDv1 Query can carry (Version includes MLDv1)",
		"mld: QueryResponseInterval: 3m20s must be less than QueryInterval 2m5s (RFC 3810 9.3)",
	}, strings.Split(err.Error(), "\n"))
}

// TestDerive checks the values RFC 3810 derives from others, set only
// where they are zero, and the defaults built with them.
func TestDerive(t *testing.T) {
	got := Config{QueryInterval: 60 * time.Second, Robustness: 3}.Derive()
	diff(t, "derived", []any{15 * time.Second, 3, 3}, []any{got.StartupQueryInterval, got.StartupQueryCount, got.LastListenerQueryCount})
	got = Config{QueryInterval: 60 * time.Second, Robustness: 3, StartupQueryInterval: 7 * time.Second, LastListenerQueryCount: 1}.Derive()
	diff(t, "kept", []any{7 * time.Second, 3, 1}, []any{got.StartupQueryInterval, got.StartupQueryCount, got.LastListenerQueryCount})
	d := DefaultConfig()
	diff(t, "defaults (RFC 3810 9.6, 9.7, 9.9)", []any{31250 * time.Millisecond, 2, 2}, []any{d.StartupQueryInterval, d.StartupQueryCount, d.LastListenerQueryCount})
}
