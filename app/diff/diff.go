// Package diff compares two events: their bodies as JSON, path by path (or as text), and their
// headers, name by name.
package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Change is how a path or a header differs.
type Change string

const (
	Added   Change = "added"
	Removed Change = "removed"
	Changed Change = "changed"
)

// Entry is one difference. A and B are JSON values (or header values) on each side; the side that
// lacks it is empty.
type Entry struct {
	Path   string
	Change Change
	A, B   string
}

// Result is the difference of two events.
type Result struct {
	// JSON: both bodies are JSON and Body compares them path by path; else Body has at most one
	// entry, the body as a whole.
	JSON    bool
	Body    []Entry
	Headers []Entry
}

// maxEntries bounds a diff's length: two unrelated large bodies differ everywhere.
const maxEntries = 2000

// Events compares two events' bodies and headers.
func Events(aBody, bBody []byte, aHead, bHead http.Header) Result {
	var r Result
	var a, b any
	if json.Unmarshal(aBody, &a) == nil && json.Unmarshal(bBody, &b) == nil {
		r.JSON = true
		walk(&r.Body, "", a, b)
	} else if !bytes.Equal(aBody, bBody) {
		r.Body = []Entry{{Path: "", Change: Changed, A: string(aBody), B: string(bBody)}}
	}
	r.Headers = headers(aHead, bHead)
	return r
}

func walk(out *[]Entry, path string, a, b any) {
	if len(*out) >= maxEntries {
		return
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		for _, k := range unionKeys(am, bm) {
			av, ina := am[k]
			bv, inb := bm[k]
			p := join(path, k)
			switch {
			case !inb:
				*out = append(*out, Entry{Path: p, Change: Removed, A: enc(av)})
			case !ina:
				*out = append(*out, Entry{Path: p, Change: Added, B: enc(bv)})
			default:
				walk(out, p, av, bv)
			}
		}
		return
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok {
		for i := 0; i < max(len(al), len(bl)); i++ {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(bl):
				*out = append(*out, Entry{Path: p, Change: Removed, A: enc(al[i])})
			case i >= len(al):
				*out = append(*out, Entry{Path: p, Change: Added, B: enc(bl[i])})
			default:
				walk(out, p, al[i], bl[i])
			}
		}
		return
	}
	if ea, eb := enc(a), enc(b); ea != eb {
		*out = append(*out, Entry{Path: path, Change: Changed, A: ea, B: eb})
	}
}

func unionKeys(a, b map[string]any) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// join is a key path as rules write it: body.a.b, or ["odd key"] where a name is not plain.
func join(path, key string) string {
	plain := key != ""
	for _, c := range key {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			plain = false
		}
	}
	if !plain {
		b, _ := json.Marshal(key)
		return path + "[" + string(b) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func enc(v any) string {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	e.Encode(v)
	return strings.TrimSuffix(buf.String(), "\n")
}

func headers(a, b http.Header) []Entry {
	names := map[string]bool{}
	for k := range a {
		names[http.CanonicalHeaderKey(k)] = true
	}
	for k := range b {
		names[http.CanonicalHeaderKey(k)] = true
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	var out []Entry
	for _, k := range sorted {
		av, bv := strings.Join(a.Values(k), ", "), strings.Join(b.Values(k), ", ")
		_, ina := a[k]
		_, inb := b[k]
		switch {
		case !inb:
			out = append(out, Entry{Path: k, Change: Removed, A: av})
		case !ina:
			out = append(out, Entry{Path: k, Change: Added, B: bv})
		case av != bv:
			out = append(out, Entry{Path: k, Change: Changed, A: av, B: bv})
		}
	}
	return out
}
