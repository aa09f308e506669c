package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hooktray/hooktray/hook"
)

// shellWords splits a command the way a POSIX shell does for what Curl writes: single-quoted
// strings, \' outside quotes, backslash-newline continuations and a pipe. It fails on anything
// else outside quotes that a shell would treat specially.
func shellWords(t *testing.T, cmd string) (words []string, pipeAt int) {
	t.Helper()
	pipeAt = -1
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case c == '\'':
			end := strings.IndexByte(cmd[i+1:], '\'')
			if end < 0 {
				t.Fatalf("unterminated quote in %q", cmd)
			}
			cur.WriteString(cmd[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '\\' && i+1 < len(cmd) && cmd[i+1] == '\n':
			i++
		case c == '\\' && i+1 < len(cmd):
			cur.WriteByte(cmd[i+1])
			i++
			inWord = true
		case c == ' ' || c == '\n':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case c == '|' && !inWord:
			pipeAt = len(words)
		case strings.IndexByte("$`\"&;<>(){}*?[]~#\t", c) >= 0:
			t.Fatalf("unquoted shell character %q at %d in %q", c, i, cmd)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, pipeAt
}

// printfFormat decodes what printfEscape wrote, as printf(1) reads its format.
func printfFormat(t *testing.T, f string) []byte {
	t.Helper()
	var out []byte
	for i := 0; i < len(f); i++ {
		switch {
		case f[i] == '%' && i+1 < len(f) && f[i+1] == '%':
			out = append(out, '%')
			i++
		case f[i] == '\\' && i+1 < len(f) && f[i+1] == '\\':
			out = append(out, '\\')
			i++
		case f[i] == '\\' && i+3 < len(f):
			n, err := strconv.ParseUint(f[i+1:i+4], 8, 8)
			if err != nil {
				t.Fatalf("bad escape %q", f[i:i+4])
			}
			out = append(out, byte(n))
			i += 3
		case f[i] == '%' || f[i] == '\\':
			t.Fatalf("printf would interpret %q", f[i:])
		default:
			out = append(out, f[i])
		}
	}
	return out
}

// FuzzCurl checks that the command Curl writes, as a shell reads it, sends exactly the stored
// method, query, headers and body, whatever bytes a webhook brought.
func FuzzCurl(f *testing.F) {
	f.Add("POST", "a=1&b=it's", "X-Sig", "t=1,v1=ab", []byte(`{"msg":"it's here"}`))
	f.Add("PUT", "", "Content-Type", "application/octet-stream", []byte{0, 1, 2, '%', '\\', '\'', 0xff})
	f.Add("POST", "", "X-A", "b", []byte("@-"))
	f.Add("POST", "", "X-A", "b", []byte("@/etc/passwd"))
	f.Add("GET", "q=$(rm -rf ~)", "X-Evil", "`id`; $HOME \"x\"", []byte(nil))
	f.Fuzz(func(t *testing.T, method, query, name, value string, body []byte) {
		if method == "" || name == "" || !validToken(name) || !validValue(value) {
			return // not something the receiver can have stored
		}
		ev := hook.Event{Method: method, Query: query, Body: body, Header: http.Header{name: {value}}}
		words, pipeAt := shellWords(t, Curl(ev, "http://127.0.0.1:8791/webhook/abc"))
		stdin := []byte(nil)
		if pipeAt >= 0 {
			if pipeAt != 2 || words[0] != "printf" {
				t.Fatalf("unexpected pipeline %q", words)
			}
			stdin, words = printfFormat(t, words[1]), words[2:]
		}
		if words[0] != "curl" {
			t.Fatalf("not a curl command: %q", words)
		}
		var gotMethod, gotURL string
		var gotBody []byte
		var headers []string
		for i := 1; i < len(words); i++ {
			switch words[i] {
			case "-X":
				i++
				gotMethod = words[i]
			case "-H":
				i++
				headers = append(headers, words[i])
			case "--data-binary":
				i++
				gotBody = []byte(words[i])
				if words[i] == "@-" {
					gotBody = stdin
				}
			default:
				gotURL = words[i]
			}
		}
		wantURL := "http://127.0.0.1:8791/webhook/abc"
		if query != "" {
			wantURL += "?" + query
		}
		if gotURL != wantURL {
			t.Errorf("URL %q, want %q", gotURL, wantURL)
		}
		if (gotMethod != "" || method != http.MethodGet) && gotMethod != method {
			t.Errorf("method %q, want %q", gotMethod, method)
		}
		if !bytes.Equal(gotBody, body) && !(len(body) == 0 && len(gotBody) == 0) {
			t.Errorf("body %q, want %q", gotBody, body)
		}
		if !skipHeaders[http.CanonicalHeaderKey(name)] && (len(headers) != 1 || headers[0] != name+": "+value) {
			t.Errorf("headers %q, want %q", headers, name+": "+value)
		}
	})
}

func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// FuzzHAR checks that a HAR export is valid JSON whose request carries the exact body and, for
// values that are text, the exact headers.
func FuzzHAR(f *testing.F) {
	f.Add("POST", "a=1", "X-A", "1", []byte(`{"a":1}`))
	f.Add("POST", "%zz", "X-Bin", "caf\xe9", []byte{0xff, 0xfe, 0})
	f.Fuzz(func(t *testing.T, method, query, name, value string, body []byte) {
		ev := hook.Event{Method: method, Query: query, Body: body, Header: http.Header{name: {value}}}
		doc, err := HAR(ev, "http://127.0.0.1:8791/webhook/abc", "test")
		if err != nil {
			t.Fatal(err)
		}
		var har struct {
			Log struct {
				Entries []struct {
					Request struct {
						Headers  []struct{ Name, Value string }
						PostData *struct{ Text, Encoding string }
					}
				}
			}
		}
		if err := json.Unmarshal(doc, &har); err != nil || len(har.Log.Entries) != 1 {
			t.Fatalf("not a HAR document: %v\n%s", err, doc)
		}
		req := har.Log.Entries[0].Request
		if body != nil {
			got := []byte(req.PostData.Text)
			if req.PostData.Encoding == "base64" {
				got, _ = base64.StdEncoding.DecodeString(req.PostData.Text)
			}
			if !bytes.Equal(got, body) {
				t.Errorf("body %q, want %q", got, body)
			}
		}
		if utf8.ValidString(name) && utf8.ValidString(value) && (len(req.Headers) != 1 || req.Headers[0].Name != name || req.Headers[0].Value != value) {
			t.Errorf("headers %+v, want %s: %s", req.Headers, name, value)
		}
	})
}
