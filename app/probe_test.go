package app

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hooktray/hooktray/app/receiver"
	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/tunnel"
)

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func waitProbe(t *testing.T, h *Hub) tunnel.Reachability {
	t.Helper()
	testutil.Eventually(t, "a probe to come back", func() bool { return !h.Services().Reach.Reachability().Checked.IsZero() })
	return h.Services().Reach.Reachability()
}

func TestProbeThroughAnExternalURLThatLeadsHere(t *testing.T) {
	addr := freePort(t)
	h := startHub(t, func(o *Options) {
		o.Listen = addr
		o.Tunnel = tunnel.Settings{PublicURL: "http://" + addr}
	})
	r := waitProbe(t, h)
	if !r.Reachable || r.Error != "" || r.RTT <= 0 {
		t.Errorf("probe %+v", r)
	}
	var st struct {
		Tunnel struct {
			Reachable *bool  `json:"reachable"`
			RTTMS     *int64 `json:"rtt_ms"`
		}
	}
	newAPIClient(t, h).do("GET", "/api/v1/status", "", &st)
	if st.Tunnel.Reachable == nil || !*st.Tunnel.Reachable || st.Tunnel.RTTMS == nil {
		t.Errorf("status %+v", st.Tunnel)
	}
	if n := countEvents(t, h); n != 0 {
		t.Errorf("probes were stored as %d events", n)
	}
}

func TestProbeThroughAQuickTunnel(t *testing.T) {
	bin := fakeCloudflared(t)
	addr := freePort(t)
	// The Cloudflare edge, as far as this test goes: every connection lands on the receiver.
	edge := &http.Client{Transport: &http.Transport{
		DialTLSContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	h := startHub(t, func(o *Options) {
		o.Listen = addr
		o.Tunnel = tunnel.Settings{Mode: tunnel.Quick, Cloudflared: bin}
		o.ProbeClient = edge
	})
	st := waitTunnel(t, h, tunnel.StateOnline)
	r := waitProbe(t, h)
	if !r.Reachable || r.URL != st.URL {
		t.Errorf("probe %+v for %s", r, st.URL)
	}
}

func TestProbeReportsAURLThatDoesNotLeadHere(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("welcome to a router login page"))
	}))
	defer other.Close()
	for _, tc := range []struct{ name, url, want string }{
		{"someone else answers", other.URL, "not as this Hooktray"},
		{"nothing answers", "http://" + freePort(t), "did not come back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startHub(t, func(o *Options) { o.Tunnel = tunnel.Settings{PublicURL: tc.url} })
			r := waitProbe(t, h)
			if r.Reachable || !strings.Contains(r.Error, tc.want) || strings.Contains(r.Error, receiver.ProbePrefix) {
				t.Errorf("probe %+v (it must say why without showing the secret probe path)", r)
			}
		})
	}
}

func TestProbePathNeedsTheSecret(t *testing.T) {
	h := startHub(t, nil)
	req, _ := http.NewRequest("GET", h.Services().Info.ReceiverURL+receiver.ProbePrefix+"guess", nil)
	req.Header.Set(receiver.ProbeNonceHeader, "n")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("a guessed probe path answered %d", resp.StatusCode)
	}
}
