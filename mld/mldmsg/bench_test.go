package mldmsg

import (
	"net/netip"
	"testing"
)

// benchReport is an MLDv2 Report of 50 records of 20 sources each, about
// the most a busy host sends in one message.
func benchReport() *ReportV2 {
	r := &ReportV2{Records: make([]Record, 50)}
	for i := range r.Records {
		srcs := make([]netip.Addr, 20)
		for j := range srcs {
			srcs[j] = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 8: byte(i), 15: byte(j + 1)})
		}
		r.Records[i] = Record{
			Type:    ModeIsInclude,
			Group:   netip.AddrFrom16([16]byte{0xff, 0x3e, 12: 0x80, 15: byte(i)}),
			Sources: srcs,
		}
	}
	return r
}

const benchSources = 50 * 20

func reportSources(b *testing.B, n int) {
	b.ReportMetric(float64(n*benchSources)/b.Elapsed().Seconds(), "sources/s")
}

func BenchmarkParseReportV2(b *testing.B) {
	enc, err := Marshal(benchReport(), linkSrc2, mldv2Dst)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := Parse(enc); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportSources(b, n)
}

func BenchmarkAppendReportV2(b *testing.B) {
	m := benchReport()
	buf := make([]byte, 0, Len(m))
	b.SetBytes(int64(Len(m)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], m, linkSrc2, mldv2Dst); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportSources(b, n)
}

func BenchmarkVerifyChecksumReportV2(b *testing.B) {
	enc, err := Marshal(benchReport(), linkSrc2, mldv2Dst)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if !VerifyChecksum(enc, linkSrc2, mldv2Dst) {
			b.Fatal("does not verify")
		}
	}
}
