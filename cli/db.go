package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hooktray/hooktray/app"
	"github.com/hooktray/hooktray/app/instance"
	"github.com/hooktray/hooktray/storage"
)

// db is `hooktray db recover`: the way out of a damaged history.
func (c *command) db(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "recover" {
		return usagef("db: the only subcommand is 'recover'")
	}
	fs := c.flags("db recover", "db recover [--data-dir DIR]")
	pos, err := fs.parse(args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("db recover: unexpected argument %q", pos[0])
	}
	dir, err := c.resolveDataDir()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, app.DatabaseFile)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no history to recover at %s", path)
	}
	lock, err := instance.Acquire(dir)
	if err != nil {
		var running *instance.ErrRunning
		if errors.As(err, &running) {
			return fmt.Errorf("%v; quit it first: the history must not change while it is recovered", err)
		}
		return err
	}
	defer lock.Release()

	stamp := time.Now().Format("20060102-150405")
	recovered := path + ".recovered-" + stamp
	fmt.Fprintf(c.env.Stderr, "Copying what can be read from %s…\n", path)
	rep, err := storage.Recover(ctx, path, recovered)
	if err != nil {
		os.Remove(recovered)
		return fmt.Errorf("recover: %w (%s is unchanged)", err, path)
	}
	damaged := path + ".damaged-" + stamp
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+suffix, damaged+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("move the damaged history aside: %w (the recovered copy is %s)", err, recovered)
		}
	}
	if err := os.Rename(recovered, path); err != nil {
		return fmt.Errorf("put the recovered history in place: %w (it is %s; the damaged one is %s)", err, recovered, damaged)
	}
	for _, table := range rep.Tables {
		line := fmt.Sprintf("  %-14s %d copied", table, rep.Copied[table])
		if n := rep.Skipped[table]; n > 0 {
			line += fmt.Sprintf(", %d row ids in damaged pages", n)
		}
		fmt.Fprintln(c.env.Stdout, line)
	}
	fmt.Fprintf(c.env.Stdout, "Recovered into %s; the damaged file is kept as %s.\n", path, damaged)
	if rep.JournalSeqLost {
		fmt.Fprintln(c.env.Stdout, "Warning: the record of which journal webhooks were already stored could not be read; "+
			"if a crash left webhooks in the journal, some may be stored twice at the next start.")
	}
	return nil
}
