package wire

import (
	"encoding/json"
	"time"
)

// Passkey is one of the account's passkeys (GET /api/me/passkeys). ID is the
// credential's ID in base64url, as WebAuthn writes it.
type Passkey struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	CreatedAt      time.Time  `json:"createdAt"`
	LastUsedAt     *time.Time `json:"lastUsedAt,omitempty"`
	BackupEligible bool       `json:"backupEligible"` // may be synced to the person's other devices
	BackupState    bool       `json:"backupState"`    // is synced
}

// PasskeyList answers GET /api/me/passkeys: oldest first.
type PasskeyList struct {
	Items []Passkey `json:"items"`
}

// PasskeyRegistration is POST /api/me/passkeys/finish: the name to keep the
// passkey under and what navigator.credentials.create returned (the
// PublicKeyCredential as JSON, binary fields in base64url).
type PasskeyRegistration struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

// PasskeyRename is PATCH /api/me/passkeys/{id}.
type PasskeyRename struct {
	Name string `json:"name"`
}

// PasskeyLoginBegin is POST /api/auth/passkey/begin: empty for a sign-in
// with a passkey alone, or the token of a sign-in waiting for its second
// factor. POST /api/auth/mfa/passkey/begin takes it with the token.
type PasskeyLoginBegin struct {
	MFAToken string `json:"mfaToken,omitempty"`
}

// PasskeyLogin is POST /api/auth/passkey/finish: what
// navigator.credentials.get returned and, for a second factor, the token.
type PasskeyLogin struct {
	MFAToken   string          `json:"mfaToken,omitempty"`
	Credential json.RawMessage `json:"credential"`
}
