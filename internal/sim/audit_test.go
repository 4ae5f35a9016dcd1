package sim

import (
	"strings"
	"testing"
	"time"
)

// The kernel audit: in normal operation it finds nothing to repair; an
// entry deleted or changed behind the daemon's back is restored within a
// second (the kernel announces the change); a MIF deleted behind its back
// (not announced) is added again at the next periodic audit, with its
// entries.
func TestKernelAudit(t *testing.T) {
	n, rs, s, h := chain(t, Options{Delay: 100 * time.Microsecond})
	r2 := rs[1]
	n.Run(10 * time.Second)
	h.JoinSource(group, srcAddr)
	st := s.Stream(group, 10*time.Millisecond)
	n.Run(5 * time.Minute)
	for _, r := range rs {
		a := r.Snapshot().Daemon.Audit
		if a.Runs < 4 || a.Found.Repairs() != 0 {
			t.Fatalf("%s: audit %+v after 5 minutes of normal operation: want several runs and nothing found", r.Name(), a)
		}
	}

	// Deleted behind r2's back.
	sent := st.Sent()
	if err := r2.Kernel().Tamper(srcIP, groupIP); err != nil {
		t.Fatal(err)
	}
	took := runUntil(t, n, "r2's entry restored", func() bool { return hasEntry(r2) }, time.Second)
	t.Logf("deleted entry restored after %v", took)
	// Changed behind its back: no oifs.
	if err := r2.Kernel().Tamper(srcIP, groupIP, "to-r1"); err != nil {
		t.Fatal(err)
	}
	runUntil(t, n, "r2's oifs restored", func() bool { o := oifs(r2); return len(o) == 1 && o[0] == "to-r3" }, time.Second)
	a := r2.Snapshot().Daemon.Audit
	if a.Found.Missing != 1 || a.Found.Changed != 1 || a.Found.Extra != 0 {
		t.Errorf("r2 audit found %+v, want 1 missing and 1 changed", a.Found)
	}
	lost := Deliveries(h.ReceivedFrom(srcAddr, group), st.Sent()-1).Missing
	t.Logf("lost while tampered: %v (of %d sent meanwhile)", lost, st.Sent()-sent)
	if len(lost) > 100 {
		t.Errorf("%d datagrams lost, want at most a second's worth", len(lost))
	}

	// A MIF removed behind its back.
	if err := r2.Kernel().TamperMIF("to-r3"); err != nil {
		t.Fatal(err)
	}
	runUntil(t, n, "r2's MIF and entry back", func() bool {
		o := oifs(r2)
		return len(o) == 1 && o[0] == "to-r3"
	}, 61*time.Second)
	if a := r2.Snapshot().Daemon.Audit; a.Found.MIFs != 1 {
		t.Errorf("r2 audit found %+v, want 1 MIF", a.Found)
	}
	var mifs int
	for _, name := range r2.Kernel().MIFs() {
		if strings.HasPrefix(name, "to-r3") {
			mifs++
		}
	}
	if mifs != 1 {
		t.Errorf("r2 has %d MIFs of to-r3, want 1", mifs)
	}
	st.Stop()
}
