package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func testUserCreateOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	before := time.Now()
	u, err := s.CreateUser(ctx, authdash.NewUser{Email: "  Ann@Example.COM ", Name: "Ann", PasswordHash: "h1"})
	after := time.Now()
	mustOK(t, err)
	if u.ID == "" || u.Email != "ann@example.com" || u.Name != "Ann" || u.Version != 1 {
		t.Fatalf("created %+v", u)
	}
	wantStamp(t, "CreatedAt", u.CreatedAt, before, after)
	if !u.UpdatedAt.Equal(u.CreatedAt) {
		t.Errorf("UpdatedAt %v != CreatedAt %v", u.UpdatedAt, u.CreatedAt)
	}
	got, err := s.FindUser(ctx, u.ID)
	mustOK(t, err)
	if got.ID != u.ID || got.Email != u.Email || got.Name != u.Name || got.Version != u.Version ||
		!got.CreatedAt.Equal(u.CreatedAt) || !got.UpdatedAt.Equal(u.UpdatedAt) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("FindUser = %+v, want %+v", got, u)
	}
}

func testUserErrEmailTaken(t *testing.T, open Opener) {
	ctx := context.Background()
	for _, email := range []string{"bob@example.com", "BOB@example.com", " Bob@Example.Com"} {
		t.Run(email, func(t *testing.T) {
			s := open(t)
			mustUser(t, s, "bob")
			_, err := s.CreateUser(ctx, authdash.NewUser{Email: email, Name: "Other", PasswordHash: "h"})
			wantCode(t, err, authdash.CodeConflict)
			if _, ok := authdash.ErrorFieldsOf(err)["email"]; !ok {
				t.Errorf("fields = %v, want an email entry", authdash.ErrorFieldsOf(err))
			}
		})
	}
}

func testUserFindErrNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	mustUser(t, s, "ann")
	for _, id := range append(malformedIDs, string(missingUserID(t, s))) {
		_, err := s.FindUser(ctx, authdash.UserID(id))
		wantCode(t, err, authdash.CodeNotFound)
		_, err = s.PasswordHash(ctx, authdash.UserID(id))
		wantCode(t, err, authdash.CodeNotFound)
	}
}

func testUserFindLoginOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	for _, email := range []string{"ann@example.com", "ANN@example.com "} {
		got, hash, err := s.FindLogin(ctx, email)
		mustOK(t, err)
		if got.ID != u.ID || hash != hashFor(u.Email) {
			t.Errorf("FindLogin(%q) = %+v, %q", email, got, hash)
		}
	}
	hash, err := s.PasswordHash(ctx, u.ID)
	mustOK(t, err)
	if hash != hashFor(u.Email) {
		t.Errorf("PasswordHash = %q", hash)
	}
}

func testUserFindLoginErrNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	mustUser(t, s, "ann")
	for _, email := range []string{"bob@example.com", "", `{"$gt": ""}`, "%"} {
		_, _, err := s.FindLogin(ctx, email)
		wantCode(t, err, authdash.CodeNotFound)
	}
}

func testUserUpdateOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	got, err := s.UpdateUser(ctx, u.ID, authdash.UserPatch{Name: ptr("Annie")})
	mustOK(t, err)
	if got.Name != "Annie" || got.Email != u.Email || got.Version != 2 || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("after name update %+v", got)
	}
	got, err = s.UpdateUser(ctx, u.ID, authdash.UserPatch{Email: ptr("annie@example.org")})
	mustOK(t, err)
	if got.Email != "annie@example.org" || got.Name != "Annie" || got.Version != 3 {
		t.Fatalf("after email update %+v", got)
	}
	if got.UpdatedAt.Before(u.UpdatedAt) {
		t.Errorf("UpdatedAt went back: %v < %v", got.UpdatedAt, u.UpdatedAt)
	}
	if _, _, err := s.FindLogin(ctx, "annie@example.org"); err != nil {
		t.Errorf("login by new email: %v", err)
	}
	_, _, err = s.FindLogin(ctx, "ann@example.com")
	wantCode(t, err, authdash.CodeNotFound)
	// The old address is free again.
	mustUser(t, s, "ann")
}

func testUserUpdateErrEmailTaken(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	mustUser(t, s, "bob")
	_, err := s.UpdateUser(ctx, u.ID, authdash.UserPatch{Email: ptr("bob@example.com")})
	wantCode(t, err, authdash.CodeConflict)
	if _, ok := authdash.ErrorFieldsOf(err)["email"]; !ok {
		t.Errorf("fields = %v, want an email entry", authdash.ErrorFieldsOf(err))
	}
	got, err := s.FindUser(ctx, u.ID)
	mustOK(t, err)
	if got.Email != u.Email || got.Version != 1 {
		t.Errorf("a failed update changed the user: %+v", got)
	}
}

func testUserUpdateErrNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	for _, id := range append(malformedIDs, string(missingUserID(t, s))) {
		_, err := s.UpdateUser(ctx, authdash.UserID(id), authdash.UserPatch{Name: ptr("x")})
		wantCode(t, err, authdash.CodeNotFound)
	}
}

func testUserSetPasswordOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	other := mustUser(t, s, "bob")
	keep := mustSession(t, s, u.ID, "t1")
	mustSession(t, s, u.ID, "t2")
	mustSession(t, s, u.ID, "t3")
	bobs := mustSession(t, s, other.ID, "b1")

	mustOK(t, s.SetPassword(ctx, u.ID, "new-hash", keep.ID))
	hash, err := s.PasswordHash(ctx, u.ID)
	mustOK(t, err)
	if hash != "new-hash" {
		t.Errorf("hash = %q", hash)
	}
	list, err := s.ListSessions(ctx, u.ID)
	mustOK(t, err)
	if len(list) != 1 || list[0].ID != keep.ID {
		t.Errorf("sessions after SetPassword = %+v, want only %s", list, keep.ID)
	}
	for _, tok := range []string{"t2", "t3"} {
		_, err := s.SessionByToken(ctx, []byte(tok))
		wantCode(t, err, authdash.CodeUnauthorized)
	}
	if _, err := s.FindSession(ctx, other.ID, bobs.ID); err != nil {
		t.Errorf("another user's session ended: %v", err)
	}

	mustOK(t, s.SetPassword(ctx, u.ID, "newer-hash", ""))
	list, err = s.ListSessions(ctx, u.ID)
	mustOK(t, err)
	if len(list) != 0 {
		t.Errorf("sessions after SetPassword with no keep = %+v", list)
	}
}

func testUserSetPasswordErrNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	for _, id := range append(malformedIDs, string(missingUserID(t, s))) {
		wantCode(t, s.SetPassword(ctx, authdash.UserID(id), "h", ""), authdash.CodeNotFound)
	}
}

func testUserDeleteCascades(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	other := mustUser(t, s, "bob")
	task := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "mine", Tags: []string{"x"}})
	gone := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "deleted"})
	_, err := s.DeleteTask(ctx, u.ID, gone.ID, 0)
	mustOK(t, err)
	sess := mustSession(t, s, u.ID, "t1")
	bobTask := mustTask(t, s, other.ID, authdash.TaskDraft{Title: "bob's", Tags: []string{"x"}})
	mustSession(t, s, other.ID, "b1")

	mustOK(t, s.DeleteUser(ctx, u.ID))

	_, err = s.FindUser(ctx, u.ID)
	wantCode(t, err, authdash.CodeNotFound)
	_, _, err = s.FindLogin(ctx, u.Email)
	wantCode(t, err, authdash.CodeNotFound)
	_, err = s.FindTask(ctx, u.ID, task.ID)
	wantCode(t, err, authdash.CodeNotFound)
	_, err = s.FindSession(ctx, u.ID, sess.ID)
	wantCode(t, err, authdash.CodeNotFound)
	_, err = s.SessionByToken(ctx, []byte("t1"))
	wantCode(t, err, authdash.CodeUnauthorized)
	_, _, err = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("t1"), Next: []byte("t1b"), ExpiresAt: time.Now().Add(time.Hour)})
	wantCode(t, err, authdash.CodeUnauthorized)
	page, err := s.FindTasks(ctx, u.ID, query(authdash.TaskQuery{}))
	mustOK(t, err)
	if len(page.Items) != 0 {
		t.Errorf("deleted user still lists %d tasks", len(page.Items))
	}
	st, err := s.TaskStats(ctx, u.ID)
	mustOK(t, err)
	if st != (authdash.TaskStats{}) {
		t.Errorf("deleted user's stats = %+v", st)
	}
	createForMissingOwner(t, s, u.ID, other.ID)
	wantCode(t, s.DeleteUser(ctx, u.ID), authdash.CodeNotFound)

	// The other user is untouched, tags included.
	if _, err := s.FindTask(ctx, other.ID, bobTask.ID); err != nil {
		t.Errorf("other user's task: %v", err)
	}
	page, err = s.FindTasks(ctx, other.ID, query(authdash.TaskQuery{Tag: "x"}))
	mustOK(t, err)
	if len(page.Items) != 1 {
		t.Errorf("other user's tag filter = %d tasks, want 1", len(page.Items))
	}
	if _, err := s.SessionByToken(ctx, []byte("b1")); err != nil {
		t.Errorf("other user's session: %v", err)
	}
}

func testUserDeleteErrNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	for _, id := range malformedIDs {
		wantCode(t, s.DeleteUser(ctx, authdash.UserID(id)), authdash.CodeNotFound)
	}
}

// draft returns a normalised draft with a title.
func draft(title string) authdash.TaskDraft {
	d := authdash.TaskDraft{Title: title}
	d.Normalize()
	return d
}

// query returns a normalised query.
func query(q authdash.TaskQuery) authdash.TaskQuery {
	q.Normalize()
	return q
}

// Look-alike spellings of one address (fullwidth forms, a ligature, case
// that only Unicode folding equates) are one account: the address is stored
// canonical (NFKC, lower case, ß kept), sign-in finds it by any spelling,
// and a second account cannot take it (review finding 9).
func testUserEmailLookalikes(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u, err := s.CreateUser(ctx, authdash.NewUser{Email: "ｕｓｅｒ＠ｅｘａｍｐｌｅ.ｃｏｍ", Name: "User", PasswordHash: "h1"})
	mustOK(t, err)
	if u.Email != "user@example.com" {
		t.Errorf("stored %q, want the canonical user@example.com", u.Email)
	}
	de, err := s.CreateUser(ctx, authdash.NewUser{Email: "Straße@Example.de", Name: "Straße", PasswordHash: "h2"})
	mustOK(t, err)
	if de.Email != "straße@example.de" {
		t.Errorf("stored %q, want straße@example.de (folding is for comparing, not mailing)", de.Email)
	}
	for _, tt := range []struct {
		spelling string
		want     authdash.UserID
	}{
		{"user@example.com", u.ID},
		{"USER@EXAMPLE.COM", u.ID},
		{"ｕｓｅｒ@example.com", u.ID},
		{"ＵＳＥＲ＠example.com", u.ID},
		{"strasse@example.de", de.ID},
		{"STRASSE@EXAMPLE.DE", de.ID},
		{"straße@example.de", de.ID},
	} {
		got, hash, err := s.FindLogin(ctx, tt.spelling)
		if err != nil || got.ID != tt.want || hash == "" {
			t.Errorf("FindLogin(%q) = %v, %v; want %s", tt.spelling, got, err, tt.want)
		}
		_, err = s.CreateUser(ctx, authdash.NewUser{Email: tt.spelling, Name: "Look-alike", PasswordHash: "h"})
		wantCode(t, err, authdash.CodeConflict)
	}
	_, _, err = s.FindLogin(ctx, "user2@example.com")
	wantCode(t, err, authdash.CodeNotFound)

	// Moving another account to a look-alike is refused too.
	other := mustUser(t, s, "other")
	lookalike := "ｕｓｅｒ@example.com"
	_, err = s.UpdateUser(ctx, other.ID, authdash.UserPatch{Email: &lookalike})
	wantCode(t, err, authdash.CodeConflict)
	_, err = s.SetEmail(ctx, other.ID, other.Email, "STRASSE@example.de")
	wantCode(t, err, authdash.CodeConflict)
	// Its own address in another spelling is no move: SetEmail only
	// verifies it.
	got, err := s.SetEmail(ctx, u.ID, "USER@example.com", "ｕｓｅｒ@example.com")
	mustOK(t, err)
	if got.Email != "user@example.com" || !got.EmailVerified {
		t.Errorf("SetEmail to its own address spelt otherwise: %+v", got)
	}
}
