package shapes

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

func event(id int64, typ, body string) *hook.Event {
	return &hook.Event{ID: id, EndpointID: "ep", Type: typ, Status: hook.Accepted, Body: []byte(body), ReceivedAt: time.Unix(id, 0)}
}

func TestAShapeIsLearntAndAChangedPayloadNoticed(t *testing.T) {
	var drifts []Drift
	l := New(Options{Changed: func(_ string, d Drift) { drifts = append(drifts, d) }})
	for i := range 25 {
		extra := ""
		if i%5 == 0 {
			extra = `,"note":"x"`
		}
		l.Learn(event(int64(i+1), "state.changed", fmt.Sprintf(`{"device":{"id":"d%d","online":true},"temp":%d,"tags":["a"]%s}`, i, 20+i, extra)), true)
	}
	got := l.Of("ep")
	if len(got.Shapes) != 1 || got.Shapes[0].Events != 25 || len(drifts) != 0 {
		t.Fatalf("shapes %+v drifts %+v", got.Shapes, drifts)
	}
	fields := map[string]Field{}
	for _, f := range got.Shapes[0].Fields {
		fields[f.Path] = f
	}
	if f := fields["body.device.online"]; f.Present != 25 || f.Kinds[Bool] != 25 {
		t.Errorf("body.device.online: %+v", f)
	}
	if f := fields["body.note"]; f.Present != 5 || f.Kinds[String] != 5 {
		t.Errorf("body.note: %+v", f)
	}
	if f := fields["body.tags[]"]; f.Kinds[String] != 25 {
		t.Errorf("body.tags[]: %+v (of %v)", f, fields)
	}
	// The provider drops a field that was always there, and sends a new type.
	l.Learn(event(26, "state.changed", `{"device":{"id":"d"},"temp":1,"tags":[]}`), true)
	l.Learn(event(27, "alarm", `{"zone":1}`), true)
	kinds := map[string]bool{}
	for _, d := range drifts {
		kinds[string(d.Kind)+" "+d.Type+" "+d.Path] = true
	}
	if !kinds["field_missing state.changed body.device.online"] || !kinds["new_type alarm "] || kinds["field_missing state.changed body.note"] {
		t.Errorf("drifts %+v", drifts)
	}
	if d := l.Of("ep").Drifts; len(d) == 0 || d[0].Kind != NewType {
		t.Errorf("the newest drift is not first: %+v", d)
	}
}

func TestWhatIsLearntStaysWithinItsBounds(t *testing.T) {
	l := New(Options{})
	for i := range 2 * MaxPaths {
		l.Learn(event(int64(i), "t", fmt.Sprintf(`{"k%d":1}`, i)), false)
	}
	n := 0
	for _, s := range l.Of("ep").Shapes {
		n += len(s.Fields)
	}
	if n > MaxPaths || !l.Of("ep").Full {
		t.Errorf("%d paths kept (bound %d), full %v", n, MaxPaths, l.Of("ep").Full)
	}
	for i := range 2 * MaxTypes {
		l.Learn(event(int64(i), fmt.Sprintf("type-%d", i), `{}`), false)
	}
	if got := len(l.Of("ep").Shapes); got > MaxTypes {
		t.Errorf("%d types kept", got)
	}
	l.Forget("ep")
	if len(l.Of("ep").Shapes) != 0 {
		t.Error("a forgotten endpoint's shapes remain")
	}
}

// A burst is sampled: at most perSecond events a second are learnt from, by the injected clock.
func TestABurstIsSampled(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	l := New(Options{Clock: clk})
	evs := make([]*hook.Event, 500)
	for i := range evs {
		evs[i] = event(int64(i), "t", `{"a":1}`)
	}
	l.Committed(evs)
	if n := len(l.in); n != perSecond {
		t.Errorf("%d of a burst of 500 queued, want %d", n, perSecond)
	}
	clk.Advance(time.Second)
	for len(l.in) > 0 {
		<-l.in
	}
	l.Committed(evs)
	if n := len(l.in); n != perSecond {
		t.Errorf("a second later %d queued", n)
	}
}

func BenchmarkLearn(b *testing.B) {
	l := New(Options{})
	ev := event(1, "state.changed", `{"id":"evt-0001","device":{"id":"motion-sensor-12","room":"hall","battery":87,"online":true},"readings":[{"t":1764674204,"value":20.25,"ok":true},{"t":1764674205,"value":21.25,"ok":true}],"sent_at":"2026-12-02T11:16:44Z","type":"state.changed"}`)
	b.ReportAllocs()
	for b.Loop() {
		l.Learn(ev, true)
	}
}

// BenchmarkMemoryAtTheBound reports what the learner holds with MaxPaths distinct paths (and
// 10,000 more offered, which it does not keep).
func BenchmarkMemoryAtTheBound(b *testing.B) {
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := New(Options{})
		for i := range 2 * MaxPaths {
			l.Learn(event(int64(i), fmt.Sprintf("t%d", i%50), fmt.Sprintf(`{"field_number_%d":{"x":1}}`, i)), false)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-held")
		runtime.KeepAlive(l)
	}
}

// BenchmarkCommittedUnderABurst is what ingest pays per event for the learner while webhooks
// arrive faster than it samples (the ingest bench's case).
func BenchmarkCommittedUnderABurst(b *testing.B) {
	l := New(Options{})
	evs := make([]*hook.Event, 1024)
	for i := range evs {
		evs[i] = event(int64(i), "t", `{"a":1}`)
	}
	go func() {
		for range l.in {
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		l.Committed(evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}
