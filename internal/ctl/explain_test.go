package ctl_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/pim6sd/pim6sd/internal/ctl"
)

func TestParseExplainArgs(t *testing.T) {
	for _, tc := range []struct {
		src, grp string
		err      string
	}{
		{"2001:db8::1", "ff3e::1", ""},
		{"", "ff0e::1", ""},
		{"", "", "no group given"},
		{"", "nonsense", `group "nonsense" is not an IPv6 address`},
		{"", "239.1.1.1", "not an IPv6 address (pim6sd routes IPv6 only)"},
		{"", "2001:db8::1", "is not a multicast address"},
		{"", "ff3e::1%eth0", "takes no zone"},
		{"ff3e::1", "ff3e::2", "give SOURCE GROUP, in that order"},
		{"fe80::1", "ff3e::1", "link-local"},
		{"::", "ff3e::1", "unspecified"},
		{"x", "ff3e::1", `source "x" is not an IPv6 address`},
	} {
		_, _, err := ctl.ParseExplainArgs(tc.src, tc.grp)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("(%q, %q): %v", tc.src, tc.grp, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("(%q, %q): error %v, want one containing %q", tc.src, tc.grp, err, tc.err)
		}
	}
}

func TestExplainCommand(t *testing.T) {
	var gotSrc, gotGrp netip.Addr
	h := ctl.Handler{Explain: func(_ context.Context, s, g netip.Addr) (*ctl.Explain, error) {
		gotSrc, gotGrp = s, g
		return &ctl.Explain{Source: s, Group: g, Mode: "ssm", Verdict: ctl.ExplainVerdict{Summary: "forwarding to eth1"}}, nil
	}}
	s := serve(t, ctl.ServerConfig{}, h)
	cl := &ctl.Client{Path: s.Path()}
	src, grp := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("ff3e::1")
	e, err := cl.Explain(context.Background(), src, grp)
	if err != nil {
		t.Fatal(err)
	}
	if gotSrc != src || gotGrp != grp || e.Verdict.Summary != "forwarding to eth1" {
		t.Errorf("handler got (%v,%v), answer %+v", gotSrc, gotGrp, e)
	}
	// (*,G): no source.
	if _, err := cl.Explain(context.Background(), netip.Addr{}, grp); err != nil || gotSrc.IsValid() {
		t.Errorf("(*,G): err %v, source %v", err, gotSrc)
	}
	// The server checks the arguments too.
	_, err = cl.Do(context.Background(), ctl.Request{Version: ctl.ProtocolVersion, Command: ctl.CommandExplain, Group: "2001:db8::5"})
	var de *ctl.DaemonError
	if !errors.As(err, &de) || !strings.Contains(de.Msg, "explain: group 2001:db8::5 is not a multicast address") {
		t.Errorf("bad group: %v", err)
	}
	// A daemon without the command says so.
	s2 := serve(t, ctl.ServerConfig{}, ctl.Handler{})
	_, err = (&ctl.Client{Path: s2.Path()}).Explain(context.Background(), src, grp)
	if err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("no handler: %v", err)
	}
}
