package hook

import "fmt"

// JournalDamage is what Hooktray found unreadable in its ingest journal after a crash:
// acknowledged webhooks that could not be read from a damaged or missing segment. The damaged
// segments are kept in Folder with a note each, and the damage is reported until the user
// clears that folder.
type JournalDamage struct {
	Unreadable int    // acknowledged webhooks that could not be read, over every note
	Notes      int    // notes in Folder: one per damaged or missing segment
	Folder     string // where the damaged segments and their notes are
	// FoundNow is true when this start found damage; false when the notes are from an earlier one.
	FoundNow bool
}

// Damaged reports whether there is damage to tell the user about.
func (d JournalDamage) Damaged() bool { return d.Notes > 0 }

// Sentence says what was lost and where to look, or "" when nothing was.
func (d JournalDamage) Sentence() string {
	if !d.Damaged() {
		return ""
	}
	lost := "an unknown number of acknowledged webhooks"
	if d.Unreadable == 1 {
		lost = "1 acknowledged webhook"
	} else if d.Unreadable > 1 {
		lost = fmt.Sprintf("%d acknowledged webhooks", d.Unreadable)
	}
	return fmt.Sprintf("the ingest journal a crash left was damaged: %s could not be read (everything readable was stored). "+
		"The damaged files and a note on each are in %s; delete that folder once you have looked", lost, d.Folder)
}
