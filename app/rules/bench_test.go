package rules

import (
	"testing"
)

// A typical filter and transform on a GitHub push of about 1 KiB, each on a fresh input (the body
// parsed again, as for each event): make bench reports them (targets: 5 µs and 20 µs).
func BenchmarkFilter(b *testing.B) {
	e := newEnv(b)
	p, err := e.Compile(Filter, `headers["x-github-event"] == "push" && body.ref == "refs/heads/main"`)
	if err != nil {
		b.Fatal(err)
	}
	ev := push("main")
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := p.Match(&Input{Event: ev}); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkTransform(b *testing.B) {
	e := newEnv(b)
	p, err := e.Compile(Value, `{"type": "fire_event", "data": {"event_type": "github_push", "event_data": {"repo": body.repository.full_name, "commits": size(body.commits), "branch": body.ref.split("/")[2]}}}`)
	if err != nil {
		b.Fatal(err)
	}
	ev := push("main")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Produce(&Input{Event: ev}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilterHeadersOnly is a filter that reads no body: it pays for no parse.
func BenchmarkFilterHeadersOnly(b *testing.B) {
	e := newEnv(b)
	p, _ := e.Compile(Filter, `headers["x-github-event"] == "push" && method == "POST"`)
	ev := push("main")
	for b.Loop() {
		p.Match(&Input{Event: ev})
	}
}
