// Command cloudflare-standin runs the stand-in of Cloudflare's API and workers.dev edge
// (app/inbox/cloudflaretest) on fixed local ports, so the inbox's set-up can be tried from the
// window or the CLI with nothing reaching Cloudflare:
//
//	go run ./internal/cloudflare-standin -api 127.0.0.1:8787 -edge 127.0.0.1:8788
//	HOOKTRAY_CLOUDFLARE_API=http://127.0.0.1:8787 HOOKTRAY_WORKERS_DEV=http://127.0.0.1:8788 ./bin/hooktray
//
// It prints the API token and account id to set the inbox up with.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hooktray/hooktray/app/inbox/cloudflaretest"
)

func main() {
	apiListen := flag.String("api", "127.0.0.1:8787", "where Cloudflare's API stands in")
	edgeListen := flag.String("edge", "127.0.0.1:8788", "where the workers.dev edge stands in")
	dir := flag.String("dir", "", "where uploaded Workers keep their storage (default: a new temporary directory)")
	flag.Parse()
	if err := run(*apiListen, *edgeListen, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "cloudflare-standin:", err)
		os.Exit(1)
	}
}

func run(apiListen, edgeListen, dir string) error {
	repo, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(repo, "scripts", "edge-local.sh")); err != nil {
		return fmt.Errorf("run it from the repository's root (scripts/edge-local.sh runs the uploaded Worker): %w", err)
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "cloudflare-standin-"); err != nil {
			return err
		}
	}
	api, err := cloudflaretest.Start(cloudflaretest.Config{Repo: repo, Dir: dir, APIListen: apiListen, EdgeListen: edgeListen})
	if err != nil {
		return err
	}
	defer api.Close()
	fmt.Printf("Cloudflare's API: %s\nworkers.dev:      %s\nAPI token:        %s\naccount id:       %s\n",
		api.URL, api.Edge.URL, api.Token, api.Account)
	fmt.Printf("\nHOOKTRAY_CLOUDFLARE_API=%s HOOKTRAY_WORKERS_DEV=%s ./bin/hooktray\n", api.URL, api.Edge.URL)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	return nil
}
