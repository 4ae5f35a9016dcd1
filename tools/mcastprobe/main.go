// Command mcastprobe is the measuring tool of scripts/measure.sh: a small
// IPv6 multicast sender and receiver run inside test namespaces.
//
//	mcastprobe send  -group G [-port P] [-interval 1ms] [-duration 10s] [-hops 64] [-if NAME]
//	mcastprobe first -group G [-source S] [-port P] [-timeout 10s] [-if NAME]
//	    join (S,G) (or (*,G) without -source) and print, as JSON, the time
//	    from the join to the first datagram
//	mcastprobe many  -count N [-base ff3e::1000:0] [-source S] [-hold 30s] [-per-socket 200] [-if NAME]
//	    join N consecutive groups, spread over sockets (the kernel limits
//	    memberships per socket), hold them, leave; print JSON timings
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/ipv6"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: mcastprobe send|first|many [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "send":
		err = send(os.Args[2:])
	case "first":
		err = first(os.Args[2:])
	case "many":
		err = many(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcastprobe:", err)
		os.Exit(1)
	}
}

func iface(name string) (*net.Interface, error) {
	if name != "" {
		return net.InterfaceByName(name)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 && i.Flags&net.FlagUp != 0 {
			return &i, nil
		}
	}
	return nil, fmt.Errorf("no interface")
}

func send(args []string) error {
	fs := flag.NewFlagSet("send", flag.ExitOnError)
	group := fs.String("group", "", "group")
	port := fs.Int("port", 5001, "UDP port")
	interval := fs.Duration("interval", time.Millisecond, "interval")
	duration := fs.Duration("duration", 10*time.Second, "duration")
	hops := fs.Int("hops", 64, "hop limit")
	ifname := fs.String("if", "", "interface")
	fs.Parse(args)
	ifi, err := iface(*ifname)
	if err != nil {
		return err
	}
	c, err := net.ListenPacket("udp6", "[::]:0")
	if err != nil {
		return err
	}
	p := ipv6.NewPacketConn(c)
	if err := p.SetMulticastInterface(ifi); err != nil {
		return err
	}
	if err := p.SetMulticastHopLimit(*hops); err != nil {
		return err
	}
	dst := &net.UDPAddr{IP: net.ParseIP(*group), Port: *port}
	end := time.Now().Add(*duration)
	n := 0
	for t := time.Now(); t.Before(end); t = time.Now() {
		if _, err := c.WriteTo([]byte(fmt.Sprintf("%d %d", n, t.UnixNano())), dst); err != nil {
			return err
		}
		n++
		time.Sleep(*interval)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"sent": n})
}

func join(p *ipv6.PacketConn, ifi *net.Interface, group, source string) error {
	g := &net.UDPAddr{IP: net.ParseIP(group)}
	if source != "" {
		return p.JoinSourceSpecificGroup(ifi, g, &net.UDPAddr{IP: net.ParseIP(source)})
	}
	return p.JoinGroup(ifi, g)
}

func first(args []string) error {
	fs := flag.NewFlagSet("first", flag.ExitOnError)
	group := fs.String("group", "", "group")
	source := fs.String("source", "", "source (SSM)")
	port := fs.Int("port", 5001, "UDP port")
	timeout := fs.Duration("timeout", 10*time.Second, "timeout")
	ifname := fs.String("if", "", "interface")
	fs.Parse(args)
	ifi, err := iface(*ifname)
	if err != nil {
		return err
	}
	c, err := net.ListenPacket("udp6", fmt.Sprintf("[::]:%d", *port))
	if err != nil {
		return err
	}
	defer c.Close()
	p := ipv6.NewPacketConn(c)
	start := time.Now()
	if err := join(p, ifi, *group, *source); err != nil {
		return err
	}
	c.SetReadDeadline(start.Add(*timeout))
	buf := make([]byte, 1500)
	out := map[string]any{"group": *group, "source": *source}
	for {
		_, _, from, err := p.ReadFrom(buf)
		if err != nil {
			out["first_ms"] = nil
			break
		}
		if ua, ok := from.(*net.UDPAddr); ok && *source != "" && !ua.IP.Equal(net.ParseIP(*source)) {
			continue
		}
		out["first_ms"] = float64(time.Since(start).Microseconds()) / 1000
		break
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func many(args []string) error {
	fs := flag.NewFlagSet("many", flag.ExitOnError)
	count := fs.Int("count", 1000, "groups")
	base := fs.String("base", "ff3e::1000:0", "first group")
	source := fs.String("source", "", "source (SSM)")
	hold := fs.Duration("hold", 30*time.Second, "hold time")
	perSocket := fs.Int("per-socket", 200, "memberships per socket")
	ifname := fs.String("if", "", "interface")
	fs.Parse(args)
	ifi, err := iface(*ifname)
	if err != nil {
		return err
	}
	g := netip.MustParseAddr(*base)
	var conns []*ipv6.PacketConn
	var raws []net.PacketConn
	start := time.Now()
	for i := 0; i < *count; i++ {
		if i%*perSocket == 0 {
			c, err := net.ListenPacket("udp6", "[::]:0")
			if err != nil {
				return err
			}
			raws = append(raws, c)
			conns = append(conns, ipv6.NewPacketConn(c))
		}
		if err := join(conns[len(conns)-1], ifi, g.String(), *source); err != nil {
			return fmt.Errorf("join %d (%s): %w", i, g, err)
		}
		g = g.Next()
	}
	joined := time.Since(start)
	fmt.Fprintf(os.Stderr, "joined %d groups in %v; holding %v\n", *count, joined, *hold)
	time.Sleep(*hold)
	leaveStart := time.Now()
	for _, c := range raws {
		c.Close()
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"count": *count, "join_ms": float64(joined.Microseconds()) / 1000,
		"left_at_unix_ns": leaveStart.UnixNano(),
	})
}
