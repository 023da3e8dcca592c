package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// checkPublicSSH accepts what --public-ssh may be: a host, or host:port,
// that students type after ssh.
func checkPublicSSH(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "22"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: the port must be 1 to 65535", addr)
	}
	if host == "" || strings.ContainsFunc(host, func(r rune) bool { return r <= ' ' || r == '/' || r == '@' }) {
		return fmt.Errorf("%q: write a host name or address, with :port when it is not 22", addr)
	}
	return nil
}

// checkPublicWeb accepts what --public-web may be: the page's http(s) URL.
func checkPublicWeb(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return errors.New(raw + ": write the page's address, e.g. https://class.example.org/")
	}
	return nil
}
