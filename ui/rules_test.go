package ui

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/ui/forms"
)

// firstIn is the first T under o, walking containers and widgets' renderers.
func firstIn[T fyne.CanvasObject](o fyne.CanvasObject) (T, bool) {
	if x, ok := o.(T); ok {
		return x, true
	}
	var kids []fyne.CanvasObject
	switch x := o.(type) {
	case *fyne.Container:
		kids = x.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(x).Objects()
	}
	for _, c := range kids {
		if got, ok := firstIn[T](c); ok {
			return got, true
		}
	}
	var none T
	return none, false
}

// Two events compared from the window: Compare marks the first, Compare on the second shows
// what was added, removed and changed.
func TestTwoEventsAreComparedFromTheWindow(t *testing.T) {
	u, svc := newTestUI(t)
	ep := mustCreate(t, svc, "github")
	send(t, svc.Endpoints.URL(ep.ID), `{"ref":"refs/heads/main","commits":[1]}`, "X-GitHub-Event", "push")
	send(t, svc.Endpoints.URL(ep.ID), `{"ref":"refs/heads/dev","commits":[1,2]}`, "X-GitHub-Event", "push")
	eventually(t, "two events", func() bool { return len(u.log.events) == 2 })
	pick := func(i int) {
		onUI(func() { u.log.list.Select(i) })
		want := u.log.events[i].ID
		eventually(t, "the event's detail", func() bool { return u.detail.ev != nil && u.detail.ev.ID == want })
	}
	pick(1)
	onUI(u.detail.compare)
	onUI(func() {
		if u.marked == nil || !strings.Contains(u.status.message.Text, "marked") {
			t.Errorf("Compare marked nothing: %v, %q", u.marked, u.status.message.Text)
		}
	})
	pick(0)
	onUI(u.detail.compare)
	var text string
	eventually(t, "the comparison", func() bool { // on the UI goroutine
		if top := u.win.Canvas().Overlays().Top(); top != nil {
			if g, ok := firstIn[*widget.TextGrid](top); ok {
				text = g.Text()
			}
		}
		return text != ""
	})
	for _, want := range []string{`~ ref: "refs/heads/main"  →  "refs/heads/dev"`, "+ commits[1]: 2", "Headers:"} {
		if !strings.Contains(text, want) {
			t.Errorf("the comparison lacks %q:\n%s", want, text)
		}
	}
}

// A target's rules are tried from its form on the endpoint's last events before it is saved.
func TestATargetsRulesAreTriedFromItsForm(t *testing.T) {
	u, svc := newTestUI(t)
	ep := mustCreate(t, svc, "github")
	send(t, svc.Endpoints.URL(ep.ID), `{"ref":"refs/heads/main"}`)
	send(t, svc.Endpoints.URL(ep.ID), `{"ref":"refs/heads/dev"}`)
	send(t, svc.Endpoints.URL(ep.ID), `{"other":1}`)
	eventually(t, "three events", func() bool { return len(u.log.events) == 3 })
	onUI(func() { u.editTarget(u.win, ep.ID, nil) })
	var f *forms.Target
	var ok bool
	onUI(func() { f, ok = firstIn[*forms.Target](u.win.Canvas().Overlays().Top()) })
	if !ok {
		t.Fatal("no target form")
	}
	onUI(func() {
		f.When.SetText(`body.ref == "refs/heads/main"`)
		f.Transform.SetText(`{"branch": body.ref.split("/")[2]}`)
		test.Tap(f.Try)
	})
	eventually(t, "the trial's results", func() bool { return strings.HasPrefix(f.Trial.Text, "Of the last") })
	onUI(func() {
		got := f.Trial.Text
		if !strings.Contains(got, "Of the last 3 events, 1 would be sent, 1 not, and the rules fail on 1") || !strings.Contains(got, `sends {"branch":"main"}`) {
			t.Errorf("trial: %q", got)
		}
	})
}

// An event's Shape tab says what its type's payloads look like on its endpoint.
func TestAnEventsShapeIsShown(t *testing.T) {
	u, svc := newTestUI(t)
	ep := mustCreate(t, svc, "sensors")
	for i := range 3 {
		send(t, svc.Endpoints.URL(ep.ID), fmt.Sprintf(`{"device":{"id":"d%d"},"temp":%d}`, i, i))
	}
	eventually(t, "three events learnt", func() bool {
		s := svc.Shapes.Of(ep.ID)
		return len(u.log.events) == 3 && len(s.Shapes) == 1 && s.Shapes[0].Events == 3
	})
	onUI(func() { u.log.list.Select(0) })
	eventually(t, "the detail", func() bool { return u.detail.ev != nil })
	onUI(func() {
		text := u.detail.shape.Text()
		if !strings.Contains(text, "body.device.id") || !strings.Contains(text, "learnt from 3") || !strings.Contains(text, "100%") {
			t.Errorf("shape tab:\n%s", text)
		}
	})
}
