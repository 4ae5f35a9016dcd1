package kernel

import (
	"errors"
	"slices"
	"testing"
)

func TestParseProcMIFs(t *testing.T) {
	const proc = `Interface      BytesIn  PktsIn  BytesOut PktsOut Flags
 0 up0               410       5         0       0 00000
 1 down0               0       0       410       5 08000
 2 pim6reg             0       0         0       0 00001
 3 gone                0       0         0       0 00000
`
	idx := map[string]int{"up0": 7, "down0": 8, "pim6reg": 9}
	got, err := parseProcMIFs(proc, func(n string) (int, error) {
		if i, ok := idx[n]; ok {
			return i, nil
		}
		return 0, errors.New("no such interface")
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []MIFEntry{{MIF: 0, IfIndex: 7}, {MIF: 1, IfIndex: 8}, {MIF: 2, IfIndex: 9, Register: true}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseProcMIFs("h\n 0 x 1 2\n", nil); err == nil {
		t.Error("a short line parsed")
	}
}
