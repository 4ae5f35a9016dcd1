package netns

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/pcapread"
)

// Capture is a tcpdump running on one interface of a namespace.
type Capture struct {
	Path string
	proc *Proc
	t    testing.TB
}

// Capture starts tcpdump on ifname with a capture filter (tcpdump syntax,
// may be empty) writing to a pcap file in the test's temp directory. It
// returns once tcpdump is listening.
func (n *NS) Capture(ifname, filter string) *Capture {
	n.t.Helper()
	path := filepath.Join(n.t.TempDir(), n.Name+"-"+ifname+".pcap")
	args := []string{"tcpdump", "-i", ifname, "-n", "-U", "--immediate-mode", "-s", "0", "-w", path}
	if filter != "" {
		args = append(args, strings.Fields(filter)...)
	}
	p := n.Start(args...)
	// tcpdump says "listening on" once the socket is open.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.Output(), "listening on") {
		if time.Now().After(deadline) {
			n.t.Fatalf("tcpdump on %s/%s did not start: %s", n.Name, ifname, p.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &Capture{Path: path, proc: p, t: n.t}
}

// Stop ends the capture and returns the packets it saw.
func (c *Capture) Stop() []pcapread.Packet {
	c.t.Helper()
	// SIGINT makes tcpdump flush and close the file cleanly.
	_ = c.proc.Cmd.Process.Signal(syscall.SIGINT)
	if err := c.proc.Wait(5 * time.Second); err != nil && !strings.Contains(err.Error(), "exit status") {
		c.proc.Stop()
	}
	if _, err := os.Stat(c.Path); err != nil {
		c.t.Fatalf("capture file: %v (tcpdump said: %s)", err, c.proc.Output())
	}
	pkts, err := pcapread.ReadFile(c.Path)
	if err != nil {
		c.t.Fatalf("read capture: %v", err)
	}
	return pkts
}
