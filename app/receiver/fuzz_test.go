package receiver

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// counting is a committer that counts what it stored, by status.
type counting struct{ accepted, rejected atomic.Int64 }

func (c *counting) Commit(ev *hook.Event) error {
	if ev.Status == hook.Rejected {
		c.rejected.Add(1)
	} else {
		c.accepted.Add(1)
	}
	return nil
}

func (c *counting) CommitAll(evs []*hook.Event) error {
	for _, ev := range evs {
		c.Commit(ev)
	}
	return nil
}

func (c *counting) Backlog() int64 { return 0 }

// FuzzReceiverConnection writes arbitrary bytes on a raw connection to the receiver behind
// net/http's own server, as anyone on the Internet can through the tunnel. Whatever arrives, the
// receiver must not panic, and must never answer 2xx without having stored a row for it.
func FuzzReceiverConnection(f *testing.F) {
	const id = "AAAAAAAAAAAAAAAAAAAAAA"
	ep := hook.NewEndpoint("fuzz")
	ep.ID, ep.BodyLimit = id, 1<<16
	store := &counting{}
	r := New(endpoints{id: ep}, store, Options{MaxInFlight: 64})
	srv := r.Server()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	go srv.Serve(ln)
	f.Cleanup(func() { srv.Close() })

	for _, seed := range []string{
		"POST /webhook/" + id + " HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
		"POST /webhook/" + id + "?q=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET /webhook/" + id + " HTTP/1.1\r\nHost: x\r\n\r\nGET /webhook/" + id + " HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /webhook/" + id + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort",
		"POST /webhook/" + id + " HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
		"POST /webhook/" + id + " HTTP/1.0\r\n\r\nbody until close",
		"PUT /webhook/../" + id + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"POST /other HTTP/1.1\r\nHost: x\r\n\r\n",
		"\x00\xff garbage \r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		before := store.accepted.Load()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		c.Write(input)
		c.(*net.TCPConn).CloseWrite()
		answer, _ := io.ReadAll(c) // the server closes once it has answered what it read
		ok := 0
		br := bufio.NewReader(bytes.NewReader(answer))
		for {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				break
			}
			io.Copy(io.Discard, resp.Body)
			if resp.StatusCode/100 == 2 {
				ok++
			}
		}
		if stored := store.accepted.Load() - before; int64(ok) > stored {
			t.Fatalf("%d answers were 2xx but only %d requests were stored; answer:\n%s", ok, stored, strings.ToValidUTF8(string(answer), "?"))
		}
	})
}
