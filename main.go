// Command hooktray receives webhooks on your computer, keeps every one in SQLite, and shows them
// live. See README.md.
package main

import (
	"context"
	"os"

	"github.com/hooktray/hooktray/cli"
)

// version is set at build time: -ldflags "-X main.version=…".
var version = "dev"

func main() {
	attachConsole()
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Env{
		Stdout:   os.Stdout,
		Stdin:    os.Stdin,
		Stderr:   os.Stderr,
		Terminal: cli.IsTerminal(os.Stdout),
		Version:  version,
		GUI:      desktopApp(),
	}))
}
