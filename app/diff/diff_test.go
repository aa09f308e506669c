package diff

import (
	"fmt"
	"net/http"
	"testing"
)

func TestTwoEventsDifferPathByPath(t *testing.T) {
	a := []byte(`{"ref":"refs/heads/main","commits":[{"id":"a"}],"deleted":false,"odd key":1,"same":{"x":1}}`)
	b := []byte(`{"ref":"refs/heads/dev","commits":[{"id":"a"},{"id":"b"}],"odd key":2,"same":{"x":1},"new":true}`)
	r := Events(a, b, http.Header{"X-Github-Event": {"push"}, "X-Github-Delivery": {"1"}},
		http.Header{"X-Github-Event": {"push"}, "X-Github-Delivery": {"2"}, "X-Extra": {"y"}})
	got := fmt.Sprint(r.Body)
	want := `[{commits[1] added  {"id":"b"}} {deleted removed false } {new added  true} {["odd key"] changed 1 2} {ref changed "refs/heads/main" "refs/heads/dev"}]`
	if !r.JSON || got != want {
		t.Errorf("body:\n%s\nwant\n%s", got, want)
	}
	if got := fmt.Sprint(r.Headers); got != `[{X-Extra added  y} {X-Github-Delivery changed 1 2}]` {
		t.Errorf("headers: %s", got)
	}
	r = Events([]byte("on"), []byte("off"), nil, nil)
	if r.JSON || len(r.Body) != 1 || r.Body[0].Change != Changed {
		t.Errorf("text bodies: %+v", r)
	}
	if r := Events(a, a, nil, nil); len(r.Body) != 0 || len(r.Headers) != 0 {
		t.Errorf("an event against itself: %+v", r)
	}
}
