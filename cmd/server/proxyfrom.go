package main

import (
	"net/netip"
	"strings"

	"github.com/expedition-llm/expedition/server"
)

// proxyFrom is --proxy-from's value: the load balancers trusted to send a
// PROXY protocol header. As a flag.Value a bad list is refused by the flag
// package, naming the flag (or by envTwins, naming the variable), and
// exits 2 with the other usage errors.
type proxyFrom []netip.Prefix

func (p *proxyFrom) String() string {
	items := make([]string, len(*p))
	for i, prefix := range *p {
		items[i] = prefix.String()
	}
	return strings.Join(items, ",")
}

// Set replaces the list, so the command line wins over the environment
// rather than adding to it.
func (p *proxyFrom) Set(s string) error {
	prefixes, err := server.ParseProxyFrom(s)
	if err != nil {
		return err
	}
	*p = prefixes
	return nil
}
