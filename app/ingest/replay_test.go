package ingest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/hooktray/hooktray/hook"
)

// journalOf writes total frames, perSegment to a segment file, as a crash leaves them: every frame
// acknowledged, none imported. Each body names its sequence. It returns the segment paths.
func journalOf(t *testing.T, dir string, ep hook.Endpoint, total, perSegment int) []string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for first := 1; first <= total; first += perSegment {
		var buf []byte
		for seq := first; seq < first+perSegment && seq <= total; seq++ {
			buf = append(buf, frameOf(ep, uint64(seq))...)
		}
		path := filepath.Join(dir, segmentName(uint64(first)))
		if err := os.WriteFile(path, buf, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

func frameOf(ep hook.Endpoint, seq uint64) []byte {
	ev := newEvent(ep)
	ev.Body = fmt.Appendf(nil, `{"seq":%05d,"pad":"%s"}`, seq, bytes.Repeat([]byte("p"), 200))
	b, _, _ := appendFrame(nil, seq, ev)
	return b
}

// storedSeqs is the sequences whose bodies are in the history.
func storedSeqs(t *testing.T, s *countingStore) []int {
	t.Helper()
	var seqs []int
	for _, ev := range stored(t, s) {
		n, err := strconv.Atoi(string(ev.Body[len(`{"seq":`) : len(`{"seq":`)+5]))
		if err != nil {
			t.Fatalf("body %q", ev.Body)
		}
		seqs = append(seqs, n)
	}
	slices.Sort(seqs)
	return seqs
}

func seqsExcept(total int, lost ...int) []int {
	var out []int
	for seq := 1; seq <= total; seq++ {
		if !slices.Contains(lost, seq) {
			out = append(out, seq)
		}
	}
	return out
}

func modify(t *testing.T, path string, f func(b []byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(b), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestJournalDamageCostsOnlyTheDamagedFrames(t *testing.T) {
	const total, per = 40, 10
	size := len(frameOf(hook.NewEndpoint("x"), 1))
	tests := []struct {
		name string
		// damage breaks the journal (segments of per frames each, in order).
		damage func(t *testing.T, paths []string)
		lost   []int
		// reported is how many of lost are reported unreadable: the acknowledged ones.
		reported int
		// kept is how many segments are moved aside (0 when a segment is missing altogether).
		kept int
	}{
		{"a flipped bit in the middle of a segment loses one frame", func(t *testing.T, p []string) {
			modify(t, p[1], func(b []byte) []byte { b[4*size+size/2] ^= 0x10; return b })
		}, []int{15}, 1, 1},
		{"a bad length field loses one frame", func(t *testing.T, p []string) {
			modify(t, p[2], func(b []byte) []byte { binary.LittleEndian.PutUint32(b[3*size:], 7777); return b })
		}, []int{24}, 1, 1},
		{"a zero-filled stretch loses the frames it covers", func(t *testing.T, p []string) {
			modify(t, p[0], func(b []byte) []byte { clear(b[2*size+3 : 5*size+1]); return b })
		}, []int{3, 4, 5, 6}, 4, 1},
		{"a zero-filled segment loses its frames and is kept", func(t *testing.T, p []string) {
			modify(t, p[1], func(b []byte) []byte { clear(b); return b })
		}, []int{11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 10, 1},
		{"a deleted segment is counted from the next one's name", func(t *testing.T, p []string) {
			os.Remove(p[2])
		}, []int{21, 22, 23, 24, 25, 26, 27, 28, 29, 30}, 10, 0},
		{"a deleted first segment is counted from what SQLite has", func(t *testing.T, p []string) {
			os.Remove(p[0])
		}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 10, 0},
		{"a frame that passes its checksum but does not decode is skipped alone", func(t *testing.T, p []string) {
			modify(t, p[3], func(b []byte) []byte {
				f := undecodable(b[5*size : 6*size])
				return slices.Concat(b[:5*size], f, b[6*size:])
			})
		}, []int{36}, 1, 1},
		{"a torn tail of the newest segment was never acknowledged", func(t *testing.T, p []string) {
			modify(t, p[3], func(b []byte) []byte { return b[:len(b)-size/3] })
		}, []int{40}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, ep := openStore(t)
			dir := filepath.Join(t.TempDir(), "journal")
			tc.damage(t, journalOf(t, dir, ep, total, per))
			q := openQueue(t, store, Options{Dir: dir})

			if got, want := storedSeqs(t, store), seqsExcept(total, tc.lost...); !slices.Equal(got, want) {
				t.Errorf("stored %v,\nwant every intact frame %v", got, want)
			}
			wantLost := tc.reported
			if d := q.Damage(); d.Unreadable != wantLost {
				t.Errorf("damage reports %d unreadable, want %d: %+v", d.Unreadable, wantLost, d)
			}
			notes, err := ReadDamageNotes(dir)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, note := range notes {
				n += note.Unreadable
				if note.Message == "" {
					t.Error("a note without a message")
				}
			}
			if n != wantLost {
				t.Errorf("the notes count %d unreadable, want %d", n, wantLost)
			}
			kept, _ := filepath.Glob(filepath.Join(dir, DamagedDir, "*"+segmentExt))
			if len(kept) != tc.kept {
				t.Errorf("%d segments kept in %s, want %d", len(kept), DamagedDir, tc.kept)
			}
			if left := segments(t, dir); len(left) != 0 {
				t.Errorf("segments left in the journal: %v", left)
			}
			// The next start neither imports again nor reports a gap.
			q.Close()
			before := len(stored(t, store))
			q2 := openQueue(t, store, Options{Dir: dir})
			if q2.Recovered() != 0 || q2.Damage().Unreadable != 0 || len(stored(t, store)) != before {
				t.Errorf("the next start recovered %d and found %d unreadable", q2.Recovered(), q2.Damage().Unreadable)
			}
		})
	}
}

// Frames SQLite already holds cost nothing when they are damaged.
func TestDamageToImportedFramesIsNotALoss(t *testing.T) {
	store, ep := openStore(t)
	dir := filepath.Join(t.TempDir(), "journal")
	journalOf(t, dir, ep, 20, 10)
	q := openQueue(t, store, Options{Dir: dir})
	q.Close()
	// As if the segment had not been retired yet: SQLite has all 20.
	paths := journalOf(t, dir, ep, 20, 10)
	modify(t, paths[0], func(b []byte) []byte { clear(b); return b })
	q2 := openQueue(t, store, Options{Dir: dir})
	if d := q2.Damage(); d.Unreadable != 0 {
		t.Errorf("damage to imported frames reported as %d lost", d.Unreadable)
	}
	if n := len(stored(t, store)); n != 20 {
		t.Errorf("%d events, want 20", n)
	}
}

// undecodable rewrites frame f so that its checksum holds but its fields do not decode: what a
// newer version's frame looks like to this one.
func undecodable(f []byte) []byte {
	payload := append(slices.Clone(f[frameHeader:]), 0xff, 0xff)
	out := make([]byte, frameHeader, frameHeader+len(payload))
	binary.LittleEndian.PutUint32(out, uint32(len(payload)))
	binary.LittleEndian.PutUint32(out[4:], crc32.Checksum(payload, castagnoli))
	return append(out, payload...)
}

func TestScanningADamagedSegmentIsLinear(t *testing.T) {
	// A segment of random-looking bytes must not cost a checksum per offset.
	ep := hook.NewEndpoint("x")
	var buf []byte
	for seq := uint64(1); seq <= 2000; seq++ {
		buf = append(buf, frameOf(ep, seq)...)
	}
	clear(buf[100 : len(buf)-len(frameOf(ep, 2000))])
	dir := t.TempDir()
	path := filepath.Join(dir, segmentName(1))
	os.WriteFile(path, buf, 0o600)
	sc, err := scanSegment(path, func(uint64, *hook.Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if sc.read != 1 || sc.last != 2000 || len(sc.lost) != 1 || sc.lost[0] != (span{1, 1999}) {
		t.Errorf("read %d, last %d, lost %v: want only the last frame read", sc.read, sc.last, sc.lost)
	}
}
