package ui

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// appTheme is Fyne's theme with colours of meaning (success, warning, error) and JSON's token
// colours dark enough on the light background and light enough on the dark one to read: 4.5:1 or
// better, as TestTextColoursAreReadableInBothThemes checks. Fyne's own orange and green are
// 2.2:1 and 1.5:1 on white.
type appTheme struct{ fyne.Theme }

func newAppTheme() fyne.Theme { return appTheme{theme.DefaultTheme()} }

// meaningColors are the status colours by variant (dark: true).
var meaningColors = map[bool]map[fyne.ThemeColorName]color.NRGBA{
	false: {
		theme.ColorNameSuccess: {0x15, 0x80, 0x3d, 0xff},
		theme.ColorNameWarning: {0xa1, 0x4a, 0x00, 0xff},
		theme.ColorNameError:   {0xb9, 0x1c, 0x1c, 0xff},
	},
	true: {
		theme.ColorNameSuccess: {0x4a, 0xde, 0x80, 0xff},
		theme.ColorNameWarning: {0xfb, 0xbf, 0x24, 0xff},
		theme.ColorNameError:   {0xf8, 0x71, 0x71, 0xff},
	},
}

// codeColors are the colours of a body's tokens by variant.
var codeColors = map[bool]map[tokenKind]color.Color{
	false: {
		tokenKey:     color.NRGBA{0x1d, 0x4e, 0xd8, 0xff},
		tokenString:  color.NRGBA{0x15, 0x6a, 0x35, 0xff},
		tokenNumber:  color.NRGBA{0xa3, 0x35, 0x0a, 0xff},
		tokenLiteral: color.NRGBA{0x7e, 0x22, 0xce, 0xff},
	},
	true: {
		tokenKey:     color.NRGBA{0x93, 0xc5, 0xfd, 0xff},
		tokenString:  color.NRGBA{0x86, 0xef, 0xac, 0xff},
		tokenNumber:  color.NRGBA{0xfd, 0xba, 0x74, 0xff},
		tokenLiteral: color.NRGBA{0xd8, 0xb4, 0xfe, 0xff},
	},
}

func (t appTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if c, ok := meaningColors[v == theme.VariantDark][n]; ok {
		return c
	}
	return t.Theme.Color(n, v)
}

// contrast is the WCAG contrast ratio of two colours, from 1 to 21.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
