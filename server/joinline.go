package server

import (
	"net"
	"os"
	"slices"
)

// joinHosts are the names a student can reach a server listening on addr
// by, for the join lines a teacher puts on the projector. A server on a
// specific address is reached by it (loopback reads "localhost"); one on
// every interface (0.0.0.0 or ::) by the machine's host name and each of its
// non-loopback addresses, since "localhost" would send each student to
// their own laptop.
func joinHosts(addr string) []string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return []string{"localhost"}
	}
	ip := net.ParseIP(host)
	switch {
	case host == "" || ip != nil && ip.IsUnspecified():
	case ip != nil && ip.IsLoopback():
		return []string{"localhost"}
	default:
		return []string{host}
	}
	var hosts []string
	if name, err := os.Hostname(); err == nil && name != "" && name != "localhost" {
		hosts = append(hosts, name)
	}
	ifaddrs, _ := net.InterfaceAddrs()
	for _, a := range ifaddrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() || n.IP.IsMulticast() {
			continue
		}
		if ip.To4() != nil && n.IP.To4() == nil {
			continue // an IPv4 listener is not reached over IPv6
		}
		if s := n.IP.String(); !slices.Contains(hosts, s) {
			hosts = append(hosts, s)
		}
	}
	if len(hosts) == 0 {
		return []string{"localhost"}
	}
	return hosts
}
