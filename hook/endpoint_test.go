package hook

import "testing"

// An id that starts with '-' is read as a flag by the command line: none may.
func TestEndpointIDsNeverStartWithADash(t *testing.T) {
	seen := map[string]bool{}
	for range 5000 { // about 78 would start with '-' if nothing prevented it
		id := NewEndpointID()
		if id[0] == '-' || len(id) != 22 || seen[id] {
			t.Fatalf("id %q", id)
		}
		seen[id] = true
	}
}

func TestEndpointNamesRefuseControlCharacters(t *testing.T) {
	for _, name := range []string{"alarm\x1b]0;pwned\x07", "two\nlines", "c1\u009bcontrol", "nul\x00"} {
		ep := NewEndpoint("x")
		err := EndpointChange{Name: &name}.Apply(&ep)
		if fe, ok := err.(*FieldError); !ok || fe.Field != "name" {
			t.Errorf("name %q: %v, want a field error on name", name, err)
		}
	}
	ok := "Maison · alarme ✓"
	ep := NewEndpoint("x")
	if err := (EndpointChange{Name: &ok}).Apply(&ep); err != nil || ep.Name != ok {
		t.Errorf("name %q refused: %v", ok, err)
	}
}
