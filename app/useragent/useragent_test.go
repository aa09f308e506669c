package useragent

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRequestsCarryHooktraysUserAgentUnlessTheyHaveOne(t *testing.T) {
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.UserAgent() }))
	defer srv.Close()
	c := Client("1.2.0", 0)
	c.Get(srv.URL)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("User-Agent", "Provider/9")
	c.Do(req)
	if a, b := <-got, <-got; a != "Hooktray/1.2.0 (+https://github.com/hooktray/hooktray)" || b != "Provider/9" {
		t.Errorf("%q %q", a, b)
	}
}
