// Command gen draws Hooktray's icons into assets/ (go run ./assets/gen). They are committed; run
// this only to change them. With -hicolor DIR it draws the application icon at the sizes desktops
// look for, as DIR/<n>x<n>/apps/hooktray.png (the Linux package).
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"github.com/hooktray/hooktray/assets/palette"
)

var (
	blue, white              = palette.Brand, palette.White
	green, grey, red, orange = palette.Online, palette.Offline, palette.Problem, palette.Alert
)

func main() {
	hicolor := flag.String("hicolor", "", "draw the app icon at the usual sizes into this hicolor folder, and nothing else")
	ico := flag.String("ico", "", "write the app icon as a Windows .ico file (16 to 256 px), and nothing else")
	flag.Parse()
	if *ico != "" {
		if err := writeICO(*ico, []int{16, 24, 32, 48, 64, 128, 256}); err != nil {
			panic(err)
		}
		return
	}
	if *hicolor != "" {
		for _, n := range []int{16, 24, 32, 48, 64, 128, 256, 512} {
			dir := filepath.Join(*hicolor, fmt.Sprintf("%dx%d", n, n), "apps")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				panic(err)
			}
			save(filepath.Join(dir, "hooktray.png"), draw(n, blue, nil))
		}
		return
	}
	out := "assets"
	save(filepath.Join(out, "icon.png"), draw(512, blue, nil))
	for name, badge := range map[string]*color.NRGBA{
		"tray-online.png": &green, "tray-offline.png": &grey, "tray-error.png": &red, "tray-alert.png": &orange,
	} {
		save(filepath.Join(out, name), draw(64, blue, badge))
	}
}

// draw paints a rounded square with a white webhook hook (an arc ending in a barb above a
// stem) and, optionally, a status badge in the lower right corner. Supersampled 4× for smooth
// edges.
func draw(size int, bg color.NRGBA, badge *color.NRGBA) image.Image {
	const ss = 4
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	s := float64(size)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					px := (float64(x) + (float64(sx)+0.5)/ss) / s
					py := (float64(y) + (float64(sy)+0.5)/ss) / s
					c, ok := shade(px, py, bg, badge)
					if !ok {
						continue
					}
					r += float64(c.R)
					g += float64(c.G)
					b += float64(c.B)
					a += 255
				}
			}
			n := float64(ss * ss)
			if a > 0 {
				img.SetNRGBA(x, y, color.NRGBA{uint8(r / (a / 255)), uint8(g / (a / 255)), uint8(b / (a / 255)), uint8(a / n)})
			}
		}
	}
	return img
}

// shade returns the colour at (x, y) in the unit square, or false for transparent.
func shade(x, y float64, bg color.NRGBA, badge *color.NRGBA) (color.NRGBA, bool) {
	if badge != nil {
		if d := math.Hypot(x-0.78, y-0.78); d < 0.22 {
			if d > 0.17 {
				return white, true
			}
			return *badge, true
		}
	}
	if !roundedSquare(x, y, 0.04, 0.22) {
		return color.NRGBA{}, false
	}
	// The hook: a stem from the top down to an arc that curves up to a barb.
	const w = 0.075
	cx, cy, rad := 0.5, 0.58, 0.17
	stem := math.Abs(x-(cx+rad)) < w && y > 0.265 && y < cy
	d := math.Hypot(x-cx, y-cy)
	arc := math.Abs(d-rad) < w && y >= cy
	barb := math.Abs(x-(cx-rad)) < w && y > cy-0.12 && y < cy
	eye := math.Abs(math.Hypot(x-(cx+rad), y-0.2)-0.07) < 0.04
	if stem || arc || barb || eye {
		return white, true
	}
	return bg, true
}

func roundedSquare(x, y, margin, radius float64) bool {
	lo, hi := margin, 1-margin
	if x < lo || x > hi || y < lo || y > hi {
		return false
	}
	cx := math.Max(lo+radius, math.Min(x, hi-radius))
	cy := math.Max(lo+radius, math.Min(y, hi-radius))
	return math.Hypot(x-cx, y-cy) <= radius
}

func save(path string, img image.Image) {
	f, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		panic(err)
	}
}

// writeICO writes an .ico whose images are PNGs (allowed since Windows Vista), one per size.
func writeICO(path string, sizes []int) error {
	var images [][]byte
	for _, n := range sizes {
		var b bytes.Buffer
		if err := png.Encode(&b, draw(n, blue, nil)); err != nil {
			return err
		}
		images = append(images, b.Bytes())
	}
	var out bytes.Buffer
	binary.Write(&out, binary.LittleEndian, [3]uint16{0, 1, uint16(len(sizes))}) // reserved, type icon, count
	offset := 6 + 16*len(sizes)
	for i, n := range sizes {
		dim := uint8(n)
		if n >= 256 {
			dim = 0 // 0 means 256
		}
		binary.Write(&out, binary.LittleEndian, struct {
			W, H, Colors, Reserved uint8
			Planes, Bits           uint16
			Size, Offset           uint32
		}{dim, dim, 0, 0, 1, 32, uint32(len(images[i])), uint32(offset)})
		offset += len(images[i])
	}
	for _, img := range images {
		out.Write(img)
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}
