// Package fill builds large histories for the benchmarks, straight through storage.
package fill

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/storage"
)

// RareWord appears in one event in 100,000, for timing a selective search.
const RareWord = "zyzzogeton"

// History fills dir's database with n events (bodies of about 400 bytes of JSON with varied
// words; one in 100,000 carries the rare word) and indexes them, unless it already holds n.
func History(ctx context.Context, dir string, n int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	s, err := storage.Open(ctx, filepath.Join(dir, "hooktray.db"))
	if err != nil {
		return err
	}
	defer s.Close()
	page, err := s.ListEvents(ctx, hook.EventQuery{Limit: 1})
	if err != nil {
		return err
	}
	have := int64(0)
	if len(page.Events) > 0 {
		have = page.Events[0].ID
	}
	if have >= int64(n) {
		return nil
	}
	fmt.Printf("populating %s with %d events (kept for the next run)…\n", dir, n-int(have))
	ep := hook.NewEndpoint("history")
	if err := s.CreateEndpoint(ctx, &ep); err != nil {
		return err
	}
	words := strings.Fields("alarm door window motion garage kitchen hall sensor battery low open closed armed disarmed temperature humidity light switch lock unlock zone status anomaly alert")
	rng := rand.New(rand.NewPCG(1, 2))
	hdr := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Diagral-Cloud/2.1"}, "X-Device-Id": {"dev-1"}}
	start := time.Now()
	for done := int(have); done < n; {
		batch := make([]*hook.Event, 0, 1000)
		for range min(1000, n-done) {
			var b strings.Builder
			b.WriteString(`{"type":"STATUS","device":"`)
			for range 40 {
				b.WriteString(words[rng.IntN(len(words))])
				b.WriteByte(' ')
			}
			if done%100_000 == 50_000 {
				b.WriteString(RareWord)
			}
			b.WriteString(`","n":` + strconv.Itoa(done) + `}`)
			body := []byte(b.String())
			batch = append(batch, &hook.Event{EndpointID: ep.ID, ReceivedAt: time.Now().UTC(), Method: "POST",
				Path: "/webhook/" + ep.ID, Header: hdr, Body: body, Size: int64(len(body)),
				RemoteAddr: "127.0.0.1:1", ClientIP: "127.0.0.1", ResponseStatus: 200})
			done++
		}
		if err := s.InsertBatch(ctx, batch); err != nil {
			return err
		}
		for {
			k, err := s.IndexPending(ctx, 5000)
			if err != nil {
				return err
			}
			if k == 0 {
				break
			}
		}
		if _, _, err := s.Checkpoint(ctx); err != nil {
			return err
		}
		if done%100_000 == 0 {
			fmt.Printf("  %d events (%s)\n", done, time.Since(start).Round(time.Second))
		}
	}
	return nil
}
