package ui

import (
	"bytes"
	"strings"
	"testing"
)

func docText(d lineSource) string {
	var lines []string
	for i := range d.Lines() {
		lines = append(lines, string(d.Line(i)))
	}
	return strings.Join(lines, "\n")
}

// JSON is laid out one value a line whatever it is: whole, cut off, or nested too deep to indent.
func TestJSONIsLaidOutInOnePassWithoutNeedingItValid(t *testing.T) {
	d := jsonDoc([]byte(`{"a":1,"b":[true,null,"x"],"c":{},"d":[]}`))
	want := "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null,\n    \"x\"\n  ],\n  \"c\": {},\n  \"d\": []\n}"
	if got := docText(d); got != want {
		t.Errorf("laid out:\n%s\nwant:\n%s", got, want)
	}
	if sp := d.Spans(1); len(sp) != 2 || sp[0].kind != tokenKey || sp[1].kind != tokenNumber {
		t.Errorf("line 1 runs %+v", sp)
	}
	cut := jsonDoc([]byte(`{"items":[{"id":1,"name":"an unfinished str`))
	if got := docText(cut); !strings.HasSuffix(got, `"name": "an unfinished str`) {
		t.Errorf("a cut-off body ends %q", got[max(0, len(got)-40):])
	}
	deep := jsonDoc(bytes.Repeat([]byte("["), 10000))
	if deep.MaxRunes() > 2*maxIndent+1 {
		t.Errorf("10,000 levels made a line of %d characters", deep.MaxRunes())
	}
}

// Text is split into lines, control characters and invalid bytes made visible, never dropped.
func TestPlainTextKeepsEveryLine(t *testing.T) {
	d := plainDoc([]byte("one\ttab\r\ntwo\x00\xff\n\nlast"))
	if d.Lines() != 4 || string(d.Line(0)) != "one tab " || string(d.Line(1)) != "two��" || string(d.Line(3)) != "last" {
		t.Errorf("lines %q", docText(d))
	}
}

// A hex dump's lines are made as drawn, with their real offsets.
func TestHexLinesCarryTheirOffsets(t *testing.T) {
	b := make([]byte, 40)
	for i := range b {
		b[i] = byte('A' + i%26)
	}
	d := hexDoc{b}
	if d.Lines() != 3 || !strings.HasPrefix(string(d.Line(2)), "00000020  47 48") || !strings.HasSuffix(string(d.Line(2)), "|GHIJKLMN|") {
		t.Errorf("line 2 %q", d.Line(2))
	}
}

// Wrapping cuts at rune boundaries, never inside a character.
func TestWrappedRowsCutBetweenCharacters(t *testing.T) {
	line := []byte(strings.Repeat("é", 25)) // 2 bytes each
	rows := appendWrapped(nil, 0, line, 10)
	if len(rows) != 3 || rows[0].end != 20 || rows[2].start != 40 || rows[2].end != 50 {
		t.Errorf("rows %+v", rows)
	}
}

// A 10 MiB body's preview is laid out in a few milliseconds, whatever the body's size.
func BenchmarkLayingOutTheBodyPreview(b *testing.B) {
	body := bytes.Repeat([]byte(`{"id":12345,"name":"item","tags":["a","b"],"ok":true},`), 10<<20/55)
	for b.Loop() {
		layBody(body, viewPretty, false)
	}
}
