package authdash

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// UserID identifies a user. It is opaque to clients.
type UserID string

// User is a person's account as the API shows it. The password hash never
// leaves the store through this type.
type User struct {
	ID        UserID    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Version   int64     `json:"version"`
	// EmailVerified says the person proved they read mail at Email: by a
	// verification link, or by the link that confirmed a change to it.
	EmailVerified bool `json:"emailVerified"`
}

// Limits on account fields.
const (
	MaxEmailLen       = 254
	MaxNameLen        = 100
	MinPasswordLen    = 8   // NIST SP 800-63B: at least 8, no composition rules
	MaxPasswordLen    = 128 // bounds hashing work per request
	MaxDeviceLen      = 200
	MaxSessionsListed = 100
)

// NormalizeEmail trims and lower-cases an email so that one address cannot
// register twice in different cases.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Registration is what a person submits to create an account.
type Registration struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// Normalize trims the name and normalises the email in place.
func (r *Registration) Normalize() {
	r.Email = NormalizeEmail(r.Email)
	r.Name = strings.TrimSpace(r.Name)
}

// Validate reports every invalid field at once.
func (r Registration) Validate() error {
	f := fieldErrors{}
	validateEmail(f, "email", r.Email)
	validateName(f, "name", r.Name)
	validatePassword(f, "password", r.Password)
	return f.err()
}

// Credentials is what a person submits to sign in.
type Credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Validate checks shape only; whether they match an account is the
// authenticator's business and must not leak which part was wrong.
func (c Credentials) Validate() error {
	f := fieldErrors{}
	if strings.TrimSpace(c.Email) == "" {
		f.add("email", "Email is required.")
	} else if len(c.Email) > MaxEmailLen {
		f.add("email", "Email is too long.")
	}
	if c.Password == "" {
		f.add("password", "Password is required.")
	} else if len(c.Password) > MaxPasswordLen {
		f.add("password", "Password is too long.")
	}
	return f.err()
}

// UserPatch is a partial profile update; nil fields are left alone.
type UserPatch struct {
	Email *string `json:"email,omitempty"`
	Name  *string `json:"name,omitempty"`
}

// Normalize trims and lower-cases in place.
func (p *UserPatch) Normalize() {
	if p.Email != nil {
		e := NormalizeEmail(*p.Email)
		p.Email = &e
	}
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		p.Name = &n
	}
}

// Validate reports every invalid field at once.
func (p UserPatch) Validate() error {
	f := fieldErrors{}
	if p.Email != nil {
		validateEmail(f, "email", *p.Email)
	}
	if p.Name != nil {
		validateName(f, "name", *p.Name)
	}
	return f.err()
}

// PasswordChange is a request to replace the current password.
type PasswordChange struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// Validate checks both passwords' shape.
func (p PasswordChange) Validate() error {
	f := fieldErrors{}
	if p.CurrentPassword == "" {
		f.add("currentPassword", "Current password is required.")
	} else if len(p.CurrentPassword) > MaxPasswordLen {
		f.add("currentPassword", "Password is too long.")
	}
	validatePassword(f, "newPassword", p.NewPassword)
	return f.err()
}

// ValidateEmail checks an address as sign-up does: CodeInvalid, on the
// field email. For addresses that come from elsewhere (an identity
// provider's claims).
func ValidateEmail(email string) error {
	f := fieldErrors{}
	validateEmail(f, "email", email)
	return f.err()
}

// ValidateName checks a display name as sign-up does: CodeInvalid, on the
// field name.
func ValidateName(name string) error {
	f := fieldErrors{}
	validateName(f, "name", name)
	return f.err()
}

func validateEmail(f fieldErrors, field, email string) {
	switch {
	case email == "":
		f.add(field, "Email is required.")
	case len(email) > MaxEmailLen:
		f.add(field, "Email is too long.")
	default:
		a, err := mail.ParseAddress(email)
		if err != nil || a.Address != email || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
			f.add(field, "Enter a valid email address.")
		}
	}
}

func validateName(f fieldErrors, field, name string) {
	switch {
	case name == "":
		f.add(field, "Name is required.")
	case utf8.RuneCountInString(name) > MaxNameLen:
		f.add(field, "Name must be at most 100 characters.")
	case !utf8.ValidString(name) || hasControl(name):
		f.add(field, "Name contains characters that are not allowed.")
	}
}

func validatePassword(f fieldErrors, field, pw string) {
	n := utf8.RuneCountInString(pw)
	switch {
	case pw == "":
		f.add(field, "Password is required.")
	case n < MinPasswordLen:
		f.add(field, "Password must be at least 8 characters.")
	case n > MaxPasswordLen || len(pw) > 4*MaxPasswordLen:
		f.add(field, "Password must be at most 128 characters.")
	case strings.TrimFunc(pw, unicode.IsSpace) == "":
		f.add(field, "Password must not be only spaces.")
	}
}

// hasControl reports whether s holds a C0 or C1 control character or DEL
// (Unicode category Cc): NUL cuts strings short in C code downstream and ESC
// sequences rewrite a terminal that prints the value, so names, titles and
// tags refuse them all.
func hasControl(s string) bool { return hasControlExcept(s, "") }

// hasControlExcept is hasControl allowing the control characters in ok.
func hasControlExcept(s, ok string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && !strings.ContainsRune(ok, r) {
			return true
		}
	}
	return false
}

// NewUser is what a store needs to create an account. PasswordHash is an
// encoded hash (argon2id/bcrypt); stores never see the password itself.
type NewUser struct {
	Email        string
	Name         string
	PasswordHash string
}

// SessionID identifies a refresh-token family: one signed-in device.
type SessionID string

// Session is one signed-in device. Its refresh token rotates on every use; the
// session (the family) keeps its ID for its whole life.
type Session struct {
	ID         SessionID `json:"id"`
	UserID     UserID    `json:"-"`
	Device     string    `json:"device"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	Current    bool      `json:"current"`
}

// SessionReuse is the cause inside the CodeUnauthorized error RotateSession
// returns when it ended a session because an already redeemed refresh token
// came back, so the caller can also end what the session still holds: its
// access tokens and live connections.
type SessionReuse struct {
	User    UserID
	Session SessionID
}

func (e *SessionReuse) Error() string {
	return "refresh token reuse ended session " + string(e.Session)
}

// Identity is who a verified access token speaks for: its user and
// session, when that session signed in (zero in tokens issued before the
// claim existed, which a revocation of every session then covers), and when
// the token expires. The HTTP API and the socket both authenticate with one.
type Identity struct {
	User         UserID
	Session      SessionID
	SessionStart time.Time
	Expires      time.Time
}

// A Revocation ends access tokens before they expire: those of one Session,
// or, with Session empty, those of every session of User that started
// before At, except Keep (the session that changed the password). Session
// starts are kept to the millisecond, and a sign-in in the same millisecond
// as the revocation is let through: otherwise its session could not get a
// usable token until the revocation expired. A token
// names its user, session and session start, and lives at most 15 minutes,
// so a revocation matters only until Until, when every token it could
// refuse has expired anyway.
type Revocation struct {
	User    UserID    `json:"u"`
	Session SessionID `json:"s,omitempty"`
	Keep    SessionID `json:"k,omitempty"`
	At      time.Time `json:"at"`
	Until   time.Time `json:"until"`
}

// Revokes reports whether r ends the access tokens of the user's session
// that started at started.
func (r Revocation) Revokes(user UserID, session SessionID, started time.Time) bool {
	switch {
	case r.User != user:
		return false
	case r.Session != "":
		return r.Session == session
	default:
		return session != r.Keep && started.Before(Millis(r.At))
	}
}

// RevocationStore keeps revocations until they expire, so that they outlive
// a restart and reach every instance that shares the store, with or without
// Redis (auth/revocation/stored polls it).
type RevocationStore interface {
	// SaveRevocation records r, stamped with the store's clock as the time
	// it was recorded.
	SaveRevocation(ctx context.Context, r Revocation) error
	// Revocations returns the revocations recorded at or after since that
	// have not expired (Until after the store's now), in no set order.
	Revocations(ctx context.Context, since time.Time) ([]Revocation, error)
	// PurgeRevocations deletes those that expired before t and says how
	// many.
	PurgeRevocations(ctx context.Context, before time.Time) (int, error)
}

// NewSession is what a store needs to start a session. TokenHash is the hash of
// the first refresh token; the token itself is never stored.
type NewSession struct {
	UserID    UserID
	Device    string
	TokenHash []byte
	ExpiresAt time.Time
}

// Rotation asks a store to redeem one refresh token and install its successor.
type Rotation struct {
	Presented []byte        // hash of the token the client presented
	Next      []byte        // hash of the token that replaces it
	ExpiresAt time.Time     // new expiry of the session (sliding)
	Grace     time.Duration // a token rotated less than this ago is a benign race, not theft
	// Fresh keeps a current token installed less than this ago: it is
	// redeemed without being replaced (Next is not installed). The tabs of a
	// browser that lost a race retry with the token the winner installed a
	// moment ago; replacing it again would make them race each other anew.
	// Keeping it gives nothing to whoever holds it, who could rotate it
	// anyway.
	Fresh time.Duration
}

// UserStore keeps accounts. Emails are stored normalised and are unique.
type UserStore interface {
	// CreateUser returns CodeConflict if the email is taken.
	CreateUser(ctx context.Context, u NewUser) (*User, error)
	// FindUser returns CodeNotFound for an unknown id.
	FindUser(ctx context.Context, id UserID) (*User, error)
	// FindLogin returns the user with that (normalised) email and its password
	// hash, or CodeNotFound.
	FindLogin(ctx context.Context, email string) (*User, string, error)
	// PasswordHash returns the user's password hash, or CodeNotFound.
	PasswordHash(ctx context.Context, id UserID) (string, error)
	// UpdateUser applies a validated patch: CodeNotFound, CodeConflict (email
	// taken). A patch that changes the email leaves it unverified.
	UpdateUser(ctx context.Context, id UserID, p UserPatch) (*User, error)
	// SetEmail sets the account's address to the (normalised) to and marks it
	// verified, if the address is still from; from == to only marks it
	// verified. A change bumps Version. CodeNotFound, CodePreconditionFailed
	// (the address is no longer from), CodeConflict (another account has to).
	SetEmail(ctx context.Context, id UserID, from, to string) (*User, error)
	// SetPassword replaces the hash and, in the same transaction, ends every
	// session of the user except keep (which may be empty).
	SetPassword(ctx context.Context, id UserID, hash string, keep SessionID) error
	// DeleteUser removes the account with its tasks and sessions: CodeNotFound.
	DeleteUser(ctx context.Context, id UserID) error
}

// SessionStore keeps refresh-token families.
type SessionStore interface {
	// CreateSession starts a session and returns it.
	CreateSession(ctx context.Context, s NewSession) (*Session, error)
	// RotateSession redeems r.Presented and installs r.Next in one transaction,
	// reporting rotated; a current token younger than r.Fresh is redeemed but
	// kept (rotated false, r.Next not installed). CodeUnauthorized if the token
	// is unknown, or the session expired or ended. If the token had already
	// been redeemed more than r.Grace ago, it was stolen or replayed: the whole
	// session ends and CodeUnauthorized is returned with a *SessionReuse in its
	// chain. Within r.Grace it lost a race to a concurrent redemption: the
	// session is left alone and the error is CodeConflict (retry with the
	// token that redemption installed).
	RotateSession(ctx context.Context, r Rotation) (s *Session, rotated bool, err error)
	// FindSession returns a live session of the user by id: CodeNotFound.
	FindSession(ctx context.Context, user UserID, id SessionID) (*Session, error)
	// SessionByToken returns the live session whose current token hash is
	// tokenHash: CodeUnauthorized otherwise.
	SessionByToken(ctx context.Context, tokenHash []byte) (*Session, error)
	// ListSessions returns the user's live sessions, most recently used first.
	ListSessions(ctx context.Context, user UserID) ([]Session, error)
	// DeleteSession ends one session of the user: CodeNotFound.
	DeleteSession(ctx context.Context, user UserID, id SessionID) error
	// DeleteSessions ends every session of the user except keep (may be
	// empty) and returns how many ended.
	DeleteSessions(ctx context.Context, user UserID, keep SessionID) (int, error)
}
