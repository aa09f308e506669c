// Package keypath reads a value out of a request by a key path, the ECMAScript subset Homey's
// webhook service describes (body.device_id, headers['X-Device-Id']): routers route by it, and
// endpoints find their event type with it.
package keypath

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Path is a parsed key path: a root (body, headers or query) and the steps below it. The
// language is exactly the ECMAScript subset Homey describes: identifiers, member access and key
// lookup with a literal (body.device_id, headers['X-Device-Id'], body.items[0].id).
type Path struct {
	Root  string
	Steps []Step
	src   string
}

// Step is one member access: a property name or an array index.
type Step struct {
	Name    string
	Index   int
	IsIndex bool
}

func (k Path) String() string { return k.src }

// Parse parses s, or says exactly what is wrong and where.
func Parse(s string) (Path, error) {
	p := &parser{s: s}
	kp := Path{src: s}
	root, err := p.ident()
	if err != nil {
		return Path{}, err
	}
	switch root {
	case "body", "headers", "query":
	default:
		return Path{}, fmt.Errorf("key path must start with body, headers or query, not %q", root)
	}
	kp.Root = root
	for p.i < len(s) {
		switch s[p.i] {
		case '.':
			p.i++
			name, err := p.ident()
			if err != nil {
				return Path{}, err
			}
			kp.Steps = append(kp.Steps, Step{Name: name})
		case '[':
			p.i++
			st, err := p.literal()
			if err != nil {
				return Path{}, err
			}
			if p.i >= len(s) || s[p.i] != ']' {
				return Path{}, fmt.Errorf("key path: expected ] at position %d", p.i+1)
			}
			p.i++
			kp.Steps = append(kp.Steps, st)
		default:
			return Path{}, fmt.Errorf("key path: unexpected %q at position %d (only .name, [0] and ['name'] are allowed)", s[p.i], p.i+1)
		}
	}
	if kp.Root == "headers" || kp.Root == "query" {
		if len(kp.Steps) != 1 || kp.Steps[0].IsIndex {
			return Path{}, fmt.Errorf("key path: %s takes exactly one name, as in %s['X-Device-Id']", kp.Root, kp.Root)
		}
	}
	if len(kp.Steps) == 0 {
		return Path{}, fmt.Errorf("key path: %s alone is not a value; name a property, as in %s.device_id", kp.Root, kp.Root)
	}
	return kp, nil
}

type parser struct {
	s string
	i int
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func (p *parser) ident() (string, error) {
	start := p.i
	if p.i >= len(p.s) || !isIdentStart(p.s[p.i]) {
		return "", fmt.Errorf("key path: expected a name at position %d", p.i+1)
	}
	for p.i < len(p.s) && isIdentPart(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i], nil
}

func (p *parser) literal() (Step, error) {
	if p.i >= len(p.s) {
		return Step{}, fmt.Errorf("key path: unfinished [ at the end")
	}
	switch q := p.s[p.i]; {
	case q == '\'' || q == '"':
		p.i++
		var b strings.Builder
		for p.i < len(p.s) && p.s[p.i] != q {
			if p.s[p.i] == '\\' && p.i+1 < len(p.s) {
				p.i++
			}
			b.WriteByte(p.s[p.i])
			p.i++
		}
		if p.i >= len(p.s) {
			return Step{}, fmt.Errorf("key path: unterminated string")
		}
		p.i++
		return Step{Name: b.String()}, nil
	case q >= '0' && q <= '9':
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		n, err := strconv.Atoi(p.s[start:p.i])
		if err != nil || n > 1<<20 {
			return Step{}, fmt.Errorf("key path: index %s is too large", p.s[start:p.i])
		}
		return Step{Index: n, IsIndex: true}, nil
	}
	return Step{}, fmt.Errorf("key path: [ must hold a number or a quoted name (position %d)", p.i+1)
}

// Request is what a key path reads.
type Request struct {
	Header http.Header
	Query  url.Values
	Body   []byte
}

// Lookup returns the value the key path names in r as text (strings as they are, numbers and
// booleans as JSON writes them), or false. Header names match case-insensitively, as HTTP says
// they do (Homey's paths are case-sensitive; headers are not, on the wire).
func (k Path) Lookup(r Request) (string, bool) {
	switch k.Root {
	case "headers":
		v := r.Header.Values(k.Steps[0].Name)
		if len(v) == 0 {
			return "", false
		}
		return v[0], true
	case "query":
		v, ok := r.Query[k.Steps[0].Name]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	for _, st := range k.Steps {
		switch x := v.(type) {
		case map[string]any:
			if st.IsIndex {
				st.Name = strconv.Itoa(st.Index) // obj[0] reads key "0", as in ECMAScript
			}
			var ok bool
			if v, ok = x[st.Name]; !ok {
				return "", false
			}
		case []any:
			if !st.IsIndex || st.Index >= len(x) {
				return "", false
			}
			v = x[st.Index]
		default:
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}
