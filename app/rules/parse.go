package rules

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// parseJSON reads a JSON document into the values rules see: maps, slices, strings, int64 for a
// whole number that fits a double exactly, float64 for any other, bools and nil. It is
// encoding/json's Unmarshal into any, in one pass without reflection, so a rule pays a
// fraction of the body's parse (the most of what a rule costs); FuzzParseJSON holds it to
// encoding/json's answers.
func parseJSON(b []byte) (any, error) {
	p := jsonReader{b: b}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.b) {
		return nil, errSyntax
	}
	return v, nil
}

var errSyntax = errors.New("not JSON")

// maxNesting is as deep as a body is read (encoding/json's own limit is 10,000).
const maxNesting = 10_000

type jsonReader struct {
	b []byte
	i int
}

func (p *jsonReader) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonReader) value(depth int) (any, error) {
	if p.i >= len(p.b) {
		return nil, errSyntax
	}
	switch c := p.b[p.i]; {
	case (c == '{' || c == '[') && depth >= maxNesting: // depth containers are open already
		return nil, errSyntax
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.word("true")
	case c == 'f':
		return false, p.word("false")
	case c == 'n':
		return nil, p.word("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, errSyntax
}

func (p *jsonReader) word(w string) error {
	if len(p.b)-p.i < len(w) || string(p.b[p.i:p.i+len(w)]) != w {
		return errSyntax
	}
	p.i += len(w)
	return nil
}

func (p *jsonReader) object(depth int) (any, error) {
	p.i++ // {
	m := map[string]any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, errSyntax
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, errSyntax
		}
		p.i++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v // a repeated key: the last wins, as in encoding/json
		p.space()
		if p.i >= len(p.b) {
			return nil, errSyntax
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return m, nil
		default:
			return nil, errSyntax
		}
	}
}

func (p *jsonReader) array(depth int) (any, error) {
	p.i++ // [
	a := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.space()
		if p.i >= len(p.b) {
			return nil, errSyntax
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return a, nil
		default:
			return nil, errSyntax
		}
	}
}

// str reads a string; invalid UTF-8 and lone surrogates become U+FFFD, as in encoding/json.
func (p *jsonReader) str() (string, error) {
	p.i++ // "
	start := p.i
	for p.i < len(p.b) { // the common case: no escapes, valid UTF-8
		c := p.b[p.i]
		if c == '"' {
			s := p.b[start:p.i]
			p.i++
			return string(s), nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		p.i++
	}
	out := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), nil
		case c < 0x20:
			return "", errSyntax
		case c == '\\':
			var err error
			if out, err = p.escape(out); err != nil {
				return "", err
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			out = utf8.AppendRune(out, r) // RuneError for invalid bytes
			p.i += size
		}
	}
	return "", errSyntax
}

func (p *jsonReader) escape(out []byte) ([]byte, error) {
	if p.i+1 >= len(p.b) {
		return nil, errSyntax
	}
	c := p.b[p.i+1]
	p.i += 2
	switch c {
	case '"', '\\', '/':
		return append(out, c), nil
	case 'b':
		return append(out, '\b'), nil
	case 'f':
		return append(out, '\f'), nil
	case 'n':
		return append(out, '\n'), nil
	case 'r':
		return append(out, '\r'), nil
	case 't':
		return append(out, '\t'), nil
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return nil, errSyntax
		}
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
				save := p.i
				p.i += 2
				var ok2 bool
				if r2, ok2 = p.hex4(); !ok2 {
					return nil, errSyntax
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					return utf8.AppendRune(out, dec), nil
				}
				p.i = save // not a pair: the second escape is read on its own
			}
			return utf8.AppendRune(out, utf8.RuneError), nil
		}
		return utf8.AppendRune(out, r), nil
	}
	return nil, errSyntax
}

func (p *jsonReader) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// number reads a number as JSON writes it; a whole one within ±2^53 is an int64.
func (p *jsonReader) number() (any, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	whole := true
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case p.i < len(p.b) && p.b[p.i] >= '1' && p.b[p.i] <= '9':
		p.digits()
	default:
		return nil, errSyntax
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if !p.digits() {
			return nil, errSyntax
		}
		whole = false
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if !p.digits() {
			return nil, errSyntax
		}
		whole = false
	}
	if text := p.b[start:p.i]; whole && len(text) < 16 { // fewer than 16 digits: within ±2^53
		return wholeNumber(text), nil
	}
	f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil {
		return nil, errSyntax // out of a double's range, as encoding/json refuses it
	}
	return numbers(f), nil
}

// wholeNumber is the value of a checked integer literal of at most 15 digits.
func wholeNumber(text []byte) int64 {
	neg := text[0] == '-'
	if neg {
		text = text[1:]
	}
	var n int64
	for _, c := range text {
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

func (p *jsonReader) digits() bool {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}
