// Package qrsvg draws a QR code as SVG: go-qrcode computes the modules, and
// the picture is one path of unit squares on a white field with the quiet
// zone around it, scalable without blur and a few hundred bytes for an
// otpauth URI. Nothing in it is loaded from anywhere.
package qrsvg

import (
	"fmt"
	"html"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// SVG returns the QR code of text (error correction level M) as a
// standalone <svg> element whose accessible name is label.
func SVG(text, label string) (string, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("qrsvg: %w", err)
	}
	return draw(q.Bitmap(), label), nil
}

// draw writes bitmap (rows of modules, dark true, quiet zone included) as
// SVG: one "h1v1h-1z" square per dark module, runs in a row merged.
func draw(bitmap [][]bool, label string) string {
	n := len(bitmap)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="%s">`,
		n, n, html.EscapeString(label))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bitmap {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String()
}
