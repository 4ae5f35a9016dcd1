package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func runPim6stat(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(append([]string{"pim6stat"}, args...), &o, &e)
	return code, o.String(), e.String()
}

func TestDecodeAssortment(t *testing.T) {
	code, out, errOut := runPim6stat("decode", "../../testdata/pcap/pim-packet-assortment.pcap")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	// One block per message, each starting with "frame N".
	if n := strings.Count(out, "\nframe ") + 1; !strings.HasPrefix(out, "frame 1 ") || n != 245 {
		t.Errorf("%d blocks, want 245", n)
	}
	for _, want := range []string{
		"frame 229  2019-07-05 17:30:45.519013  10::2 > ff02::d  hlim 64\n  PIM Hello, 78 bytes, checksum ok\n    holdtime 50s\n",
		"    generation-id 0x00000226\n",
		"frame 151 ", "PIM Candidate-RP-Advertisement, 66 bytes, checksum bad\n",
		"frame 228 ", "    MALFORMED: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The last line counts what was seen; tcpdump finds 3 bad checksums in
	// the IPv6 frames and 2 truncated Grafts.
	last := out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1:]
	if !strings.HasPrefix(last, "245 messages (245 PIM, 0 MLD): 2 malformed, ") {
		t.Errorf("summary line %q", last)
	}
}

func TestDecodeJSON(t *testing.T) {
	code, out, errOut := runPim6stat("decode", "--json", "../../testdata/pcap/icmpv6.pcap")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var doc struct {
		Messages []struct {
			Frame    int    `json:"frame"`
			Type     string `json:"type"`
			Checksum string `json:"checksum"`
			MLD      struct {
				Records []struct {
					Type  uint8  `json:"Type"`
					Group string `json:"Group"`
				} `json:"Records"`
			} `json:"mld"`
		} `json:"messages"`
		Summary struct {
			Messages, MLD, Malformed int
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(doc.Messages) != 4 || doc.Summary.MLD != 4 || doc.Summary.Malformed != 0 {
		t.Fatalf("messages %d, summary %+v; want the 4 MLD frames", len(doc.Messages), doc.Summary)
	}
	m := doc.Messages[0]
	if m.Frame != 2 || m.Type != "MLDv2 Report" || m.Checksum != "ok" || len(m.MLD.Records) != 1 ||
		m.MLD.Records[0].Group != "ff02::db8:1122:3344" || m.MLD.Records[0].Type != 4 {
		t.Errorf("first message %+v", m)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing file", []string{"decode", "/nonexistent/x.pcap"}, 1, "no such file"},
		{"not a capture", []string{"decode", "main.go"}, 1, "not a pcap or pcapng file"},
		{"no argument", []string{"decode"}, 2, "give exactly one capture file"},
		{"broken record after a packet", []string{"decode", "../../testdata/pcap/pim_header_asan-2.pcap"}, 1, "stopped early"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runPim6stat(c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d stderr %q; want exit %d mentioning %q", code, errOut, c.code, c.want)
			}
		})
	}
}
