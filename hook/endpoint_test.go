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
