package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/authdash/authdash"
)

// argonParams are the cost parameters of one argon2id hash. They travel with
// every hash in its PHC string, so raising them later only affects new hashes.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32 // passes
	threads uint8
	keyLen  uint32
}

// defaultParams are OWASP's first recommendation for argon2id (Password
// Storage Cheat Sheet): 19 MiB, 2 passes, 1 lane.
var defaultParams = argonParams{memory: 19456, time: 2, threads: 1, keyLen: 32}

const saltLen = 16

// Bounds a stored hash must respect before we spend memory and CPU on it: a
// corrupted or planted row must not be able to ask for gigabytes.
const (
	minMemory, maxMemory   = 8, 1 << 18 // KiB: up to 256 MiB
	minTime, maxTime       = 1, 16
	minThreads, maxThreads = 1, 16
	minSalt, maxSalt       = 8, 64
	minKey, maxKey         = 16, 64
)

var b64 = base64.RawStdEncoding

var errMalformedHash = errors.New("auth: malformed password hash")

// encodePHC formats a hash in the PHC string format argon2's reference
// implementation and libraries such as libsodium and passlib use.
func encodePHC(p argonParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodePHC parses "$argon2id$v=19$m=M,t=T,p=P$salt$hash" strictly: any other
// algorithm or version, a parameter out of bounds or bad base64 is an error.
func decodePHC(s string) (p argonParams, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errMalformedHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported version %q", errMalformedHash, parts[2])
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, errMalformedHash
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(kv[i], name)
		if !ok {
			return p, nil, nil, errMalformedHash
		}
		v, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			return p, nil, nil, errMalformedHash
		}
		vals[i] = v
	}
	m, t, th := vals[0], vals[1], vals[2]
	if m < minMemory || m > maxMemory || t < minTime || t > maxTime || th < minThreads || th > maxThreads || m < 8*th {
		return p, nil, nil, fmt.Errorf("%w: parameters out of bounds", errMalformedHash)
	}
	if salt, err = b64.Strict().DecodeString(parts[4]); err != nil || len(salt) < minSalt || len(salt) > maxSalt {
		return p, nil, nil, fmt.Errorf("%w: bad salt", errMalformedHash)
	}
	if key, err = b64.Strict().DecodeString(parts[5]); err != nil || len(key) < minKey || len(key) > maxKey {
		return p, nil, nil, fmt.Errorf("%w: bad key", errMalformedHash)
	}
	return argonParams{memory: uint32(m), time: uint32(t), threads: uint8(th), keyLen: uint32(len(key))}, salt, key, nil
}

// hashWith derives the key for password under p and salt. It is the only
// place the expensive work happens; callers hold a hasher slot.
func hashWith(password string, p argonParams, salt []byte) []byte {
	return argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, p.keyLen)
}

// hasher bounds how many argon2id hashes run at once. Each one holds
// 19 MiB and a core for tens of milliseconds, so without a bound a login
// flood would take every core and a lot of memory from the rest of the API;
// with it, the flood queues here and everyone else keeps being served.
type hasher struct {
	params argonParams
	slots  chan struct{}
	wait   time.Duration // longest wait for a slot before giving up
	// dummy is a well-formed hash that no password matches, checked when an
	// email is unknown so that the answer takes as long as a wrong password.
	dummy string
	// inHash, if set, runs while a slot is held (tests count concurrency).
	inHash func()
}

func newHasher(p argonParams, concurrency int, wait time.Duration) *hasher {
	salt := make([]byte, saltLen)
	key := make([]byte, p.keyLen)
	rand.Read(salt)
	rand.Read(key)
	return &hasher{
		params: p,
		slots:  make(chan struct{}, concurrency),
		wait:   wait,
		dummy:  encodePHC(p, salt, key),
	}
}

const msgBusy = "Server is busy, try again."

// acquire takes a hashing slot, waiting at most h.wait and never past ctx.
func (h *hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return authdash.WrapError(authdash.CodeUnavailable, err, "Request cancelled.")
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		return &authdash.Error{Code: authdash.CodeUnavailable, Message: msgBusy}
	case <-ctx.Done():
		return authdash.WrapError(authdash.CodeUnavailable, ctx.Err(), "Request cancelled.")
	}
}

func (h *hasher) release() { <-h.slots }

// run calls f holding a slot.
func (h *hasher) run(ctx context.Context, f func()) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	if h.inHash != nil {
		h.inHash()
	}
	f()
	return nil
}

// hash returns the PHC string of password under fresh random salt.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	var key []byte
	if err := h.run(ctx, func() { key = hashWith(password, h.params, salt) }); err != nil {
		return "", err
	}
	return encodePHC(h.params, salt, key), nil
}

// verify reports whether password matches the PHC string encoded. A
// malformed encoded hash is an error, not a mismatch: it means a broken row.
func (h *hasher) verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, want, err := decodePHC(encoded)
	if err != nil {
		return false, err
	}
	var got []byte
	if err := h.run(ctx, func() { got = hashWith(password, p, salt) }); err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
