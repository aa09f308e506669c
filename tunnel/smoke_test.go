package tunnel

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRealQuickTunnel runs the real cloudflared against the real Cloudflare edge. It needs
// Internet and cloudflared on PATH, so it only runs with HOOKTRAY_SMOKE_CLOUDFLARED=1:
//
//	HOOKTRAY_SMOKE_CLOUDFLARED=1 go test -run TestRealQuickTunnel -v ./tunnel/
func TestRealQuickTunnel(t *testing.T) {
	if os.Getenv("HOOKTRAY_SMOKE_CLOUDFLARED") != "1" {
		t.Skip("set HOOKTRAY_SMOKE_CLOUDFLARED=1 to run against the real Cloudflare edge")
	}
	bin, err := FindCloudflared("", "")
	if err != nil {
		t.Fatal(err)
	}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hooktray smoke test")
	}))
	defer origin.Close()
	statuses := make(chan Status, 100)
	c := &Cloudflared{Binary: bin, Mode: Quick, Origin: origin.URL, OnStatus: func(s Status) { statuses <- s }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	deadline := time.After(90 * time.Second)
	var url string
	for url == "" {
		select {
		case s := <-statuses:
			t.Logf("tunnel: %s %s %s", s.State, s.URL, s.Error)
			if s.State == StateOnline {
				url = s.URL
			}
		case <-deadline:
			t.Fatalf("not online within 90 s; log:\n%s", strings.Join(c.Log.Lines(), "\n"))
		}
	}
	// A new quick tunnel's DNS takes a few seconds to appear.
	for i := 0; ; i++ {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) == "hooktray smoke test" {
				return
			}
		}
		if i == 30 {
			t.Fatalf("%s never reached the origin: %v", url, err)
		}
		time.Sleep(2 * time.Second)
	}
}
