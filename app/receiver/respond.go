package receiver

import (
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/hook"
)

// ResponseRule is an endpoint's response rule, compiled.
type ResponseRule struct {
	hook.ResponseRule
	Name string
	When *rules.Program
	Body *rules.Program // nil: no body
}

// answer is what a request is answered with.
type answer struct {
	status  int
	header  map[string]string
	body    []byte
	ctype   string
	delay   time.Duration
	rule    string // the rule's name; "" for the endpoint's own response
	problem string // a rule that failed on this request, for the log
}

// rulesState is an endpoint's request counter and its seeded random source.
type rulesState struct {
	mu    sync.Mutex
	count int64
	seed  int64
	rnd   *rand.Rand
}

// draw counts the request and draws its random number.
func (st *rulesState) draw(seed int64) (int64, float64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.rnd == nil || st.seed != seed {
		st.seed, st.rnd = seed, rules.Draws(seed)
	}
	st.count++
	return st.count, st.rnd.Float64()
}

// responses keeps each endpoint's rules state, by endpoint id.
type responses struct{ m sync.Map }

func (r *responses) state(id string) *rulesState {
	st, _ := r.m.LoadOrStore(id, &rulesState{})
	return st.(*rulesState)
}

// pick is the answer for ev: the first of ep's response rules that matches, else the endpoint's
// response. A rule that fails on the request is passed over, never the request's failure.
func (r *Receiver) pick(ep *Endpoint, ev *hook.Event) answer {
	own := answer{status: ep.ResponseStatus, body: ep.ResponseBody, ctype: ep.ResponseContentType}
	if len(ep.Responses) == 0 {
		return own
	}
	count, draw := r.responses.state(ep.ID).draw(ep.Settings.ResponseSeed)
	in := &rules.Input{Event: ev, Endpoint: ep.Name, Count: count, Random: draw}
	if ev.Body == nil && ev.BodyFile != "" && usesBody(ep.Responses) {
		if b, err := os.ReadFile(ev.BodyFile); err == nil { // a large body, spooled: bounded by the endpoint's limit
			whole := *ev
			whole.Body = b
			in.Event = &whole
		}
	}
	for _, rr := range ep.Responses {
		ok, err := rr.When.Match(in)
		if err != nil {
			own.problem = rr.Name + ": " + err.Error()
			continue
		}
		if !ok {
			continue
		}
		a := answer{status: rr.Status, header: rr.Headers, delay: time.Duration(rr.DelayMS) * time.Millisecond, rule: rr.Name}
		if rr.Body != nil {
			out, err := rr.Body.Produce(in)
			if err != nil {
				own.problem = rr.Name + ": " + err.Error()
				continue
			}
			a.body, a.ctype = out.Body, out.ContentType
		}
		return a
	}
	return own
}

func usesBody(rs []ResponseRule) bool {
	for _, r := range rs {
		if r.When.UsesBody() || r.Body != nil && r.Body.UsesBody() {
			return true
		}
	}
	return false
}

// send writes the answer, after its delay (cut short when the client goes away).
func (r *Receiver) send(ctx context.Context, w http.ResponseWriter, a answer) {
	if a.delay > 0 {
		select {
		case <-r.opts.Clock.After(a.delay):
		case <-ctx.Done():
			return
		}
	}
	h := w.Header()
	for k, v := range a.header {
		h.Set(k, v)
	}
	if a.ctype != "" && h.Get("Content-Type") == "" {
		h.Set("Content-Type", a.ctype)
	}
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(a.status)
	w.Write(a.body)
}
