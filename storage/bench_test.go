package storage

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/hook"
)

func BenchmarkInsertBatch(b *testing.B) {
	for _, size := range []int{1, 20, 64} {
		b.Run("batch"+strconv.Itoa(size), func(b *testing.B) {
			s, ep, body, h := benchStore(b)
			evs := make([]*hook.Event, size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range evs {
					evs[j] = &hook.Event{EndpointID: ep.ID, ReceivedAt: time.Now(), Method: "POST", Path: "/webhook/" + ep.ID, Header: h, Body: body, Size: 1024, RemoteAddr: "127.0.0.1:5555", ClientIP: "127.0.0.1", ResponseStatus: 200}
				}
				if err := s.InsertBatch(context.Background(), evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size)/1000, "us/row")
		})
	}
}

// BenchmarkImportBatch is the ingest importer's cost per row: transactions of the size it commits
// under load, synchronous=NORMAL.
func BenchmarkImportBatch(b *testing.B) {
	s, ep, body, h := benchStore(b)
	const size = 512
	evs := make([]*hook.Event, size)
	var seq uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range evs {
			evs[j] = &hook.Event{EndpointID: ep.ID, ReceivedAt: time.Now(), Method: "POST", Path: "/webhook/" + ep.ID, Header: h, Body: body, Size: 1024, RemoteAddr: "127.0.0.1:5555", ClientIP: "127.0.0.1", ResponseStatus: 200, Type: "state.changed"}
		}
		seq += size
		if err := s.ImportBatch(context.Background(), evs, seq); err != nil {
			b.Fatal(err)
		}
		if i%8 == 7 {
			s.Checkpoint(context.Background())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size)/1000, "us/row")
}

// benchStore opens a store with one endpoint, closed when b ends, and a 1 KiB body with the
// headers a load generator sends.
func benchStore(b *testing.B) (*Store, hook.Endpoint, []byte, http.Header) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "hooktray.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ep := hook.NewEndpoint("bench")
	if err := s.CreateEndpoint(context.Background(), &ep); err != nil {
		b.Fatal(err)
	}
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Go-http-client/1.1"}, "Content-Length": {"1024"}, "Accept-Encoding": {"gzip"}, "Host": {"127.0.0.1:8791"}}
	return s, ep, []byte(strings.Repeat("x", 1024)), h
}
