package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func TestPHCRoundTrip(t *testing.T) {
	h := newHasher(defaultParams, 1, time.Second)
	ctx := context.Background()
	enc, err := h.hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not carry the OWASP parameters", enc)
	}
	p, salt, key, err := decodePHC(enc)
	if err != nil {
		t.Fatal(err)
	}
	if p != defaultParams || len(salt) != saltLen || len(key) != 32 {
		t.Fatalf("decoded %+v, salt %d, key %d", p, len(salt), len(key))
	}
	if got := encodePHC(p, salt, key); got != enc {
		t.Fatalf("re-encoded %q, want %q", got, enc)
	}
	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"OK", "correct horse battery staple", true},
		{"ErrWrongPassword", "correct horse battery stapl", false},
		{"ErrEmpty", "", false},
		{"ErrCase", "Correct horse battery staple", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.verify(ctx, tt.password, enc)
			if err != nil || ok != tt.want {
				t.Fatalf("verify = %v, %v; want %v", ok, err, tt.want)
			}
		})
	}
	// Same password, fresh salt: different hashes.
	enc2, _ := h.hash(ctx, "correct horse battery staple")
	if enc2 == enc {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

// TestVerifyKnownVectors checks interoperability with the reference C
// library: these hashes were made by libargon2's argon2id_hash_encoded.
func TestVerifyKnownVectors(t *testing.T) {
	tests := []struct{ name, password, enc string }{
		{"OKReferenceSmall", "password", "$argon2id$v=19$m=4096,t=2,p=1$c29tZXNhbHQ$jacJHQ+PoBstB/ZoVNk8re3s1yzVABZujceGiwVNJnk"},
		{"OKReferenceOWASP", "correct horse", "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$rk2Mi3E4dgRMg0fHaYaptWVZRKqs//6b6k3/nntqGJk"},
	}
	h := newHasher(defaultParams, 1, time.Second)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.verify(context.Background(), tt.password, tt.enc)
			if err != nil || !ok {
				t.Fatalf("verify = %v, %v; want a match", ok, err)
			}
			if ok, _ := h.verify(context.Background(), tt.password+"x", tt.enc); ok {
				t.Fatal("a different password matched")
			}
		})
	}
}

func TestDecodePHCRejectsMalformed(t *testing.T) {
	const salt, key = "c29tZXNhbHRzb21lc2FsdA", "1UOWTaNqLKN4Ib7UaQHHoF8ZDTsZKpWihZvq75V0ES4"
	tests := []struct{ name, in string }{
		{"ErrEmpty", ""},
		{"ErrGarbage", "not a hash"},
		{"ErrBcrypt", "$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"ErrArgon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"ErrArgon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"ErrOldVersion", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key},
		{"ErrNoVersion", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key},
		{"ErrParamOrder", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key},
		{"ErrMissingParam", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key},
		{"ErrExtraParam", "$argon2id$v=19$m=19456,t=2,p=1,k=1$" + salt + "$" + key},
		{"ErrNegative", "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key},
		{"ErrHex", "$argon2id$v=19$m=0x100,t=2,p=1$" + salt + "$" + key},
		{"ErrOverflow", "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + key},
		{"ErrAbsurdMemory", "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key},
		{"ErrTinyMemory", "$argon2id$v=19$m=1,t=2,p=1$" + salt + "$" + key},
		{"ErrZeroTime", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key},
		{"ErrAbsurdTime", "$argon2id$v=19$m=19456,t=1000,p=1$" + salt + "$" + key},
		{"ErrZeroThreads", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key},
		{"ErrAbsurdThreads", "$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key},
		{"ErrShortSalt", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key},
		{"ErrShortKey", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$c2hvcnQ"},
		{"ErrPaddedBase64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key},
		{"ErrURLBase64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.ReplaceAll(key, "/", "_") + "-_"},
		{"ErrTrailingField", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$"},
		{"ErrNoLeadingDollar", "argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"ErrSpaces", "$argon2id$v=19$m=19456, t=2, p=1$" + salt + "$" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := decodePHC(tt.in); !errors.Is(err, errMalformedHash) {
				t.Fatalf("decodePHC(%q) = %v, want errMalformedHash", tt.in, err)
			}
		})
	}
	// Sanity: the shared parts are valid on their own.
	if _, _, _, err := decodePHC("$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key); err != nil {
		t.Fatalf("valid hash rejected: %v", err)
	}
}

func TestDummyHashIsWellFormedAndMatchesNothing(t *testing.T) {
	h := newHasher(defaultParams, 1, time.Second)
	p, _, _, err := decodePHC(h.dummy)
	if err != nil {
		t.Fatal(err)
	}
	if p != h.params {
		t.Fatalf("dummy params %+v differ from the real ones %+v: timing would differ", p, h.params)
	}
	if ok, err := h.verify(context.Background(), "", h.dummy); ok || err != nil {
		t.Fatalf("verify(dummy) = %v, %v", ok, err)
	}
}

// TestHashConcurrencyBound proves no more than the configured number of
// hashes run at once: the hook parks every hash that got a slot, so with the
// slots full, later hashes can only be waiting, and one with a short wait
// gives up as busy. Nothing depends on timing except that busy deadline,
// whose outcome is forced because no slot can free up before it.
func TestHashConcurrencyBound(t *testing.T) {
	const slots, callers = 3, 8
	h := newHasher(cheapParams, slots, time.Minute)
	var (
		active, peak atomic.Int32
		entered      = make(chan struct{}, callers)
		release      = make(chan struct{})
	)
	h.inHash = func() {
		n := active.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		entered <- struct{}{}
		<-release
		active.Add(-1)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := h.hash(ctx, "password")
			errs <- err
		})
	}
	for range slots {
		<-entered
	}
	// Every slot is held and parked: a newcomer must be turned away busy.
	impatient := *h
	impatient.wait = time.Millisecond
	impatient.inHash = func() { t.Error("a hash ran while every slot was held") }
	if _, err := impatient.hash(ctx, "password"); authdash.ErrorCodeOf(err) != authdash.CodeUnavailable ||
		authdash.ErrorMessageOf(err) != "Server is busy, try again." {
		t.Fatalf("hash with full slots = %v, want CodeUnavailable busy", err)
	}
	// A caller whose request is gone gives up too.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := impatient.verify(cctx, "password", h.dummy); authdash.ErrorCodeOf(err) != authdash.CodeUnavailable {
		t.Fatalf("verify with cancelled ctx = %v, want CodeUnavailable", err)
	}
	if n := active.Load(); n != slots {
		t.Fatalf("%d hashes running, want %d", n, slots)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("queued hash failed: %v", err)
		}
	}
	if p := peak.Load(); p != slots {
		t.Fatalf("peak concurrency %d, want %d", p, slots)
	}
}

func BenchmarkHashPassword(b *testing.B) {
	h := newHasher(defaultParams, 1, time.Minute)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
