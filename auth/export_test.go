package auth

import "time"

// cheapParams keep tests that hash many passwords fast; the real cost is
// covered by the PHC and benchmark tests.
var cheapParams = argonParams{memory: 64, time: 1, threads: 1, keyLen: 32}

// UseCheapHashing makes s hash with minimal argon2id cost, for tests.
func UseCheapHashing(s *Service) {
	s.hasher = newHasher(cheapParams, s.cfg.HashConcurrency, time.Minute)
}

// OnHash makes s call f every time it computes a password hash.
func OnHash(s *Service, f func()) { s.hasher.inHash = f }

// ForgetTokens empties the verified-token cache of v.
func ForgetTokens(v *Verifier) { v.verified.m.Clear(); v.verified.n.Store(0) }

// CachedTokens counts the verified-token cache of v.
func CachedTokens(v *Verifier) int { return v.verified.len() }

// MaxCachedTokens is the cache bound.
const MaxCachedTokens = maxCachedTokens
