package ui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hooktray/hooktray/app/shapes"
	"github.com/hooktray/hooktray/hook"
)

// shapeText says what the payloads of ev's type look like on its endpoint, and how the
// endpoint's payloads changed: a field a line, its JSON types and how often it is present.
func shapeText(learnt shapes.Endpoint, ev hook.Event) string {
	var sb strings.Builder
	for _, d := range learnt.Drifts {
		switch d.Kind {
		case shapes.NewType:
			fmt.Fprintf(&sb, "⚠ Changed %s: a new event type, %s (event #%d)\n", d.At.Local().Format("2 Jan 15:04"), orNone(d.Type), d.EventID)
		default:
			fmt.Fprintf(&sb, "⚠ Changed %s: a %s event lacks %s, which every earlier one had (event #%d)\n", d.At.Local().Format("2 Jan 15:04"), orNone(d.Type), d.Path, d.EventID)
		}
	}
	if len(learnt.Drifts) > 0 {
		sb.WriteString("\n")
	}
	var shape *shapes.Shape
	for i := range learnt.Shapes {
		if learnt.Shapes[i].Type == ev.Type {
			shape = &learnt.Shapes[i]
		}
	}
	if shape == nil {
		sb.WriteString("No JSON payloads of this type learnt from yet.")
		return sb.String()
	}
	fmt.Fprintf(&sb, "%s events of this endpoint, learnt from %d:\n\n", orNone(ev.Type), shape.Events)
	for _, f := range shape.Fields {
		kinds := make([]string, 0, len(f.Kinds))
		for k := range f.Kinds {
			kinds = append(kinds, string(k))
		}
		slices.Sort(kinds)
		fmt.Fprintf(&sb, "%-44s %-18s %3.0f%%\n", f.Path, strings.Join(kinds, " | "), 100*float64(f.Present)/float64(max(1, shape.Events)))
	}
	if learnt.Full {
		sb.WriteString("\n(10,000 field paths are learnt: new ones are not.)")
	}
	return sb.String()
}

func orNone(typ string) string {
	if typ == "" {
		return "untyped"
	}
	return typ
}
