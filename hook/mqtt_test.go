package hook

import "testing"

func TestTopicForFillsTheTemplateWithTopicSafeValues(t *testing.T) {
	for _, c := range []struct {
		topic, name, id, typ, want string
	}{
		{"hooktray/{endpoint}/{type}", "Front door", "abc", "motion", "hooktray/Front door/motion"},
		{"hooktray/{endpoint_id}/{type}", "x", "Yj9J_a", "", "hooktray/Yj9J_a/event"},
		{"h/{endpoint}/{type}", "a/b+c#", "id", " push\x00 ", "h/a_b_c_/push_"},
		{"h/{endpoint}", "  ", "id", "t", "h/_"},
		{"{type}{type}", "n", "i", "t", "tt"},
		{"h/{unknown}/{endpoint", "n", "i", "t", "h/{unknown}/{endpoint"},
		{"plain/topic", "n", "i", "t", "plain/topic"},
	} {
		m := MQTTTarget{Topic: c.topic}
		if got := m.TopicFor(c.name, c.id, c.typ); got != c.want {
			t.Errorf("TopicFor(%q, %q, %q) with %q = %q, want %q", c.name, c.id, c.typ, c.topic, got, c.want)
		}
	}
}
