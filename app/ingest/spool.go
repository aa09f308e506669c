package ingest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// spoolDirName is the folder inside the journal where the receiver spools bodies too large for
// memory. A spooled body belongs to the receiver until its request is committed, then to the
// journal, whose frame names the file, until the importer has stored it in SQLite.
const spoolDirName = "bodies"

// SpoolDir is where bodies too large for memory are spooled, for a journal in journalDir.
func SpoolDir(journalDir string) string { return filepath.Join(journalDir, spoolDirName) }

// clearSpool creates the spool folder, or empties it of what an earlier run left: once the journal
// has been imported, no frame names any file in it.
func clearSpool(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the spool folder %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read the spool folder %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clear the spool folder: %w", err)
	}
	return nil
}
