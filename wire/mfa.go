package wire

import "github.com/authdash/authdash"

// MFAChallenge answers POST /api/auth/login when the account has a second
// factor: no access token, no cookie, only the token that POST /api/auth/mfa
// takes with a code or a passkey's answer (authdash.MFAAnswer) to finish the
// sign-in (a passkey's options from POST /api/auth/mfa/passkey/begin).
type MFAChallenge struct {
	MFARequired bool     `json:"mfaRequired"` // always true
	MFAToken    string   `json:"mfaToken"`
	Methods     []string `json:"methods"`   // "totp", "recovery", "passkey"
	ExpiresIn   int64    `json:"expiresIn"` // seconds the token works
}

// TOTPSetup answers POST /api/me/mfa/totp: the new secret, to type in or
// scan (qrSvg draws otpauthUri), until POST /api/me/mfa/totp/confirm.
type TOTPSetup struct {
	Secret     string `json:"secret"`
	OtpauthURI string `json:"otpauthUri"`
	QRSVG      string `json:"qrSvg"`
}

// TOTPCode is the body of POST /api/me/mfa/totp/confirm.
type TOTPCode struct {
	Code string `json:"code"`
}

// TOTPDisable is the body of DELETE /api/me/mfa/totp: the password and a
// code from the app (or a recovery code).
type TOTPDisable struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

// RecoveryCodes answers a confirmed set-up: shown once, each works once.
type RecoveryCodes struct {
	RecoveryCodes []string `json:"recoveryCodes"`
}

// MFAStatus answers GET /api/me/mfa.
type MFAStatus struct {
	TOTP          bool `json:"totp"`
	RecoveryCodes int  `json:"recoveryCodes"` // unused ones left
}

// SignInList answers GET /api/me/activity: newest first.
type SignInList struct {
	Items []authdash.SignInEvent `json:"items"`
}
