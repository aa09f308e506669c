package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hooktray/hooktray/app/deliver/hatest"
	"github.com/hooktray/hooktray/internal/testutil"
)

// postGitHub sends a GitHub-shaped webhook: event in X-GitHub-Event, the branch in ref.
func postGitHub(t *testing.T, url, event, branch string, n int) {
	t.Helper()
	body := fmt.Sprintf(`{"ref":"refs/heads/%s","repository":{"full_name":"me/app"},"commits":[%s],"pusher":{"name":"ann"}}`,
		branch, strings.TrimSuffix(strings.Repeat(`{"id":"c"},`, n), ","))
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("post: %v %v", resp, err)
	}
	resp.Body.Close()
}

// As a user would from a terminal: only GitHub pushes to main reach Home Assistant, reshaped by a
// transform into its own fire_event command, which it acts on (fires the event); the rule was
// tried on the history first; two events are compared.
func TestOnlyPushesToMainFireAnEventInHomeAssistant(t *testing.T) {
	ha := hatest.New(false)
	defer ha.Close()
	dir := t.TempDir()
	startServe(t, dir)
	if r := hooktray(t, dir, "endpoints", "add", "--name", "github"); r.code != 0 {
		t.Fatalf("endpoint: %s", r.stderr)
	}
	var ep struct{ URL string }
	json.Unmarshal([]byte(hooktray(t, dir, "endpoints", "show", "github", "--json").stdout), &ep)
	postGitHub(t, ep.URL, "push", "main", 2)
	postGitHub(t, ep.URL, "push", "develop", 1)
	postGitHub(t, ep.URL, "issues", "main", 0)

	when := `headers["x-github-event"] == "push" && body.ref == "refs/heads/main"`
	transform := `{"type": "fire_event", "data": {"event_type": "github_push", "event_data": {"repo": body.repository.full_name, "by": body.pusher.name, "commits": size(body.commits)}}}`
	r := hooktray(t, dir, "rules", "try", "--endpoint", "github", "--when", when, "--transform", transform, "--json")
	if r.code != 0 {
		t.Fatalf("rules try: %d %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var tried []struct {
		EventID int64 `json:"event_id"`
		Matched bool
		Output  *string
		Error   *string
	}
	for _, l := range lines {
		var one struct {
			EventID int64 `json:"event_id"`
			Matched bool
			Output  *string
			Error   *string
		}
		if err := json.Unmarshal([]byte(l), &one); err != nil {
			t.Fatalf("rules try --json printed %q", l)
		}
		tried = append(tried, one)
	}
	if len(tried) != 3 || !tried[2].Matched || tried[1].Matched || tried[0].Matched || tried[2].Output == nil ||
		!strings.Contains(*tried[2].Output, `"event_type":"github_push"`) {
		t.Errorf("tried on the last three events (newest first): %s", r.stdout)
	}
	if r := hooktray(t, dir, "rules", "try", "--endpoint", "github", "--when", `body.rf == "x" &&`); r.code == 0 || !strings.Contains(r.stderr, "1:") {
		t.Errorf("a rule with a typo: %d %s", r.code, r.stderr)
	}

	reg := ha.Register(false) // a mobile_app registration made on the instance
	r = hooktray(t, dir, "targets", "add", "--endpoint", "github", "--ha-webhook-id", reg.WebhookID, "--ha-instance-url", ha.URL,
		"--when", when, "--transform", transform, "--json")
	if r.code != 0 {
		t.Fatalf("targets add: %d %s %s", r.code, r.stdout, r.stderr)
	}
	postGitHub(t, ep.URL, "push", "develop", 1)
	postGitHub(t, ep.URL, "push", "main", 3)
	postGitHub(t, ep.URL, "issues", "main", 0)
	testutil.Eventually(t, "Home Assistant to fire the push to main", func() bool { return len(ha.Fired()) >= 1 })
	// The last webhook was delivered or not before the first: all three are committed in order.
	r = hooktray(t, dir, "deliveries", "list", "--json")
	var ds struct{ Deliveries []struct{ Status string } }
	json.Unmarshal([]byte(r.stdout), &ds)
	fired := ha.Fired()
	if len(fired) != 1 || fired[0].EventType != "github_push" || fired[0].EventData["repo"] != "me/app" ||
		fired[0].EventData["by"] != "ann" || fmt.Sprint(fired[0].EventData["commits"]) != "3" || len(ds.Deliveries) != 1 {
		t.Errorf("fired %+v; deliveries %s", fired, r.stdout)
	}
	if logs := ha.Logs(); len(logs) != 0 {
		t.Errorf("Home Assistant logged %q: it dropped something", logs)
	}

	r = hooktray(t, dir, "events", "diff", "4", "5")
	if r.code != 0 || !strings.Contains(r.stdout, `~ ref: "refs/heads/develop" → "refs/heads/main"`) || !strings.Contains(r.stdout, "+ commits[1]") {
		t.Errorf("events diff: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// Failure simulation from a terminal: response rules set from a file answer in the endpoint's
// stead (every request still stored), and are tried on the history first.
func TestResponseRulesFromATerminal(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir)
	if r := hooktray(t, dir, "endpoints", "add", "--name", "flaky"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	var ep struct{ URL string }
	json.Unmarshal([]byte(hooktray(t, dir, "endpoints", "show", "flaky", "--json").stdout), &ep)
	for i := range 4 {
		if code, err := postJSON(ep.URL, fmt.Sprintf(`{"n":%d}`, i)); err != nil || code != 200 {
			t.Fatalf("before the rules: %d %v", code, err)
		}
	}
	file := filepath.Join(dir, "rules.json")
	os.WriteFile(file, []byte(`[{"when": "count > 2", "status": 410, "body": "'{\"error\":\"gone\"}'"}]`), 0o600)
	r := hooktray(t, dir, "rules", "try", "--endpoint", "flaky", "--response-rules-file", file)
	if r.code != 0 || strings.Count(r.stdout, "answered 410 by rule 1: count > 2") != 2 {
		t.Errorf("rules try: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := hooktray(t, dir, "endpoints", "set", "flaky", "--response-rules-file", file); r.code != 0 {
		t.Fatalf("endpoints set: %s", r.stderr)
	}
	var codes []int
	for i := range 4 {
		code, err := postJSON(ep.URL, fmt.Sprintf(`{"m":%d}`, i))
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[200 200 410 410]" {
		t.Errorf("answers with count > 2 → 410: %v", codes)
	}
	if n := len(eventsOf(t, s)); n != 8 {
		t.Errorf("%d events stored, want all 8", n)
	}
}
