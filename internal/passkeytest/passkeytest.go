// Package passkeytest is a software WebAuthn authenticator for tests: it
// answers the options the server's begin routes give as a browser with a
// platform authenticator would (ES256 keys, "none" attestation), so the
// server's passkey ceremonies are tested end to end without a browser.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Authenticator holds passkeys for one origin.
type Authenticator struct {
	Origin string
	// UserVerified says the person unlocked the authenticator (a PIN, a
	// fingerprint); BackupEligible and BackedUp are the backup flags.
	UserVerified, BackupEligible, BackedUp bool
	Keys                                   []*Key
}

// Key is one passkey the authenticator holds.
type Key struct {
	ID         []byte
	RPID       string
	UserHandle []byte
	Priv       *ecdsa.PrivateKey
	Count      uint32 // the signature counter, advanced by each Get
}

var b64 = base64.RawURLEncoding

// options is the part of the begin routes' answers an authenticator reads.
type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Allow []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func parse(raw []byte) (options, error) {
	var o options
	if err := json.Unmarshal(raw, &o); err != nil {
		return o, fmt.Errorf("passkeytest: options: %w", err)
	}
	return o, nil
}

func (a *Authenticator) flags(attested bool) byte {
	f := byte(0x01) // user present
	if a.UserVerified {
		f |= 0x04
	}
	if a.BackupEligible {
		f |= 0x08
	}
	if a.BackedUp {
		f |= 0x10
	}
	if attested {
		f |= 0x40
	}
	return f
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// Create answers a registration's options (POST /api/me/passkeys/begin) with
// a new key: the credential to send to the finish route.
func (a *Authenticator) Create(raw []byte) (json.RawMessage, *Key, error) {
	o, err := parse(raw)
	if err != nil {
		return nil, nil, err
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	user, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("passkeytest: user id: %w", err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	k := &Key{ID: id, RPID: o.PublicKey.RP.ID, UserHandle: user, Priv: priv}
	a.Keys = append(a.Keys, k)

	pub, err := priv.PublicKey.Bytes() // 0x04, X, Y
	if err != nil {
		return nil, nil, err
	}
	x, y := pub[1:33], pub[33:65]
	// COSE_Key: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
	cose := cborMap(
		cborInt(1), cborInt(2), cborInt(3), cborInt(-7), cborInt(-1), cborInt(1),
		cborInt(-2), cborBytes(x), cborInt(-3), cborBytes(y))
	rp := sha256.Sum256([]byte(k.RPID))
	auth := append(rp[:], a.flags(true))
	auth = binary.BigEndian.AppendUint32(auth, k.Count)
	auth = append(auth, make([]byte, 16)...) // AAGUID: none
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(id)))
	auth = append(auth, id...)
	auth = append(auth, cose...)
	att := cborMap(cborText("fmt"), cborText("none"), cborText("attStmt"), cborMap(), cborText("authData"), cborBytes(auth))
	cd := clientData("webauthn.create", o.PublicKey.Challenge, a.Origin)
	out, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(id), "rawId": b64.EncodeToString(id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "attestationObject": b64.EncodeToString(att),
			"transports": []string{"internal"}},
		"clientExtensionResults": map[string]any{},
	})
	return out, k, err
}

// Get answers a sign-in's options (POST /api/auth/passkey/begin) with k, its
// counter advanced first (set k.Count to replay an older one).
func (a *Authenticator) Get(raw []byte, k *Key) (json.RawMessage, error) {
	o, err := parse(raw)
	if err != nil {
		return nil, err
	}
	rpID := o.PublicKey.RPID
	if rpID == "" {
		rpID = k.RPID
	}
	k.Count++
	return a.Sign(o.PublicKey.Challenge, rpID, k)
}

// Sign signs challenge with k at its current counter.
func (a *Authenticator) Sign(challenge, rpID string, k *Key) (json.RawMessage, error) {
	rp := sha256.Sum256([]byte(rpID))
	auth := append(rp[:], a.flags(false))
	auth = binary.BigEndian.AppendUint32(auth, k.Count)
	cd := clientData("webauthn.get", challenge, a.Origin)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.Priv, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.ID), "rawId": b64.EncodeToString(k.ID), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(auth),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(k.UserHandle)},
		"clientExtensionResults": map[string]any{},
	})
}

// Challenge reads the challenge out of begin options.
func Challenge(raw []byte) string {
	o, _ := parse(raw)
	return o.PublicKey.Challenge
}

// The few CBOR items (RFC 8949) an attestation needs.

func cborHead(major byte, n uint64) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n < 256:
		return []byte{major<<5 | 24, byte(n)}
	case n < 65536:
		return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
	}
	return binary.BigEndian.AppendUint32([]byte{major<<5 | 26}, uint32(n))
}

func cborInt(i int64) []byte {
	if i < 0 {
		return cborHead(1, uint64(-1-i))
	}
	return cborHead(0, uint64(i))
}

func cborBytes(b []byte) []byte { return append(cborHead(2, uint64(len(b))), b...) }
func cborText(s string) []byte  { return append(cborHead(3, uint64(len(s))), s...) }

// cborMap encodes key, value, key, value, ...
func cborMap(kv ...[]byte) []byte {
	out := cborHead(5, uint64(len(kv)/2))
	for _, b := range kv {
		out = append(out, b...)
	}
	return out
}
