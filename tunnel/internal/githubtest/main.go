// Command githubtest serves a stand-in for GitHub's Releases API and download host on a local
// port, for trying "Download cloudflared" by hand where GitHub cannot be reached:
//
//	go build -o /tmp/cloudflared ./tunnel/internal/cloudflaredtest
//	go run ./tunnel/internal/githubtest -binary /tmp/cloudflared -listen 127.0.0.1:8799 -fault slow
//	HOOKTRAY_RELEASES_API=http://127.0.0.1:8799 make run
//
// -fault is one of tunneltest's faults (wrong-digest, no-digest, wrong-size, truncated, missing,
// rate-limited, no-asset, empty-tgz, slow).
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/hooktray/hooktray/tunnel/tunneltest"
)

func main() {
	binary := flag.String("binary", "", "the file every release asset serves (e.g. the fake cloudflared)")
	listen := flag.String("listen", "127.0.0.1:8799", "address to serve on")
	version := flag.String("version", "2026.9.0", "the latest release's tag")
	fault := flag.String("fault", "", "how to misbehave (see tunneltest.Fault)")
	flag.Parse()
	b, err := os.ReadFile(*binary)
	if err != nil {
		fmt.Fprintln(os.Stderr, "githubtest: -binary:", err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "githubtest:", err)
		os.Exit(1)
	}
	gh := tunneltest.NewReleasesOn(ln, b, *version)
	defer gh.Close()
	gh.SetFault(tunneltest.Fault(*fault))
	fmt.Printf("githubtest: serving cloudflared %s at %s (fault %q); Ctrl-C ends it\n", *version, gh.URL, *fault)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
