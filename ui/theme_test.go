package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// Every colour text is drawn in reads at 4.5:1 or better on the background it is drawn on, in
// both variants.
func TestTextColoursAreReadableInBothThemes(t *testing.T) {
	test.NewTempApp(t)
	th := newAppTheme()
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		bg := th.Color(theme.ColorNameBackground, v)
		for _, n := range []fyne.ThemeColorName{theme.ColorNameForeground, theme.ColorNameSuccess, theme.ColorNameWarning, theme.ColorNameError} {
			if c := contrast(th.Color(n, v), bg); c < 4.5 {
				t.Errorf("variant %d: %s is %.1f:1 on the background", v, n, c)
			}
		}
		for kind, c := range codeColors[v == theme.VariantDark] {
			if r := contrast(c, bg); r < 4.5 {
				t.Errorf("variant %d: token %d is %.1f:1 on the background", v, kind, r)
			}
		}
	}
}
