package pimmsg

import (
	"net/netip"
	"testing"
)

// benchJoinPrune is 100 groups of 10 joined (S,G) sources.
func benchJoinPrune() *JoinPrune {
	jp := &JoinPrune{UpstreamNeighbor: addr("fe80::2"), Holdtime: 210}
	for i := range 100 {
		jp.Groups = append(jp.Groups, JoinPruneGroup{Group: grp(i), Joins: sources(10, i*10)})
	}
	return jp
}

func benchHello() *Hello {
	return &Hello{
		Holdtime:      ptr[uint16](105),
		LANPruneDelay: &LANPruneDelay{PropagationDelay: 500, OverrideInterval: 2500},
		DRPriority:    ptr[uint32](1),
		GenerationID:  ptr[uint32](0x12345678),
		AddressList:   []netip.Addr{addr("2001:db8::1"), addr("2001:db8::2")},
		Unknown:       []HelloOption{{Type: 22}},
	}
}

// benchBootstrap has 4 ranges of 5 RPs.
func benchBootstrap() *Bootstrap {
	return &Bootstrap{FragmentTag: 1, HashMaskLen: 126, Priority: 1, BSR: addr("2001:db8::b"), Groups: manyBSGroups(4, 5)}
}

func benchParse(b *testing.B, m Message, perOp int, unit string) {
	wire, err := Marshal(m, src6, dst6)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		if _, err := Parse(wire); err != nil {
			b.Fatal(err)
		}
	}
	if perOp > 0 {
		b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), unit)
	}
}

func benchAppend(b *testing.B, m Message, perOp int, unit string) {
	buf := make([]byte, 0, Len(m))
	b.ReportAllocs()
	b.SetBytes(int64(Len(m)))
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], m, src6, dst6); err != nil {
			b.Fatal(err)
		}
	}
	if perOp > 0 {
		b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), unit)
	}
}

func BenchmarkParseJoinPrune(b *testing.B) { benchParse(b, benchJoinPrune(), 1000, "sources/s") }
func BenchmarkAppendJoinPrune(b *testing.B) {
	benchAppend(b, benchJoinPrune(), 1000, "sources/s")
}
func BenchmarkParseHello(b *testing.B)      { benchParse(b, benchHello(), 0, "") }
func BenchmarkAppendHello(b *testing.B)     { benchAppend(b, benchHello(), 0, "") }
func BenchmarkParseBootstrap(b *testing.B)  { benchParse(b, benchBootstrap(), 20, "RPs/s") }
func BenchmarkAppendBootstrap(b *testing.B) { benchAppend(b, benchBootstrap(), 20, "RPs/s") }

// TestAppendAllocs: Append into a buffer with room allocates nothing, for
// every message type.
func TestAppendAllocs(t *testing.T) {
	for _, m := range []Message{benchJoinPrune(), benchHello(), benchBootstrap()} {
		t.Run(m.Type().String(), func(t *testing.T) { checkAppendAllocs(t, m) })
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) { checkAppendAllocs(t, r.want) })
	}
}

func checkAppendAllocs(t *testing.T, m Message) {
	buf := make([]byte, 0, Len(m))
	if n := testing.AllocsPerRun(100, func() {
		if _, err := Append(buf, m, src6, dst6); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// TestParseJoinPruneAllocs pins the allocations of a large Join/Prune:
// the message, its groups and one array for all sources.
func TestParseJoinPruneAllocs(t *testing.T) {
	wire, err := Marshal(benchJoinPrune(), src6, dst6)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = Parse(wire) }); n != 3 {
		t.Errorf("%v allocations, want 3", n)
	}
}
