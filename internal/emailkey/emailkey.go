// Package emailkey says which addresses are one: the form an email address
// is stored and mailed in, and the key accounts are looked up and kept
// unique by. Unicode has many ways to write what reads as one address
// (fullwidth ｕｓｅｒ＠example.com, ligatures, the long s, Kelvin's K), so
// comparing lower-cased strings let look-alikes open a second account
// under someone's address, or dodge a limit kept per address.
package emailkey

import (
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Canonical is the address as stored and mailed: NFKC (compatibility
// forms such as fullwidth letters and ＠ become the plain characters),
// trimmed and lower-cased. It keeps letters case folding would change
// (ß stays ß), which a mail server may tell apart.
func Canonical(email string) string {
	return strings.ToLower(strings.TrimSpace(norm.NFKC.String(email)))
}

// Key is the address as compared: Canonical, then Unicode case folding
// (ß and ss, ς and σ are one) and NFKC again, since folding can undo it.
// Two addresses with one Key belong to one account at most.
func Key(email string) string {
	// A Caser keeps state: one per call, so Key is safe for concurrent use.
	return norm.NFKC.String(cases.Fold().String(Canonical(email)))
}
