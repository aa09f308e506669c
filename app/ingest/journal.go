package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hooktray/hooktray/hook"
)

// journal is the directory of segment files the writer appends groups of frames to. A segment is
// named by the sequence of its first frame, so sorting the names sorts the frames. Only the
// writer goroutine appends; the importer retires segments whose frames are all in SQLite.
//
// A retired segment is kept as a spare and written over by a later one: overwriting blocks a file
// already has makes each fdatasync flush only data, where appending also commits the file
// system's journal for the new size (about 40 % slower here). A recycled file still holds old
// frames past the new ones; their sequences are below the segment's first, which is how replay
// tells them apart.
type journal struct {
	dir     string
	maxSize int64

	cur     *os.File // nil until the next append opens a segment
	curSize int64    // the bytes of cur that hold whole, durable frames

	spares []string // retired segment files to write over, under mu

	retiring sync.Mutex // one retire at a time: the importer's and the checkpointer's

	mu   sync.Mutex
	full []segment // segments no longer appended to, oldest first
	open segment   // the segment cur is
}

type segment struct {
	path string
	last uint64 // the last sequence durable in it; 0 while it has none
}

const (
	segmentExt = ".journal"
	spareExt   = ".spare"
	maxSpares  = 2
)

func segmentName(first uint64) string { return fmt.Sprintf("%020d%s", first, segmentExt) }

// openJournal creates dir (private, like the rest of the data dir) and returns the segments a
// previous run left, oldest first.
func openJournal(dir string, maxSize int64) (*journal, []string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create the ingest journal %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read the ingest journal %s: %w", dir, err)
	}
	j := &journal{dir: dir, maxSize: maxSize}
	var left []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		if _, ok := segmentFirst(name); ok {
			left = append(left, filepath.Join(dir, name))
		} else if strings.HasSuffix(name, spareExt) && len(j.spares) < maxSpares {
			j.spares = append(j.spares, filepath.Join(dir, name))
		}
	}
	slices.Sort(left)
	return j, left, nil
}

// segmentFirst is the first sequence of the segment named name.
func segmentFirst(name string) (uint64, bool) {
	first, ok := strings.CutSuffix(filepath.Base(name), segmentExt)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(first, 10, 64)
	return n, err == nil
}

// written is where a group of frames went: its segment and its bytes there.
type written struct {
	path string
	off  int64
	size int
}

// read reads the frames of w back from its segment, which stays until they are imported.
func (w written) read() ([]*hook.Event, error) {
	f, err := os.Open(w.path)
	if err != nil {
		return nil, fmt.Errorf("read acknowledged requests back from the journal: %w", err)
	}
	defer f.Close()
	b := make([]byte, w.size)
	if _, err := f.ReadAt(b, w.off); err != nil {
		return nil, fmt.Errorf("read acknowledged requests back from the journal: %w", err)
	}
	var evs []*hook.Event
	for len(b) > 0 {
		_, ev, n, err := readFrame(b)
		if err != nil {
			return nil, fmt.Errorf("read acknowledged requests back from the journal %s: %w", filepath.Base(w.path), err)
		}
		evs, b = append(evs, ev), b[n:]
	}
	return evs, nil
}

// append writes buf, whole frames first..last, makes it durable and says where it went. On error
// the segment is cut back to its last durable frame (or abandoned, if even that fails), so no
// half-written frame sits before later ones.
func (j *journal) append(buf []byte, first, last uint64) (written, error) {
	if j.cur == nil {
		if err := j.start(first); err != nil {
			return written{}, err
		}
	}
	at := written{path: j.cur.Name(), off: j.curSize, size: len(buf)}
	_, err := j.cur.Write(buf)
	if err == nil && Durable {
		err = datasync(j.cur)
	}
	if err != nil {
		if terr := j.cur.Truncate(j.curSize); terr != nil {
			j.finish()
		} else if _, serr := j.cur.Seek(j.curSize, 0); serr != nil {
			j.finish()
		}
		return written{}, fmt.Errorf("write the ingest journal: %w", err)
	}
	j.curSize += int64(len(buf))
	j.mu.Lock()
	j.open.last = last
	j.mu.Unlock()
	if j.curSize >= j.maxSize {
		j.finish()
	}
	return at, nil
}

// start creates the segment whose first frame is first, from a spare when there is one, and makes
// its name durable.
func (j *journal) start(first uint64) error {
	path := filepath.Join(j.dir, segmentName(first))
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	j.mu.Lock()
	if n := len(j.spares); n > 0 {
		spare := j.spares[n-1]
		j.spares = j.spares[:n-1]
		if os.Rename(spare, path) == nil {
			flags = os.O_WRONLY // written over from the start
		}
	}
	j.mu.Unlock()
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return fmt.Errorf("create an ingest journal segment: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("create an ingest journal segment: %w", err)
	}
	j.cur, j.curSize = f, 0
	j.mu.Lock()
	j.open = segment{path: path}
	j.mu.Unlock()
	return nil
}

// finish stops appending to the current segment; the next append starts a new one.
func (j *journal) finish() {
	if j.cur == nil {
		return
	}
	j.cur.Close()
	j.cur = nil
	j.mu.Lock()
	j.full = append(j.full, j.open)
	j.open = segment{}
	j.mu.Unlock()
}

// retire removes the full segments whose frames are all imported, once durable makes what was
// imported durable in SQLite (the importer commits with synchronous=NORMAL).
func (j *journal) retire(imported uint64, durable func() error) error {
	j.retiring.Lock()
	defer j.retiring.Unlock()
	n := j.retirable(imported)
	j.mu.Lock()
	done := slices.Clone(j.full[:n])
	j.mu.Unlock()
	if n == 0 {
		return nil
	}
	if err := durable(); err != nil {
		return err
	}
	var errs []error
	for _, s := range done {
		errs = append(errs, j.recycle(s.path))
	}
	j.mu.Lock()
	j.full = j.full[n:]
	j.mu.Unlock()
	return errors.Join(errs...)
}

// retirable is how many full segments, oldest first, hold only frames up to imported.
func (j *journal) retirable(imported uint64) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for n < len(j.full) && j.full[n].last <= imported {
		n++
	}
	return n
}

// recycle keeps a retired segment as a spare, or removes it when there are enough.
func (j *journal) recycle(path string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.spares) < maxSpares {
		spare := strings.TrimSuffix(path, segmentExt) + spareExt
		if os.Rename(path, spare) == nil {
			j.spares = append(j.spares, spare)
			return nil
		}
	}
	return removeSegment(path)
}

// close ends the current segment and, when every frame was imported, retires them all; spares
// are removed, so a stopped Hooktray leaves no journal files behind.
func (j *journal) close(imported uint64, durable func() error) error {
	j.finish()
	err := j.retire(imported, durable)
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, spare := range j.spares {
		err = errors.Join(err, removeSegment(spare))
	}
	j.spares = nil
	return err
}

// removeSegment removes a segment whose frames SQLite holds durably.
func removeSegment(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove an imported ingest journal segment: %w", err)
	}
	return nil
}
