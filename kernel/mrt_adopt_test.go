package kernel

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A handed-over socket keeps the table alive when the first process's
// descriptor closes, and AdoptMRT takes it over with its MIFs: packets keep
// flowing the whole time, and the adopting MRT gets the upcalls and
// programs entries on the MIFs it was told about. The MFC dump shows what
// the kernel forwards, table by table.
func TestMRTAdopt(t *testing.T) {
	tp := newMRTTopo(t)
	nl := nlOpen(t, tp.router)
	m := tp.openMRT(t, MRTConfig{})
	up, down := mrtAddMIF(t, m, tp.up), mrtAddMIF(t, m, tp.down)
	reg, err := m.AddRegisterMIF()
	if err != nil {
		t.Fatal(err)
	}
	mrtSetMFC(t, m, mrtSrc, mrtGroup, up, MIFSet(0).Add(down))
	l := tp.listen(t, mrtGroup)
	tp.send(t, mrtGroup, 0, 3)
	if got := l.receive(t, 3, 3*time.Second); len(got) != 3 {
		t.Fatalf("before the handover the receiver got %d of 3", len(got))
	}

	mfcs, err := nl.MFCs(0)
	if err != nil {
		t.Fatal(err)
	}
	want := []MFCEntry{{Src: mrtSrc, Grp: mrtGroup, IIF: tp.up, OIFs: []int{tp.down}}}
	if len(mfcs) != 1 || mfcs[0].Src != want[0].Src || mfcs[0].Grp != want[0].Grp || mfcs[0].IIF != tp.up ||
		!slices.Equal(mfcs[0].OIFs, want[0].OIFs) || mfcs[0].Static || mfcs[0].Counters.Packets != 3 {
		t.Fatalf("MFC dump %+v, want %+v with 3 packets", mfcs, want)
	}

	mifs := m.MIFs()
	h, err := m.Handover()
	if err != nil {
		t.Fatal(err)
	}
	// The first process goes away without MRT6_DONE (as exec does).
	if err := m.Release(); err != nil {
		t.Fatal(err)
	}
	tp.send(t, mrtGroup, 3, 3)
	if got := l.receive(t, 3, 3*time.Second); len(got) != 3 {
		t.Fatalf("with only the handed-over descriptor open the receiver got %d of 3", len(got))
	}

	var a *MRT
	if err := tp.router.Do(func() (err error) { a, err = AdoptMRT(h, 0, mifs); return err }); err != nil {
		t.Fatalf("AdoptMRT: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	if got := a.MIFs(); !slices.Equal(got, mifs) {
		t.Fatalf("adopted MIFs %+v, want %+v", got, mifs)
	}
	if got, ok := a.LookupMIF(tp.down); !ok || got != down {
		t.Errorf("LookupMIF(down) = %d, %v", got, ok)
	}
	if got, err := a.AddMIF(tp.up); err != nil || got != up {
		t.Errorf("AddMIF of an adopted interface: %d, %v, want the same MIF %d", got, err, up)
	}
	if got, err := a.AddRegisterMIF(); err != nil || got != reg {
		t.Errorf("AddRegisterMIF after adoption: %d, %v, want %d", got, err, reg)
	}
	// Upcalls come to the adopter, and it programs the table.
	tp.send(t, mrtGroup2, 0, 1)
	if u, skipped, ok := mrtWaitUpcall(t, a, 3*time.Second, mrtSG(NoCache, mrtGroup2)); !ok || u.MIF != up {
		t.Fatalf("NOCACHE upcall on the adopted socket: %+v (found %v, others %+v)", u, ok, skipped)
	}
	l2 := tp.listen(t, mrtGroup2)
	mrtSetMFC(t, a, mrtSrc, mrtGroup2, up, MIFSet(0).Add(down))
	tp.send(t, mrtGroup2, 1, 2)
	if got := l2.receive(t, 2, 3*time.Second); len(got) != 2 {
		t.Errorf("entry set through the adopted socket: receiver got %d of 2", len(got))
	}
	// Closing the adopter ends routing on the table as before.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := mrtProcMIFs(t, tp.router); len(got) != 0 {
		t.Errorf("MIFs after the adopter closed: %+v", got)
	}
}

// MIFs of a handover list whose interface was deleted are not adopted, and
// a descriptor that is not the table's owner is refused.
func TestMRTAdoptChecks(t *testing.T) {
	tp := newMRTTopo(t)
	m := tp.openMRT(t, MRTConfig{Table: 300})
	mrtAddMIF(t, m, tp.up)
	mrtAddMIF(t, m, tp.down)
	mifs := m.MIFs()
	h, err := m.Handover()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Release(); err != nil {
		t.Fatal(err)
	}
	tp.router.MustRun("ip", "link", "del", "down0")
	var a *MRT
	if err := tp.router.Do(func() (err error) { a, err = AdoptMRT(h, 300, mifs); return err }); err != nil {
		t.Fatalf("AdoptMRT: %v", err)
	}
	defer a.Close()
	if got := a.MIFs(); len(got) != 1 || got[0].IfIndex != tp.up {
		t.Errorf("adopted %+v, want only up0's MIF", got)
	}

	// A plain raw ICMPv6 socket, and a UDP socket, are not MRT sockets.
	for _, typ := range []struct{ typ, proto int }{{unix.SOCK_RAW, unix.IPPROTO_ICMPV6}, {unix.SOCK_DGRAM, unix.IPPROTO_UDP}} {
		var fd int
		if err := tp.router.Do(func() (err error) { fd, err = unix.Socket(unix.AF_INET6, typ.typ, typ.proto); return err }); err != nil {
			t.Fatal(err)
		}
		err := tp.router.Do(func() error {
			x, err := AdoptMRT(os.NewFile(uintptr(fd), "x"), 301, nil)
			if err == nil {
				x.Close()
			}
			return err
		})
		if !errors.Is(err, ErrNotMRTOwner) {
			t.Errorf("AdoptMRT of socket %+v: %v, want ErrNotMRTOwner", typ, err)
		}
	}
}

// The dump names the table's entries only, marks entries another socket
// added as static, and leaves unresolved ones out.
func TestMFCDumpTablesAndStatic(t *testing.T) {
	tp := newMRTTopo(t)
	nl := nlOpen(t, tp.router)
	m := tp.openMRT(t, MRTConfig{})
	m4 := tp.openMRT(t, MRTConfig{Table: 400})
	up, down := mrtAddMIF(t, m, tp.up), mrtAddMIF(t, m, tp.down)
	up4 := mrtAddMIF(t, m4, tp.up)
	mrtSetMFC(t, m4, mrtSrc, mrtGroup2, up4, 0)
	// A static entry, added through a second socket.
	var fd int
	if err := tp.router.Do(func() (err error) {
		fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	c := mrtMFC(mrtSrc, mrtGroup, up, MIFSet(0).Add(down))
	if err := mrtSetsockopt(uintptr(fd), unix.IPPROTO_IPV6, mrt6AddMFC, unsafe.Pointer(&c), unsafe.Sizeof(c)); err != nil {
		t.Fatal(err)
	}
	// An unresolved entry: a packet without an entry, in the default table.
	g3 := netip.MustParseAddr("ff3e::4321:9abc")
	tp.send(t, g3, 0, 1)
	if _, _, ok := mrtWaitUpcall(t, m, 3*time.Second, mrtSG(NoCache, g3)); !ok {
		t.Fatal("no NOCACHE upcall")
	}
	got, err := nl.MFCs(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Grp != mrtGroup || !got[0].Static || got[0].IIF != tp.up || !slices.Equal(got[0].OIFs, []int{tp.down}) {
		t.Errorf("default table dump %+v, want the static (S,%v) only", got, mrtGroup)
	}
	got, err = nl.MFCs(400)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Grp != mrtGroup2 || got[0].Static || got[0].IIF != tp.up || len(got[0].OIFs) != 0 {
		t.Errorf("table 400 dump %+v, want (S,%v) with no oifs", got, mrtGroup2)
	}
}

// Every change of the table's MFC, ours or another socket's, is signalled;
// changes of another table are not.
func TestMFCNotifications(t *testing.T) {
	tp := newMRTTopo(t)
	nl := nlOpen(t, tp.router)
	m := tp.openMRT(t, MRTConfig{})
	m5 := tp.openMRT(t, MRTConfig{Table: 500})
	up, down := mrtAddMIF(t, m, tp.up), mrtAddMIF(t, m, tp.down)
	up5 := mrtAddMIF(t, m5, tp.up)
	done := make(chan struct{})
	defer close(done)
	ch, err := nl.SubscribeMFC(0, done)
	if err != nil {
		t.Fatal(err)
	}
	wait := func(what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(nlDeadline):
			t.Fatalf("no notification for %s", what)
		}
	}
	quiet := func(what string) {
		t.Helper()
		select {
		case <-ch:
			t.Fatalf("a notification for %s", what)
		case <-time.After(300 * time.Millisecond):
		}
	}
	quiet("nothing")
	mrtSetMFC(t, m, mrtSrc, mrtGroup, up, MIFSet(0).Add(down))
	wait("our entry added")
	mrtSetMFC(t, m5, mrtSrc, mrtGroup, up5, 0)
	quiet("an entry of table 500")
	// Another socket deletes ours (as a second daemon or a tool could).
	var f *Foreign
	if err := tp.router.Do(func() (err error) { f, err = OpenForeign(0); return err }); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.DelMFC(mrtSrc, mrtGroup); err != nil {
		t.Fatal(err)
	}
	wait("our entry deleted by another socket")
	if err := f.SetMFC(mrtSrc, mrtGroup, up, 0); err != nil {
		t.Fatal(err)
	}
	wait("an entry added by another socket")
	if mfcs, err := nl.MFCs(0); err != nil || len(mfcs) != 1 || !mfcs[0].Static {
		t.Errorf("after the foreign add: %+v, %v; want one static entry", mfcs, err)
	}
}

// Why a restart hands the owner socket over instead of leaving static
// entries behind: MIFs and entries another socket added stay when the
// table's owner closes, but the kernel stops forwarding multicast with the
// owner gone (all/mc_forwarding drops to 0), and forwards again only while
// some table has an owner.
func TestMRTStaticEntriesNeedAnOwner(t *testing.T) {
	tp := newMRTTopo(t)
	m := tp.openMRT(t, MRTConfig{})
	var f *Foreign
	if err := tp.router.Do(func() (err error) { f, err = OpenForeign(0); return err }); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, mif := range []struct {
		slot    MIF
		ifindex int
	}{{0, tp.up}, {1, tp.down}} {
		ctl := mrtMIF6ctl{Mifi: uint16(mif.slot), Pifi: uint16(mif.ifindex), Threshold: 1}
		if err := mrtSetsockopt(uintptr(f.fd), unix.IPPROTO_IPV6, mrt6AddMIF, unsafe.Pointer(&ctl), unsafe.Sizeof(ctl)); err != nil {
			t.Fatalf("static MIF %d: %v", mif.slot, err)
		}
	}
	if err := f.SetMFC(mrtSrc, mrtGroup, 0, MIFSet(0).Add(1)); err != nil {
		t.Fatal(err)
	}
	l := tp.listen(t, mrtGroup)
	tp.send(t, mrtGroup, 0, 3)
	if got := l.receive(t, 3, 3*time.Second); len(got) != 3 {
		t.Fatalf("static entry with the owner open: %d of 3 forwarded", len(got))
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(mrtProcMIFs(t, tp.router)); n != 2 {
		t.Fatalf("%d static MIFs after the owner closed, want 2", n)
	}
	if fwd := strings.TrimSpace(tp.router.MustRun("cat", "/proc/sys/net/ipv6/conf/all/mc_forwarding")); fwd != "0" {
		t.Errorf("all/mc_forwarding %s without an owner, want 0", fwd)
	}
	tp.send(t, mrtGroup, 3, 3)
	if got := l.receive(t, 0, 500*time.Millisecond); len(got) != 0 {
		t.Fatalf("static entry without an owner: %d of 3 forwarded, want none", len(got))
	}
	tp.openMRT(t, MRTConfig{Table: 77}) // any table's owner
	tp.send(t, mrtGroup, 6, 3)
	if got := l.receive(t, 3, 3*time.Second); len(got) != 3 {
		t.Fatalf("static entry with another table's owner: %d of 3 forwarded", len(got))
	}
}
