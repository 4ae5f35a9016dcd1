// Package e2e holds the end-to-end tests: the real pim6sd and pim6stat
// binaries, built once per test run, running in network namespaces with
// real hosts, real traffic (ssmping, UDP) and the real kernel. They need
// root, like the kernel tests.
//
// The interoperability tests (TestFRR*) run FRRouting 10.3's pim6d beside
// pim6sd, from the Debian 13 chroot that ../shared/lab/frr-topo.sh setup
// creates (default /var/lib/frr-lab/trixie, or $PIM6SD_FRR_CHROOT). They
// are opt-in: without the chroot (420 MB) they skip and say how to set it
// up:
//
//	sudo ../shared/lab/frr-topo.sh setup
//	sudo go test ./internal/e2e/ -run FRR -v
package e2e
