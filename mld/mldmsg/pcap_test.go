package mldmsg

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The MLD frames of icmpv6.pcap, with the values tcpdump prints for them in
// icmpv6.out beside it.
func TestCaptureFrames(t *testing.T) {
	frames := mldFrames(t)
	solicited := addr("ff02::db8:1122:3344")
	tests := []struct {
		frame int
		want  Message
	}{
		// "multicast listener report v2, 1 group record(s)
		// [gaddr ff02::db8:1122:3344 to_ex { }]"
		{2, &ReportV2{Records: []Record{{Type: ChangeToExclude, Group: solicited}}}},
		// "multicast listener query v2 [max resp delay=10000]
		// [gaddr :: robustness=2 qqi=60]"
		{3, &QueryV2{MaxRespCode: 10000, Group: addr("::"), QRV: 2, QQIC: 60}},
		// "4 group record(s)", all is_ex { }
		{4, &ReportV2{Records: []Record{
			{Type: ModeIsExclude, Group: solicited},
			{Type: ModeIsExclude, Group: addr("ff02::1:ffcc:e546")},
			{Type: ModeIsExclude, Group: addr("ff02::1:ffa7:10ad")},
			{Type: ModeIsExclude, Group: addr("ff02::1:ff00:2")},
		}}},
		// "[gaddr ff02::db8:1122:3344 to_in { }]"
		{5, &ReportV2{Records: []Record{{Type: ChangeToInclude, Group: solicited}}}},
	}
	if len(frames) != len(tests) {
		t.Errorf("capture has %d MLD frames, want %d", len(frames), len(tests))
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("frame%d", tt.frame), func(t *testing.T) {
			p, ok := frames[tt.frame]
			if !ok {
				t.Fatalf("frame %d is not an MLD message", tt.frame)
			}
			got, err := Parse(p.Payload)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			// tcpdump: "[icmp6 sum ok]".
			if !VerifyChecksum(p.Payload, p.Src, p.Dst) {
				t.Errorf("checksum does not verify")
			}
			// A re-encoding from the same addresses is the captured bytes:
			// the senders wrote zero into every reserved field.
			enc, err := Marshal(got, p.Src, p.Dst)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.Equal(enc, p.Payload) {
				t.Errorf("Marshal:\n got % x\nwant % x", enc, p.Payload)
			}
			for bit := range 8 * len(p.Payload) {
				flipped := bytes.Clone(p.Payload)
				flipped[bit/8] ^= 1 << (bit % 8)
				if VerifyChecksum(flipped, p.Src, p.Dst) {
					t.Fatalf("checksum still verifies with bit %d flipped", bit)
				}
			}
			// The pseudo-header is covered: another destination fails.
			// (Swapping source and destination would not: the sum is
			// commutative.)
			if VerifyChecksum(p.Payload, p.Src, addr("ff02::2")) {
				t.Errorf("checksum verifies with another destination")
			}
		})
	}
	t.Run("frame3/durations", func(t *testing.T) {
		m, err := Parse(frames[3].Payload)
		if err != nil {
			t.Fatal(err)
		}
		q := m.(*QueryV2)
		if got := q.MaxRespDelay(); got != 10*time.Second {
			t.Errorf("MaxRespDelay = %v, want 10s", got)
		}
		if got := q.QueryInterval(); got != 60*time.Second {
			t.Errorf("QueryInterval = %v, want 1m0s", got)
		}
	})
}
