// Package deploy holds the files that run Expedition on real machines: a
// systemd unit and its environment file for one VM, a Containerfile, and a
// compose file with HAProxy in front of two servers sharing a class over
// NATS (README.md in this folder walks a teacher through each). It has no
// Go code of its own: its test checks that those files parse and say what
// the README promises, with the real haproxy binary.
package deploy
