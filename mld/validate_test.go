package mld

import (
	"encoding/binary"
	"testing"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// withChecksum fixes the ICMPv6 checksum of b for p's addresses.
func withChecksum(p Packet, b []byte) Packet {
	if len(b) >= 4 {
		binary.BigEndian.PutUint16(b[2:4], mldmsg.Checksum(b, p.Src, p.Dst))
	}
	p.Data = b
	return p
}

// TestValidation: every check of Receive, each a counted drop reason, and
// nothing of a dropped message reaches the state.
func TestValidation(t *testing.T) {
	good := report(t, rec(mldmsg.ModeIsExclude, grp))
	mod := func(f func(p *Packet)) Packet {
		p := good
		p.Data = append([]byte(nil), good.Data...)
		f(&p)
		return p
	}
	cases := []struct {
		name     string
		pkt      Packet
		dropped  map[string]uint64
		received map[string]uint64
	}{
		{"source-global", mod(func(p *Packet) {
			*p = packet(t, addr("2001:db8::1"), mldv2Dst, &mldmsg.ReportV2{Records: []mldmsg.Record{rec(mldmsg.ModeIsExclude, grp)}})
		}),
			map[string]uint64{DropSource: 1}, nil},
		{"source-unspecified", mod(func(p *Packet) {
			*p = packet(t, unspec, mldv2Dst, &mldmsg.ReportV2{Records: []mldmsg.Record{rec(mldmsg.ModeIsExclude, grp)}})
		}),
			map[string]uint64{DropSource: 1}, nil},
		{"source-IPv4-mapped", mod(func(p *Packet) { p.Src = addr("::ffff:169.254.1.1") }),
			map[string]uint64{DropSource: 1}, nil},
		{"hop-limit", mod(func(p *Packet) { p.HopLimit = 2 }), map[string]uint64{DropHopLimit: 1}, nil},
		{"no-router-alert", mod(func(p *Packet) { p.RouterAlert = false }), map[string]uint64{DropRouterAlert: 1}, nil},
		{"bad-checksum", mod(func(p *Packet) { p.Data[3] ^= 1 }), map[string]uint64{DropChecksum: 1}, nil},
		{"checksum-of-other-destination", mod(func(p *Packet) { p.Dst = addr("ff02::2") }), map[string]uint64{DropChecksum: 1}, nil},
		{"truncated", mod(func(p *Packet) { *p = withChecksum(*p, p.Data[:len(p.Data)-1]) }), map[string]uint64{DropTruncated: 1}, nil},
		{"bad-length", withChecksum(good, make26()), map[string]uint64{DropLength: 1}, nil},
		{"unknown-type", mod(func(p *Packet) { p.Data[0] = 1; *p = withChecksum(*p, p.Data) }), map[string]uint64{DropType: 1}, nil},
		{"own-query", packet(t, self, allNodes, generalV2()), map[string]uint64{DropOwnQuery: 1}, nil},
		{"query-group-not-multicast", queryFrom(t, higher, &mldmsg.QueryV2{MaxRespCode: 1000, Group: addr("2001:db8::1"), QRV: 2, QQIC: 125}),
			map[string]uint64{DropGroup: 1}, map[string]uint64{RecvQueryV2: 1}},
		{"record-group-unicast", report(t, rec(mldmsg.ModeIsExclude, addr("2001:db8::1"))),
			map[string]uint64{DropGroup: 1}, map[string]uint64{RecvReportV2: 1}},
		{"record-group-all-nodes", report(t, rec(mldmsg.ModeIsExclude, allNodes)),
			map[string]uint64{DropGroup: 1}, map[string]uint64{RecvReportV2: 1}},
		{"record-group-interface-local", report(t, rec(mldmsg.ModeIsExclude, addr("ff01::5"))),
			map[string]uint64{DropGroup: 1}, map[string]uint64{RecvReportV2: 1}},
		{"record-group-scope-0", report(t, rec(mldmsg.ModeIsExclude, addr("ff00::5"))),
			map[string]uint64{DropGroup: 1}, map[string]uint64{RecvReportV2: 1}},
		{"record-type-7", report(t, rec(7, grp)),
			map[string]uint64{DropRecordType: 1}, map[string]uint64{RecvReportV2: 1}},
		{"record-type-0", report(t, rec(0, grp)),
			map[string]uint64{DropRecordType: 1}, map[string]uint64{RecvReportV2: 1}},
		{"v1-report-group-unicast", reportV1(t, addr("2001:db8::1")),
			map[string]uint64{DropGroup: 1}, map[string]uint64{RecvReportV1: 1}},
		{"done-group-all-nodes", done(t, allNodes),
			map[string]uint64{DropGroup: 1}, map[string]uint64{RecvDone: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRouter(t, tR, DefaultConfig())
			acts := r.Receive(tR, ifx, c.pkt)
			if acts != nil {
				t.Errorf("actions %v", acts)
			}
			st := r.Stats(ifx)
			diff(t, "dropped", c.dropped, st.Dropped)
			diff(t, "received", c.received, st.Received)
			if st.Groups != 0 || !r.Snapshot(tR)[0].QuerierSelf {
				t.Errorf("state changed: %d groups", st.Groups)
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		r := newRouter(t, tR, DefaultConfig())
		good.Src = good.Src.WithZone("eth0") // as a socket reports it
		r.Receive(tR, ifx, good)
		st := r.Stats(ifx)
		diff(t, "stats", Stats{
			Received: map[string]uint64{RecvReportV2: 1},
			Records:  map[string]uint64{"IS_EX": 1},
			Sent:     map[string]uint64{SentGeneral: 1},
			Groups:   1,
		}, st)
	})
	t.Run("bad-record-among-good", func(t *testing.T) {
		r := newRouter(t, tR, DefaultConfig())
		r.Receive(tR, ifx, report(t, rec(9, grp, "a"), rec(mldmsg.AllowNewSources, grp, "b")))
		diff(t, "state", inc(src4{"b": 260}), view(r, tR, grp))
		diff(t, "records", map[string]uint64{"other": 1, "ALLOW": 1}, r.Stats(ifx).Records)
	})
	t.Run("unknown-interface", func(t *testing.T) {
		r := newRouter(t, tR, DefaultConfig())
		if acts := r.Receive(tR, ifx+1, good); acts != nil {
			t.Errorf("actions %v", acts)
		}
	})
}

// make26 is a Query of 26 octets, neither MLDv1 nor MLDv2 (RFC 3810 8.1).
func make26() []byte {
	b := make([]byte, 26)
	b[0] = mldmsg.TypeQuery
	return b
}
