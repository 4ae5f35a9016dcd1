package pimmsg

import (
	"bufio"
	"encoding/hex"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6sd/pim6sd/internal/pcapread"
)

const (
	capturePath = "../../testdata/pcap/pim-packet-assortment.pcap"
	tcpdumpPath = "../../testdata/pcap/pim-packet-assortment-v.out"
)

// cmpOpts compares netip values by ==; they have unexported fields and no
// Equal method.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
}

var (
	src6 = netip.MustParseAddr("fe80::1")
	dst6 = netip.MustParseAddr("ff02::d")
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func ptr[T any](v T) *T { return &v }

// unhex decodes hex written with any spaces, newlines and | separators.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := decodeHex(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// mustHex is unhex for package-level tables.
func mustHex(s string) []byte {
	b, err := decodeHex(s)
	if err != nil {
		panic(err)
	}
	return b
}

func decodeHex(s string) ([]byte, error) {
	s = strings.NewReplacer(" ", "", "\n", "", "\t", "", "|", "").Replace(s)
	return hex.DecodeString(s)
}

var (
	captureOnce sync.Once
	capture     []pcapread.Packet
	captureErr  error
)

// loadCapture returns the assortment capture's packets, read once.
func loadCapture(t testing.TB) []pcapread.Packet {
	t.Helper()
	captureOnce.Do(func() { capture, captureErr = pcapread.ReadFile(capturePath) })
	if captureErr != nil {
		t.Fatal(captureErr)
	}
	return capture
}

// frame returns frame n of the capture.
func frame(t testing.TB, n int) pcapread.Packet {
	t.Helper()
	for _, p := range loadCapture(t) {
		if p.Frame == n {
			return p
		}
	}
	t.Fatalf("no frame %d", n)
	return pcapread.Packet{}
}

var cksumRE = regexp.MustCompile(`cksum 0x[0-9a-f]+ \((correct|incorrect|unverified)\)`)
var frameRE = regexp.MustCompile(`^\s*(\d+)\s+\d{4}-\d\d-\d\d `)

// tcpdumpVerdicts reads tcpdump's checksum verdict for each frame.
func tcpdumpVerdicts(t testing.TB) map[int]string {
	t.Helper()
	f, err := os.Open(tcpdumpPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int]string{}
	cur := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := frameRE.FindStringSubmatch(sc.Text()); m != nil {
			cur, _ = strconv.Atoi(m[1])
		}
		if m := cksumRE.FindStringSubmatch(sc.Text()); m != nil && cur != 0 {
			if _, ok := out[cur]; !ok {
				out[cur] = m[1]
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rawPIMPayloads extracts PIM payloads from a classic little-endian pcap
// of Ethernet frames without trusting its record or IP lengths: the
// sanitizer reproducers have corrupt records that pcapread rightly
// refuses, and their PIM bytes are what must be rejected.
func rawPIMPayloads(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24 }
	if len(data) < 24 || le(data[20:]) != 1 {
		t.Fatalf("%s: not an Ethernet pcap", path)
	}
	var out [][]byte
	for rest := data[24:]; len(rest) >= 16; {
		n := le(rest[8:])
		rest = rest[16:]
		if n > len(rest) {
			n = len(rest)
		}
		pkt := rest[:n]
		rest = rest[n:]
		if len(pkt) < 14 {
			continue
		}
		eth, ip := int(pkt[12])<<8|int(pkt[13]), pkt[14:]
		switch {
		case eth == 0x86dd && len(ip) >= 40 && ip[6] == 103:
			out = append(out, ip[40:])
		case eth == 0x0800 && len(ip) >= 20 && ip[9] == 103 && len(ip) >= int(ip[0]&0x0f)*4:
			out = append(out, ip[int(ip[0]&0x0f)*4:])
		}
	}
	return out
}
