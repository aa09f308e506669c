// Package pretty lays out untrusted JSON for people to read, within bounds. A body of 20 KB nested
// 10,000 deep indents to hundreds of megabytes (indentation grows with the square of the depth),
// and any sender on the Internet can post one: so the layout stops at a depth and an output size,
// and the caller shows the text as it was sent, with the reason.
package pretty

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Limits bound a layout. Zero fields take the defaults.
type Limits struct {
	MaxDepth  int // nesting levels (default 64)
	MaxOutput int // bytes of output (default 4 × the input + 64 KiB, at most 64 MiB)
}

// Default limits.
const (
	DefaultMaxDepth = 64
	maxOutputCap    = 64 << 20
)

func (l Limits) resolve(in int) Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = min(4*in+64<<10, maxOutputCap)
	}
	return l
}

// ErrNotJSON means the text is not JSON.
var ErrNotJSON = errors.New("not JSON")

// LimitError says why a layout stopped: too deep, or too large once laid out.
type LimitError struct {
	Depth  int // the limit on depth that was passed (0 when it was the size)
	Output int // the limit on output size that was passed (0 when it was the depth)
}

func (e *LimitError) Error() string {
	if e.Depth > 0 {
		return fmt.Sprintf("nested more than %d levels deep", e.Depth)
	}
	return fmt.Sprintf("more than %d bytes once laid out", e.Output)
}

// JSON lays b out as encoding/json's Indent does with a two-space indent, or returns ErrNotJSON or
// a *LimitError without producing more than the limits allow. It takes time linear in len(b).
func JSON(b []byte, l Limits) ([]byte, error) {
	if !json.Valid(b) {
		return nil, ErrNotJSON
	}
	l = l.resolve(len(b))
	out := make([]byte, 0, min(len(b)+len(b)/2, l.MaxOutput))
	depth := 0
	newline := func() {
		out = append(out, '\n')
		for range depth {
			out = append(out, ' ', ' ')
		}
	}
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case ' ', '\t', '\n', '\r':
		case '"':
			end := stringEnd(b, i)
			out = append(out, b[i:end]...)
			i = end - 1
		case '{', '[':
			if j := skipSpace(b, i+1); b[j] == c+2 { // {} and [] stay as they are
				out = append(out, c, c+2)
				i = j
				break
			}
			if depth++; depth > l.MaxDepth {
				return nil, &LimitError{Depth: l.MaxDepth}
			}
			out = append(out, c)
			newline()
		case '}', ']':
			depth--
			newline()
			out = append(out, c)
		case ',':
			out = append(out, ',')
			newline()
		case ':':
			out = append(out, ':', ' ')
		default:
			out = append(out, c)
		}
		if len(out) > l.MaxOutput {
			return nil, &LimitError{Output: l.MaxOutput}
		}
	}
	return out, nil
}

// stringEnd is the index just past the JSON string that starts at b[i] (a quote).
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
