package kernel

import "testing"

func TestMIFSet(t *testing.T) {
	var s MIFSet
	s = s.Add(0).Add(2).Add(31)
	if !s.Has(0) || !s.Has(2) || !s.Has(31) || s.Has(1) || s.Has(32) {
		t.Fatalf("membership wrong: %v", s)
	}
	if s.Len() != 3 || s.String() != "{0,2,31}" {
		t.Fatalf("Len %d String %s", s.Len(), s)
	}
	s = s.Remove(2)
	if s.Has(2) || s.String() != "{0,31}" {
		t.Fatalf("after Remove(2): %v", s)
	}
}
