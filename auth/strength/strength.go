// Package strength judges how easy a new password is to guess, with
// zxcvbn's estimate: its built-in lists (common passwords, English words,
// names, keyboard patterns, sequences, repeats, dates) and the person's own
// email and name. A password it scores below 3 (about 10^8 guesses: safe
// from an online attack, not from an offline one against a fast hash) is
// refused, with the reason in words.
package strength

import (
	"strings"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
)

// MinScore is the lowest zxcvbn score (0–4) accepted.
const MinScore = 3

// Judge estimates password strength. The zero value is ready to use.
type Judge struct{}

// Weakness returns why password is too easy to guess for the person who
// gave userInputs (their email and name), or "" if it is strong enough.
func (Judge) Weakness(password string, userInputs ...string) string {
	inputs := make([]string, 0, 2*len(userInputs))
	for _, in := range userInputs {
		in = strings.ToLower(strings.TrimSpace(in))
		if in == "" {
			continue
		}
		inputs = append(inputs, in)
		// The parts of an address or a name are guessed on their own too.
		inputs = append(inputs, strings.FieldsFunc(in, func(r rune) bool {
			return r == '@' || r == '.' || r == ' ' || r == '-' || r == '_' || r == '+'
		})...)
	}
	r := zxcvbn.PasswordStrength(password, inputs)
	if r.Score >= MinScore {
		return ""
	}
	return "Too easy to guess: " + why(r.Sequence) + " Add a few uncommon words, or make it longer."
}

// why names the weakest part of the password, as zxcvbn's own feedback
// does: the longest pattern it recognised.
func why(seq []*match.Match) string {
	var m *match.Match
	for _, c := range seq {
		if c.Pattern != "bruteforce" && (m == nil || len(c.Token) > len(m.Token)) {
			m = c
		}
	}
	if m == nil {
		return "it is too short for its kind of characters."
	}
	switch m.Pattern {
	case "dictionary":
		switch m.DictionaryName {
		case "passwords":
			if m.Rank <= 100 && len(seq) == 1 {
				return "it is one of the 100 most common passwords."
			}
			return "it is or contains a commonly used password."
		case "user_inputs":
			return "it contains your email address or name."
		case "english_wikipedia", "us_tv_and_film":
			return "a few common words are easy to guess."
		default:
			return "names and surnames are easy to guess."
		}
	case "spatial":
		return "keyboard patterns like qwerty are easy to guess."
	case "repeat":
		return "repeated characters like aaa or abcabc are easy to guess."
	case "sequence":
		return "sequences like abc or 6543 are easy to guess."
	case "date", "regex":
		return "dates and years are easy to guess."
	}
	return "it follows a predictable pattern."
}
