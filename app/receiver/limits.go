package receiver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"
)

// admission bounds what the requests in flight may take together, so that no client, however
// many connections it opens, exhausts the receiver: a count overall, a share per endpoint, per
// client address and per client on one endpoint, and a budget of body bytes held in memory.
//
// The shares are what keeps the others served: a flood on one endpoint leaves the other half of
// the capacity to other endpoints, and a flood from one address leaves the rest to other
// addresses and, since one client may hold only half its share on one endpoint, to the same
// address's requests to other endpoints (every local program shares the loopback address).
type admission struct {
	mu          sync.Mutex
	total       int
	perEndpoint map[string]int
	perClient   map[string]int
	perPair     map[pair]int
	maxTotal    int
	maxEndpoint int
	maxClient   int
	maxPair     int

	held, maxHeld int64 // body bytes held by requests in flight, and the budget for them
	peak          int64 // the most held since memory was last given back
	freeing       bool  // a FreeOSMemory is running
	// backlog is the memory of requests acknowledged and not yet in the history (the ingest
	// journal's buffers waiting for the importer): it counts against the same budget.
	backlog func() int64

	buffers sync.Pool // *[]byte of poolBufSize: every request's first buffer
}

// pair is one client on one endpoint.
type pair struct{ endpoint, client string }

func newAdmission(o *Options) *admission {
	return &admission{
		perEndpoint: map[string]int{}, perClient: map[string]int{}, perPair: map[pair]int{},
		maxTotal: o.MaxInFlight, maxEndpoint: o.MaxInFlightPerEndpoint, maxClient: o.MaxInFlightPerClient,
		maxPair: max(o.MaxInFlightPerClient/2, 1),
		maxHeld: o.MaxBodyBytesInFlight,
		buffers: sync.Pool{New: func() any { b := make([]byte, 0, poolBufSize); return &b }},
		backlog: func() int64 { return 0 },
	}
}

// full reports whether the acknowledged requests waiting for the history already hold the whole
// budget: a stalled import (another program locking the database) then sheds new requests at
// once, with 503, instead of letting memory grow or answers hang.
func (a *admission) full() bool { return a.backlog() >= a.maxHeld }

// enter admits a request to endpoint from client, or reports that a share it needs is used up.
func (a *admission) enter(endpoint, client string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := pair{endpoint, client}
	if a.total >= a.maxTotal || a.perEndpoint[endpoint] >= a.maxEndpoint ||
		a.perClient[client] >= a.maxClient || a.perPair[p] >= a.maxPair {
		return false
	}
	a.total++
	a.perEndpoint[endpoint]++
	a.perClient[client]++
	a.perPair[p]++
	return true
}

// leave ends what enter admitted.
func (a *admission) leave(endpoint, client string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.total--
	decr(a.perEndpoint, endpoint)
	decr(a.perClient, client)
	decr(a.perPair, pair{endpoint, client})
}

func decr[K comparable](m map[K]int, k K) {
	if m[k] <= 1 {
		delete(m, k) // the maps hold only what is in flight, not every address ever seen
		return
	}
	m[k]--
}

// reserve takes n bytes of the body budget, or reports that there are not that many left.
func (a *admission) reserve(n int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held+a.backlog()+n > a.maxHeld {
		return false
	}
	a.held += n
	a.peak = max(a.peak, a.held)
	return true
}

// giveBackAfter is the peak of held bytes above which the receiver returns memory to the operating
// system once the burst is over; below it the runtime's own scavenger is enough.
const giveBackAfter = 32 << 20

// release returns n bytes to the budget. When a large burst has drained, the memory it used is
// handed back to the operating system instead of staying in the process for the next one.
func (a *admission) release(n int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.held -= n
	if a.held == 0 && a.peak >= giveBackAfter && !a.freeing {
		a.peak, a.freeing = 0, true
		go func() {
			debug.FreeOSMemory()
			a.mu.Lock()
			a.freeing = false
			a.mu.Unlock()
		}()
	}
}

// Body buffers: requests start with a pooled buffer of poolBufSize and grow it only as bytes
// actually arrive, so a Content-Length costs nothing until the body is really sent.
const poolBufSize = 32 << 10

// spoolPrefix is how much of a spooled body stays in memory: what type detection reads.
const spoolPrefix = 64 << 10

// errNoBudget means the body budget of all requests in flight is used up.
var errNoBudget = errors.New("the receiver's memory budget for request bodies is in use")

// errTooSlow means the client sent its body more slowly than the minimum rate.
var errTooSlow = errors.New("body arrived too slowly")

// body is a request body being read into a pooled, budgeted buffer, or, past the spool threshold,
// into a file in the spool folder with only its beginning kept in memory.
type body struct {
	buf  *[]byte
	held int64 // bytes reserved in the budget: the buffer's capacity, and the prefix's
	a    *admission

	// Set once the body is spooled: the file, its path until the journal owns it, what the file
	// holds, and the body's first bytes.
	file    *os.File
	path    string
	written int64
	prefix  []byte
}

// spooled reports whether the body is in a file rather than in memory.
func (b *body) spooled() bool { return b.path != "" }

// size is how many bytes of the body were received.
func (b *body) size() int64 {
	n := b.written
	if b.buf != nil {
		n += int64(len(*b.buf))
	}
	return n
}

// free returns the buffer to the pool and its bytes to the budget, and removes a spool file the
// journal did not take (handOver). The body must not be used after.
func (b *body) free() {
	if b.file != nil {
		b.file.Close()
		b.file = nil
	}
	if b.path != "" {
		os.Remove(b.path)
		b.path = ""
	}
	if b.buf == nil {
		return
	}
	// Only first buffers go back: every pooled buffer is then exactly what a new request
	// reserves, and grown ones, which a burst of large bodies leaves, are collected.
	if cap(*b.buf) == poolBufSize {
		*b.buf = (*b.buf)[:0]
		b.a.buffers.Put(b.buf)
	}
	b.a.release(b.held)
	b.buf, b.held, b.prefix = nil, 0, nil
}

// handOver gives the spool file to the journal: a committed event names it, so it must stay.
func (b *body) handOver() { b.path = "" }

// grow makes room for more of the body in memory. The budget holds what the buffer holds: the
// new capacity is reserved less the old, which goes once copied.
func (b *body) grow(limit int64) error {
	buf := *b.buf
	grown := min(2*int64(cap(buf)), limit+1)
	if grown <= int64(cap(buf)) {
		grown = int64(cap(buf)) + poolBufSize
	}
	if !b.a.reserve(grown - int64(cap(buf))) {
		return errNoBudget
	}
	next := make([]byte, len(buf), grown)
	copy(next, buf)
	if cap(buf) == poolBufSize {
		old := buf[:0]
		b.a.buffers.Put(&old)
	}
	b.held += grown - int64(cap(buf))
	*b.buf = next
	return nil
}

// spool moves the body to a new file in dir: what was read so far is written out, its beginning is
// kept as the prefix, and from now on a pooled buffer carries the rest to the file.
func (b *body) spool(dir string) error {
	f, err := os.CreateTemp(dir, "body-*")
	if err != nil {
		return fmt.Errorf("spool a large body: %w", err)
	}
	b.file, b.path = f, f.Name()
	buf := *b.buf
	if _, err := f.Write(buf); err != nil {
		return fmt.Errorf("spool a large body: %w", err)
	}
	b.written = int64(len(buf))
	b.prefix = append([]byte(nil), buf[:min(len(buf), spoolPrefix)]...)
	// The grown buffer goes; a first buffer takes its place in the budget, with the prefix.
	b.a.release(b.held)
	b.held = 0
	if !b.a.reserve(poolBufSize + int64(len(b.prefix))) {
		b.buf = nil
		return errNoBudget
	}
	b.held = poolBufSize + int64(len(b.prefix))
	b.buf = b.a.buffers.Get().(*[]byte)
	return nil
}

// flush writes the buffer to the spool file and empties it.
func (b *body) flush() error {
	buf := *b.buf
	if _, err := b.file.Write(buf); err != nil {
		return fmt.Errorf("spool a large body: %w", err)
	}
	b.written += int64(len(buf))
	*b.buf = buf[:0]
	return nil
}

// finish makes a spooled body durable and closes its file: the journal's fdatasync covers only
// the journal, and an acknowledged body must survive a crash.
func (b *body) finish() error {
	if b.file == nil {
		return nil
	}
	err := b.flush()
	if err == nil {
		err = b.file.Sync()
	}
	if cerr := b.file.Close(); err == nil {
		err = cerr
	}
	b.file = nil
	if err != nil {
		return fmt.Errorf("spool a large body: %w", err)
	}
	return nil
}

// readBody reads at most limit bytes of req's body as it arrives. It grows the buffer only with
// bytes received, within the shared budget (errNoBudget when it is exhausted); past SpoolAbove
// the body goes to a file in SpoolDir instead. It cuts off a client whose body, after
// BodyRateGrace, averages less than MinBodyRate bytes per second (errTooSlow). A body over limit
// ends with *http.MaxBytesError. The returned body holds what was read in every case; free it
// once the bytes are no longer needed.
func (r *Receiver) readBody(w http.ResponseWriter, req *http.Request, limit int64, start time.Time) (*body, error) {
	b := &body{a: r.adm}
	if !r.adm.reserve(poolBufSize) {
		return b, errNoBudget
	}
	b.buf, b.held = r.adm.buffers.Get().(*[]byte), poolBufSize
	rc := http.NewResponseController(w)
	readDeadline := start.Add(r.opts.ReadTimeout)
	src := http.MaxBytesReader(w, req.Body, limit)
	for {
		if buf := *b.buf; len(buf) == cap(buf) {
			var err error
			switch {
			case b.file != nil:
				err = b.flush()
			case r.opts.SpoolDir != "" && int64(len(buf)) >= r.opts.SpoolAbove:
				err = b.spool(r.opts.SpoolDir)
			default:
				err = b.grow(limit)
			}
			if err != nil {
				return b, err
			}
		}
		buf := *b.buf
		// Each byte received buys 1/Min seconds beyond the grace period; a client that falls
		// below the average rate finds its read deadline passed.
		deadline := start.Add(r.opts.BodyRateGrace + time.Duration(b.size())*time.Second/time.Duration(r.opts.MinBodyRate))
		if deadline.After(readDeadline) {
			deadline = readDeadline
		}
		_ = rc.SetReadDeadline(deadline) // unsupported by test recorders: no rate check there
		n, err := src.Read(buf[len(buf):cap(buf)])
		*b.buf = buf[:len(buf)+n]
		if err != nil {
			if errors.Is(err, io.EOF) {
				return b, b.finish()
			}
			if isTimeout(err) && deadline.Before(readDeadline) && time.Now().Before(readDeadline) {
				return b, errTooSlow
			}
			return b, err
		}
	}
}

// bytes is the body in memory: all of it, or the beginning of a spooled one.
func (b *body) bytes() []byte {
	if b.prefix != nil {
		return b.prefix
	}
	if b.buf == nil {
		return []byte{}
	}
	return *b.buf
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// snapshot returns the requests in flight and the body bytes they hold.
func (a *admission) snapshot() (total int, held int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total, a.held
}
