package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hooktray/hooktray/app/ingest"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
)

// A body larger than the receiver's whole memory budget is spooled to a file as it arrives and
// stored: the endpoint's limit decides what fits, not the memory budget. Its signature is checked
// over the file, and the spool folder is empty once the body is in the history.
func TestABodyLargerThanTheMemoryBudgetIsStoredWhole(t *testing.T) {
	h := startHub(t, func(o *Options) { o.Receiver.MaxBodyBytesInFlight = 4 << 20 })
	secret := "whsec_stripe_test_secret_0123456789"
	limit := int64(64 << 20)
	ep := createEndpoint(t, h, "large", func(c *hook.EndpointChange) {
		scheme, mode := hook.Scheme("stripe"), hook.VerifyMode("enforce")
		c.Verify = &hook.VerifyChange{Scheme: &scheme, Mode: &mode}
		c.Secret = &secret
		c.BodyLimit = &limit
	})
	body := append([]byte(`{"type":"bulk.export","data":"`), bytes.Repeat([]byte("x"), 20<<20)...)
	body = append(body, `"}`...)
	resp, answer := post(t, h.Services().Endpoints.URL(ep.ID), body, "Stripe-Signature", stripeHeader(secret, string(body), time.Now()))
	if resp.StatusCode != 200 {
		t.Fatalf("a 20 MiB body with a 4 MiB budget answered %d %s", resp.StatusCode, answer)
	}
	h.Services().History.Settle(context.Background()) // as the admin API does before a read
	ev, err := h.Services().History.Event(context.Background(), newest(t, h).ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ev.Body, body) || ev.Verification.Result != hook.ResultOK || ev.Type != "bulk.export" {
		t.Fatalf("stored %d of %d bytes, verification %+v, type %q", len(ev.Body), len(body), ev.Verification, ev.Type)
	}
	spool := ingest.SpoolDir(filepath.Join(h.Services().Info.DataDir, JournalDir))
	testutil.Eventually(t, "the spool folder to be empty", func() bool {
		left, _ := os.ReadDir(spool)
		return len(left) == 0
	})

	// Tampered: refused with 401, stored with its reason, and its file does not stay behind.
	body[100] = 'y'
	resp, _ = post(t, h.Services().Endpoints.URL(ep.ID), body, "Stripe-Signature", stripeHeader(secret, "other", time.Now()))
	if resp.StatusCode != 401 {
		t.Errorf("a tampered large body answered %d", resp.StatusCode)
	}
	// Over the endpoint's limit while streaming: 413, nothing left in the spool.
	big := bytes.Repeat([]byte("z"), int(limit)+1)
	resp = postChunked(t, h.Services().Endpoints.URL(ep.ID), big)
	if resp.StatusCode != 413 {
		t.Errorf("a body over the limit answered %d", resp.StatusCode)
	}
	testutil.Eventually(t, "the spool folder to be empty again", func() bool {
		left, _ := os.ReadDir(spool)
		return len(left) == 0
	})
}

// postChunked sends body without a Content-Length, so the receiver learns its size only by
// reading it.
func postChunked(t *testing.T, url string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, io.MultiReader(bytes.NewReader(body)))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}
