package cli

import (
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// IsTerminal reports whether f is a terminal (a character device), where text that came from a
// webhook must not reach the terminal's control sequences.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// termSafe writes text with every control character escaped except newline and tab: a webhook
// whose body holds "\x1b]0;…\x07\x1b[2J" is shown as those characters, never obeyed by the
// operator's terminal. C1 controls (U+0080–U+009F) and bytes that are not UTF-8, which some
// terminals also obey, are escaped too.
type termSafe struct{ w io.Writer }

func (t termSafe) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out = fmt.Appendf(out, `\x%02x`, p[i])
		case r == '\n' || r == '\t':
			out = append(out, byte(r))
		case r < 0x20 || r == 0x7f:
			out = fmt.Appendf(out, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, p[i:i+size]...)
		}
		i += size
	}
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// text wraps w (Stdout, or a tabwriter on it) for what a command prints for people: escaped when
// Stdout is a terminal. --json output goes to Stdout unchanged, so scripts get the exact bytes.
func (c *command) text(w io.Writer) io.Writer {
	if c.env.Terminal {
		return termSafe{w}
	}
	return w
}
