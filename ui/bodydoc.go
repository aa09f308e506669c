package ui

import (
	"bytes"
	"encoding/hex"
	"unicode/utf8"
)

// A body is shown as lines prepared off the UI goroutine: the text and, per line, the runs of it
// to colour. Nothing is styled per character, and the view draws only the lines on screen, so a
// body of any size costs what its visible lines cost.

// tokenKind is what a run of a line is, for its colour.
type tokenKind uint8

const (
	tokenPlain tokenKind = iota
	tokenKey
	tokenString
	tokenNumber
	tokenLiteral
)

// span is a coloured run of a line, in bytes from the line's start.
type span struct {
	start, end int32
	kind       tokenKind
}

// lineSource is a document the code view shows: a number of lines, each valid UTF-8.
type lineSource interface {
	Lines() int
	Line(i int) []byte
	Spans(i int) []span
	// MaxRunes is the longest line's length, for the view's width when lines do not wrap.
	MaxRunes() int
}

// textDoc is text split into lines, with coloured runs.
type textDoc struct {
	text     []byte
	starts   []int   // where each line starts in text; one more entry, the end
	spans    []span  // every line's runs, in order
	spanAt   []int32 // the first run of each line in spans; one more entry, the end
	maxRunes int
}

func (d *textDoc) Lines() int { return len(d.starts) - 1 }

func (d *textDoc) Line(i int) []byte { return d.text[d.starts[i]:d.starts[i+1]] }

func (d *textDoc) Spans(i int) []span { return d.spans[d.spanAt[i]:d.spanAt[i+1]] }

func (d *textDoc) MaxRunes() int { return d.maxRunes }

// docBuilder appends lines to a textDoc.
type docBuilder struct {
	d         textDoc
	lineStart int
}

func newDocBuilder(capacity int) *docBuilder {
	b := &docBuilder{}
	b.d.text = make([]byte, 0, capacity)
	b.d.starts = []int{0}
	b.d.spanAt = []int32{0}
	return b
}

// run appends text to the current line, coloured as kind.
func (b *docBuilder) run(text []byte, kind tokenKind) {
	start := len(b.d.text) - b.lineStart
	b.d.text = append(b.d.text, text...)
	if kind != tokenPlain && len(text) > 0 {
		b.d.spans = append(b.d.spans, span{int32(start), int32(start + len(text)), kind})
	}
}

// newline ends the current line.
func (b *docBuilder) newline() {
	b.d.maxRunes = max(b.d.maxRunes, utf8.RuneCount(b.d.text[b.lineStart:]))
	b.lineStart = len(b.d.text)
	b.d.starts = append(b.d.starts, b.lineStart)
	b.d.spanAt = append(b.d.spanAt, int32(len(b.d.spans)))
}

// done ends the last line and returns the document.
func (b *docBuilder) done() *textDoc {
	if b.lineStart < len(b.d.text) || len(b.d.starts) == 1 {
		b.newline()
	}
	return &b.d
}

// plainDoc is text as lines, invalid UTF-8 replaced, tabs and carriage returns as spaces.
func plainDoc(src []byte) *textDoc {
	b := newDocBuilder(len(src))
	for len(src) > 0 {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		b.run(printableLine(line), tokenPlain)
		b.newline()
	}
	return b.done()
}

// printableLine is line as valid UTF-8 without control characters (shown as spaces or U+FFFD).
func printableLine(line []byte) []byte {
	clean := true
	for _, c := range line {
		if c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return line
	}
	out := make([]byte, 0, len(line))
	for len(line) > 0 {
		r, n := utf8.DecodeRune(line)
		switch {
		case r == '\t' || r == '\r':
			out = append(out, ' ')
		case r < 0x20 || r == 0x7f:
			out = utf8.AppendRune(out, '�')
		default:
			out = utf8.AppendRune(out, r) // invalid bytes decode as U+FFFD
		}
		line = line[n:]
	}
	return out
}

// maxIndent bounds the indentation of deeply nested JSON, so a body nested 10,000 deep does not
// become lines of 20,000 spaces.
const maxIndent = 32

// jsonDoc lays JSON out one value a line, indented and coloured, in one pass that needs no valid
// input: a prefix of a body, or a body that is not quite JSON, is laid out as far as it goes.
func jsonDoc(src []byte) *textDoc {
	j := jsonLayout{b: newDocBuilder(len(src) + len(src)/2)}
	for i := 0; i < len(src); {
		i = j.token(src, i)
	}
	return j.b.done()
}

type jsonLayout struct {
	b     *docBuilder
	depth int
	fresh bool // the current line holds only its indentation
}

var spaces = bytes.Repeat([]byte(" "), 2*maxIndent)

// breakLine starts a new line at the current depth.
func (j *jsonLayout) breakLine() {
	j.b.newline()
	j.b.run(spaces[:2*min(j.depth, maxIndent)], tokenPlain)
	j.fresh = true
}

// token lays out the token at src[i] and returns where the next one starts.
func (j *jsonLayout) token(src []byte, i int) int {
	c := src[i]
	switch {
	case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		return i + 1
	case c == '{' || c == '[':
		j.b.run(src[i:i+1], tokenPlain)
		j.depth++
		if i+1 < len(src) && closes(src, i+1) {
			return i + 1 // {} and [] stay on one line
		}
		j.breakLine()
		return i + 1
	case c == '}' || c == ']':
		j.depth = max(0, j.depth-1)
		if !j.fresh && !(i > 0 && opens(src, i-1)) {
			j.breakLine()
		}
		j.b.run(src[i:i+1], tokenPlain)
		j.fresh = false
		return i + 1
	case c == ',':
		j.b.run(src[i:i+1], tokenPlain)
		j.breakLine()
		return i + 1
	case c == ':':
		j.b.run([]byte(": "), tokenPlain)
		return i + 1
	case c == '"':
		end := stringEnd(src, i)
		kind := tokenString
		if k := skipBlank(src, end); k < len(src) && src[k] == ':' {
			kind = tokenKey
		}
		j.b.run(printableLine(src[i:end]), kind)
		j.fresh = false
		return end
	}
	end := i + 1
	for end < len(src) && !bytes.ContainsRune([]byte(" \t\r\n,:{}[]\""), rune(src[end])) {
		end++
	}
	kind := tokenLiteral
	if c == '-' || (c >= '0' && c <= '9') {
		kind = tokenNumber
	}
	j.b.run(printableLine(src[i:end]), kind)
	j.fresh = false
	return end
}

// stringEnd is where the string starting at src[i] ends (after its closing quote, or at the end
// of src when it is cut off).
func stringEnd(src []byte, i int) int {
	for k := i + 1; k < len(src); k++ {
		switch src[k] {
		case '\\':
			k++
		case '"':
			return k + 1
		case '\n':
			return k // a newline cannot be in a JSON string: this is not JSON
		}
	}
	return len(src)
}

func skipBlank(src []byte, i int) int {
	for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
		i++
	}
	return i
}

// closes reports whether the next non-blank byte from i closes a container.
func closes(src []byte, i int) bool {
	k := skipBlank(src, i)
	return k < len(src) && (src[k] == '}' || src[k] == ']')
}

// opens reports whether the last non-blank byte up to i opens a container.
func opens(src []byte, i int) bool {
	for ; i >= 0; i-- {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// hexDoc is bytes as a hex dump, sixteen to a line, each line made when it is drawn.
type hexDoc struct{ b []byte }

func (d hexDoc) Lines() int { return (len(d.b) + 15) / 16 }

func (d hexDoc) Line(i int) []byte {
	chunk := d.b[i*16 : min(len(d.b), i*16+16)]
	line := hex.Dump(chunk) // one line, with offset 0
	line = line[:len(line)-1]
	// Put the real offset in front of the dump's own.
	off := hexOffset(i * 16)
	return append([]byte(off), line[8:]...)
}

func (d hexDoc) Spans(i int) []span { return []span{{0, 8, tokenKey}} }

func (d hexDoc) MaxRunes() int { return 78 }

func hexOffset(n int) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}
