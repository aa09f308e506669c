package ingest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// DamagedDir is the folder inside the journal where segments that could not be read whole are
// moved, each with a note. Nothing in it is ever deleted by Hooktray.
const DamagedDir = "damaged"

// noteExt ends the name of a note in DamagedDir.
const noteExt = ".note.json"

// DamageNote is one note in DamagedDir: what replay could not read, and where it is. It is JSON so
// that status can count it and a person can read it.
type DamageNote struct {
	FoundAt time.Time `json:"found_at"`
	// Segment is the damaged segment's file, moved beside the note; "" when the frames were in a
	// segment that is missing altogether.
	Segment string `json:"segment,omitempty"`
	// Unreadable is how many acknowledged webhooks could not be read.
	Unreadable int `json:"unreadable"`
	// Sequences are the journal sequences that could not be read, as first–last ranges.
	Sequences [][2]uint64 `json:"sequences"`
	// Imported is how many frames of the segment were read and stored all the same.
	Imported int    `json:"imported"`
	Message  string `json:"message"`
}

// Damage is what Open found unreadable in the journal a previous run left.
type Damage struct {
	Unreadable int          // acknowledged webhooks that could not be read
	Notes      []DamageNote // one per damaged or missing segment, as written into DamagedDir
}

// ReadDamageNotes returns every note in the journal's DamagedDir, oldest first: damage found at
// this start or an earlier one, until the user clears the folder. A note that cannot be read is
// reported as one of unknown size rather than left out.
func ReadDamageNotes(journalDir string) ([]DamageNote, error) {
	dir := filepath.Join(journalDir, DamagedDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the journal's damaged folder: %w", err)
	}
	var notes []DamageNote
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), noteExt) {
			continue
		}
		var n DamageNote
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil {
			err = json.Unmarshal(b, &n)
		}
		if err != nil {
			n = DamageNote{Message: fmt.Sprintf("the note %s cannot be read: %v", e.Name(), err)}
		}
		notes = append(notes, n)
	}
	slices.SortFunc(notes, func(a, b DamageNote) int { return a.FoundAt.Compare(b.FoundAt) })
	return notes, nil
}

// span is a range of journal sequences, first and last included.
type span = [2]uint64

// segmentScan is what one segment held: the frames read, and what could not be read.
type segmentScan struct {
	first uint64 // from the segment's name
	last  uint64 // the highest sequence known to be in the segment, readable or not
	read  int    // frames handed on
	lost  []span // sequences known to be in the segment that could not be read
	torn  bool   // the segment ends in a frame a crash cut short (or damage no later frame shows)
}

// minFrame is the smallest frame appendFrame writes (header, sequence and empty fields): a damaged
// stretch of n bytes cannot have held more than n/minFrame frames.
const minFrame = 32

// scanSegment calls fn for every readable frame of the segment at path, in order. A frame that
// does not check out (a flipped bit, a bad length, zeros) does not end the segment: the scan
// resynchronises on the next frame whose checksum holds and whose sequence follows, so one bad
// frame costs only itself; the sequences skipped are reported lost. A frame whose checksum holds
// but that this version cannot decode is reported lost by its sequence. A frame whose sequence
// does not follow is an old frame of a recycled file: the segment's data ends there.
func scanSegment(path string, fn func(seq uint64, ev *hook.Event) error) (segmentScan, error) {
	first, ok := segmentFirst(path)
	if !ok {
		return segmentScan{}, fmt.Errorf("%s is not an ingest journal segment", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return segmentScan{}, fmt.Errorf("read ingest journal segment: %w", err)
	}
	sc := segmentScan{first: first, last: first - 1}
	for off := 0; off < len(b); {
		seq, ev, n, err := readFrame(b[off:])
		var undecodable *undecodableError
		switch {
		case err == nil:
		case errors.As(err, &undecodable):
			seq, n = undecodable.seq, undecodable.size
		default: // torn or damaged: look for the next good frame
			next, found := resync(b, off+1, sc.last)
			if !found {
				sc.torn = true
				return sc, nil
			}
			off = next
			continue
		}
		if seq <= sc.last {
			return sc, nil // an old frame of a recycled file
		}
		if seq > sc.last+1 {
			sc.lost = append(sc.lost, span{sc.last + 1, seq - 1})
		}
		sc.last = seq
		off += n
		if undecodable != nil {
			sc.lost = append(sc.lost, span{seq, seq})
			continue
		}
		sc.read++
		if err := fn(seq, ev); err != nil {
			return sc, err
		}
	}
	return sc, nil
}

// resync finds the first offset at or after from where a frame with a good checksum and a
// sequence after last begins. The sequence is checked before the checksum, so scanning a
// damaged stretch costs little more than reading it.
func resync(b []byte, from int, last uint64) (int, bool) {
	for o := from; o+frameHeader+8 <= len(b); o++ {
		size := binary.LittleEndian.Uint32(b[o:])
		if size < 8 || int(size) > len(b)-o-frameHeader {
			continue
		}
		seq := binary.LittleEndian.Uint64(b[o+frameHeader:])
		if seq <= last || seq > last+uint64(len(b)-from)/minFrame+1 {
			continue
		}
		if _, _, _, err := readFrame(b[o:]); !errors.Is(err, errTorn) {
			return o, true
		}
	}
	return 0, false
}

// recovery imports what a crash left in the journal and reports what could not be read.
type recovery struct {
	store     Store
	maxImport int
	dir       string
	now       time.Time

	imported uint64 // the last sequence SQLite had before this start
	known    uint64 // the highest sequence known to have been written
	upTo     uint64 // the last sequence of the frames in batch
	batch    []*hook.Event
	count    int // frames imported
	damage   Damage
	// lostBodies are frames whose spooled body's file is missing: stored without the body.
	lostBodies []span
}

// recoverJournal imports the frames of the segments in left that store has not imported, oldest
// first, makes them durable, then removes the segments: intact ones are deleted, damaged ones are
// moved into DamagedDir with a note. It returns the last sequence written (readable or not), how
// many frames it imported, and the damage.
func recoverJournal(ctx context.Context, store Store, dir string, left []string, maxImport int) (uint64, int, Damage, error) {
	last, err := store.JournalSeq(ctx)
	if err != nil {
		return 0, 0, Damage{}, err
	}
	r := &recovery{store: store, maxImport: maxImport, dir: dir, now: time.Now().UTC(), imported: last, known: last, upTo: last}
	if len(left) == 0 {
		return last, 0, Damage{}, nil
	}
	scans := make([]segmentScan, len(left))
	for i, path := range left {
		var prev *segmentScan
		if i > 0 {
			prev = &scans[i-1]
		}
		if scans[i], err = r.segment(ctx, path, prev); err != nil {
			return 0, 0, Damage{}, err
		}
	}
	if err := r.flush(ctx); err != nil {
		return 0, 0, Damage{}, err
	}
	if r.known > r.upTo {
		// The newest sequences could not be read: record them as passed, so that the next start
		// does not take their absence for a missing segment.
		if err := store.ImportBatch(ctx, nil, r.known); err != nil {
			return 0, 0, Damage{}, fmt.Errorf("import the ingest journal: %w", err)
		}
	}
	if err := store.SyncDurable(ctx); err != nil {
		return 0, 0, Damage{}, fmt.Errorf("import the ingest journal: %w", err)
	}
	for i, path := range left {
		if err := r.settle(path, scans[i]); err != nil {
			return 0, 0, Damage{}, err
		}
	}
	if len(r.lostBodies) > 0 {
		r.note(DamageNote{Sequences: r.lostBodies, Message: fmt.Sprintf(
			"%d acknowledged webhook(s) were stored without their body: the file each large body was spooled to is missing", count(r.lostBodies))})
	}
	return r.known, r.count, r.damage, nil
}

// segment imports one segment's unimported frames. The segment's name says where the one before
// it ended, so a gap before it is lost frames: the end of the previous segment when that one
// ends in damage, else a segment that is missing altogether.
func (r *recovery) segment(ctx context.Context, path string, prev *segmentScan) (segmentScan, error) {
	if first, ok := segmentFirst(path); ok && first > r.known+1 {
		gap := span{r.known + 1, first - 1}
		if prev != nil && prev.torn {
			prev.lost = append(prev.lost, gap)
		} else {
			r.note(DamageNote{
				Sequences: []span{gap},
				Message: fmt.Sprintf("%d acknowledged webhook(s) could not be read: the journal segment holding sequences %d–%d is missing",
					count([]span{gap}), gap[0], gap[1]),
			})
		}
	}
	sc, err := scanSegment(path, func(seq uint64, ev *hook.Event) error {
		if seq <= r.imported {
			return nil // imported before the crash: the import is idempotent
		}
		if ev.BodyFile != "" {
			if _, err := os.Stat(ev.BodyFile); err != nil {
				// Stored without its body, saying so (storage.openSpooled); counted here.
				r.lostBodies = append(r.lostBodies, span{seq, seq})
			}
		}
		r.batch, r.upTo = append(r.batch, ev), seq
		r.count++
		if len(r.batch) >= r.maxImport {
			return r.flush(ctx)
		}
		return nil
	})
	if err != nil {
		return sc, err
	}
	r.known = max(r.known, sc.last)
	return sc, nil
}

func (r *recovery) flush(ctx context.Context) error {
	if len(r.batch) == 0 {
		return nil
	}
	if err := r.store.ImportBatch(ctx, r.batch, r.upTo); err != nil {
		return fmt.Errorf("import the ingest journal: %w", err)
	}
	r.batch = r.batch[:0]
	return nil
}

// settle removes a segment whose frames are all in SQLite, or moves a damaged one aside with its
// note. Only sequences SQLite did not already have count as lost.
func (r *recovery) settle(path string, sc segmentScan) error {
	lost := unimported(sc.lost, r.imported)
	if len(lost) == 0 {
		return removeSegment(path)
	}
	dest := filepath.Join(r.dir, DamagedDir, filepath.Base(path))
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return fmt.Errorf("keep the damaged journal segment: %w", err)
	}
	if err := os.Rename(path, dest); err != nil {
		return fmt.Errorf("keep the damaged journal segment: %w", err)
	}
	n := count(lost)
	r.note(DamageNote{
		Segment: dest, Sequences: lost, Imported: sc.read,
		Message: fmt.Sprintf("%d acknowledged webhook(s) in the journal segment %s could not be read; the %d readable ones were stored, and the file was kept for inspection",
			n, filepath.Base(path), sc.read),
	})
	return nil
}

// note writes a damage note into DamagedDir and adds it to the report.
func (r *recovery) note(n DamageNote) {
	n.FoundAt = r.now
	n.Unreadable = count(n.Sequences)
	r.damage.Unreadable += n.Unreadable
	r.damage.Notes = append(r.damage.Notes, n)
	dir := filepath.Join(r.dir, DamagedDir)
	b, _ := json.MarshalIndent(n, "", "  ")
	name := fmt.Sprintf("%s-%020d%s", r.now.Format("20060102T150405Z"), n.Sequences[0][0], noteExt)
	// Best effort: the damage is in the report and the log whether or not the note can be written.
	if os.MkdirAll(dir, 0o700) == nil {
		_ = os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o600)
	}
}

// unimported keeps the parts of spans after imported.
func unimported(spans []span, imported uint64) []span {
	var out []span
	for _, s := range spans {
		if s[1] <= imported {
			continue
		}
		out = append(out, span{max(s[0], imported+1), s[1]})
	}
	return out
}

func count(spans []span) int {
	n := 0
	for _, s := range spans {
		n += int(s[1] - s[0] + 1)
	}
	return n
}
