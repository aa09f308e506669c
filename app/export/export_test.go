package export

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/hook"
)

func TestCurlText(t *testing.T) {
	ev := hook.Event{Method: "POST", Query: "a=1&b=it's", Body: []byte(`{"msg":"it's here"}`),
		Header: http.Header{"Content-Type": {"application/json"}, "Host": {"x"}, "Content-Length": {"20"}, "X-Sig": {"t=1,v1=ab"}}}
	want := `curl -X 'POST' 'http://127.0.0.1:8791/webhook/abc?a=1&b=it'\''s' \
  -H 'Content-Type: application/json' \
  -H 'X-Sig: t=1,v1=ab' \
  --data-binary '{"msg":"it'\''s here"}'`
	if got := Curl(ev, "http://127.0.0.1:8791/webhook/abc"); got != want {
		t.Errorf("Curl =\n%s\nwant\n%s", got, want)
	}
}

// TestCurlRuns runs the generated commands with a real shell and curl against a real server and
// checks that what arrives is exactly what was stored.
func TestCurlRuns(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	type got struct {
		method, query string
		header        http.Header
		body          []byte
	}
	arrived := make(chan got, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		arrived <- got{r.Method, r.URL.RawQuery, r.Header, b}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	target := "http://" + ln.Addr().String() + "/webhook/abc"
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	// A body that names a local file must arrive as those words, not as the file.
	localFile := filepath.Join(t.TempDir(), "private")
	if err := os.WriteFile(localFile, []byte("not to be sent"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []hook.Event{
		{Method: "PATCH", Body: []byte("@" + localFile)},
		{Method: "POST", Query: "x=%20y", Body: []byte("line 1\nline 'two' $HOME `cmd` \\ %s"), Header: http.Header{"X-A": {"1"}}},
		{Method: "PUT", Body: allBytes, Header: http.Header{"Content-Type": {"application/octet-stream"}}},
		{Method: "DELETE", Body: []byte{}},
		{Method: "GET"},
	} {
		t.Run(ev.Method, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", Curl(ev, target)+" -s -o /dev/null")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %s\n%s", err, out, Curl(ev, target))
			}
			select {
			case g := <-arrived:
				if g.method != ev.Method || g.query != ev.Query || !bytes.Equal(g.body, ev.Body) {
					t.Errorf("arrived %s ?%s %q, want %s ?%s %q", g.method, g.query, g.body, ev.Method, ev.Query, ev.Body)
				}
				for k, v := range ev.Header {
					if g.header.Get(k) != v[0] {
						t.Errorf("header %s = %q", k, g.header.Get(k))
					}
				}
			case <-time.After(5 * time.Second):
				t.Fatal("nothing arrived")
			}
		})
	}
}

func TestHAR(t *testing.T) {
	ev := hook.Event{ID: 7, Method: "POST", Query: "a=1&a=2", Body: []byte{0xff}, Size: 1, ResponseStatus: 200,
		Header: http.Header{"Content-Type": {"application/octet-stream"}}, ReceivedAt: time.Unix(0, 0)}
	b, err := HAR(ev, "http://h/webhook/x", "test")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Log struct {
			Version string
			Entries []struct {
				Request struct {
					URL         string
					QueryString []struct{ Name, Value string }
					PostData    struct{ Text, Encoding string }
				}
				Response struct{ Status int }
			}
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	e := doc.Log.Entries[0]
	if doc.Log.Version != "1.2" || e.Request.URL != "http://h/webhook/x?a=1&a=2" || len(e.Request.QueryString) != 2 ||
		e.Request.PostData.Text != "/w==" || e.Request.PostData.Encoding != "base64" || e.Response.Status != 200 {
		t.Errorf("HAR %s", b)
	}
}

func TestMaskHidesCredentialsAndSignatures(t *testing.T) {
	ev := hook.Event{Method: "POST", Body: []byte("{}"), Header: http.Header{
		"Authorization": {"Bearer tok"}, "Stripe-Signature": {"t=1,v1=ab"}, "X-My-Secret": {"s3"}, "X-Custom": {"keep"}}}
	m := Mask(ev, "x-my-secret")
	cmd := Curl(m, "http://h/webhook/x")
	for _, secret := range []string{"Bearer tok", "v1=ab", "s3'"} {
		if strings.Contains(cmd, secret) {
			t.Errorf("masked cURL contains %q:\n%s", secret, cmd)
		}
	}
	if !strings.Contains(cmd, "X-Custom: keep") || ev.Header.Get("Authorization") != "Bearer tok" {
		t.Errorf("Mask changed too much: %s / original %v", cmd, ev.Header)
	}
}
