package qrsvg

import (
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// TestSVGDrawsTheBitmap reads the path back into modules and compares them
// with go-qrcode's bitmap, so a square drawn in the wrong place fails.
func TestSVGDrawsTheBitmap(t *testing.T) {
	const uri = "otpauth://totp/Authdash:ann@example.com?algorithm=SHA1&digits=6&issuer=Authdash&period=30&secret=JBSWY3DPEHPK3PXP"
	svg, err := SVG(uri, `QR code "ann" <x>`)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, svg)
	}
	if !strings.Contains(svg, `aria-label="QR code &#34;ann&#34; &lt;x&gt;"`) || !strings.Contains(svg, `role="img"`) {
		t.Errorf("label not escaped or missing:\n%.300s", svg)
	}
	q, err := qrcode.New(uri, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	want := q.Bitmap()
	got := make([][]bool, len(want))
	for i := range got {
		got[i] = make([]bool, len(want))
	}
	for _, m := range regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`).FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		run, _ := strconv.Atoi(m[3])
		for i := range run {
			if got[y][x+i] {
				t.Fatalf("module %d,%d drawn twice", x+i, y)
			}
			got[y][x+i] = true
		}
	}
	for y := range want {
		for x := range want[y] {
			if got[y][x] != want[y][x] {
				t.Fatalf("module %d,%d = %v, want %v", x, y, got[y][x], want[y][x])
			}
		}
	}
}

func TestSVGTooLong(t *testing.T) {
	if _, err := SVG(strings.Repeat("x", 5000), "too long"); err == nil {
		t.Fatal("no error for a text no QR code holds")
	}
}
