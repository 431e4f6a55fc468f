// Package emailkey says which addresses are one: the form an email address
// is stored and mailed in, and the key accounts are looked up and kept
// unique by. Unicode has many ways to write what reads as one address
// (fullwidth ｕｓｅｒ＠example.com, ligatures, the long s, Kelvin's K), so
// comparing lower-cased strings let look-alikes open a second account
// under someone's address, or dodge a limit kept per address.
package emailkey

import (
	"cmp"
	"slices"
	"strings"
	"time"

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

// Holder is an account that claims a key: its id, its address as stored,
// and when it was made.
type Holder struct {
	ID, Email string
	Created   time.Time
}

// Keeper orders the accounts that claim one key, made before keys
// existed, when addresses were kept apart as lower-cased strings only
// (ｕｓｅｒ@example.com and user@example.com): the one that keeps the key
// first. That is the account whose address is already written as its key
// (the form people type, so not a look-alike's), else the oldest, then
// the lowest id, so every instance decides alike.
func Keeper(key string, hs []Holder) {
	slices.SortFunc(hs, func(a, b Holder) int {
		if (a.Email == key) != (b.Email == key) {
			if a.Email == key {
				return -1
			}
			return 1
		}
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
	})
}

// Apart is the key of an account that lost its key to another (Keeper): no
// address typed at sign-in reaches it, since Key never returns a fullwidth
// ＠ (NFKC maps it to @), and it stays unique (it holds the id). The account
// is kept, never merged: an operator changes its address or deletes it.
func Apart(id string) string { return "＠collision:" + id }
