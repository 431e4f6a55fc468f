package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func mustMail(tb testing.TB, s authdash.Store, m authdash.Mail) authdash.MailID {
	tb.Helper()
	id, err := s.EnqueueMail(context.Background(), m)
	if err != nil {
		tb.Fatalf("EnqueueMail(%s): %v", m.Subject, err)
	}
	if id == "" {
		tb.Fatal("EnqueueMail returned no ID")
	}
	return id
}

func mailAt(subject string, due time.Time) authdash.Mail {
	return authdash.Mail{Kind: "verify-email", To: "ann@example.com", Subject: subject,
		Text: "plain " + subject, HTML: "<p>" + subject + "</p>", Link: "https://app.test/verify-email?token=t", Due: due}
}

func subjects(ms []authdash.Mail) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Subject
	}
	return out
}

func testOutboxClaimOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	now := authdash.Millis(time.Now())
	expires := now.Add(30 * time.Minute)
	want := mailAt("second", now.Add(-time.Second))
	want.Expires = expires
	secondID := mustMail(t, s, want)
	mustMail(t, s, mailAt("first", now.Add(-2*time.Second)))
	mustMail(t, s, mailAt("later", now.Add(time.Minute)))

	got, err := s.ClaimMail(ctx, now, time.Minute, 10)
	mustOK(t, err)
	if fmt.Sprint(subjects(got)) != "[first second]" {
		t.Fatalf("claimed %v, want [first second] (due ones, earliest first)", subjects(got))
	}
	m := got[1]
	want.ID, want.Attempts, want.Due = secondID, 1, now.Add(time.Minute)
	if fmt.Sprintf("%+v", m) != fmt.Sprintf("%+v", want) {
		t.Errorf("claimed\n %+v\nwant\n %+v", m, want)
	}
	if !got[0].Expires.IsZero() {
		t.Errorf("no expiry came back as %v", got[0].Expires)
	}
	again, err := s.ClaimMail(ctx, now, time.Minute, 10)
	mustOK(t, err)
	if len(again) != 0 {
		t.Errorf("claimed again while leased: %v", subjects(again))
	}
}

func testOutboxClaimLimit(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	now := authdash.Millis(time.Now())
	for i := range 5 {
		mustMail(t, s, mailAt(fmt.Sprint(i), now.Add(time.Duration(i-10)*time.Second)))
	}
	got, err := s.ClaimMail(ctx, now, time.Minute, 2)
	mustOK(t, err)
	if fmt.Sprint(subjects(got)) != "[0 1]" {
		t.Fatalf("claimed %v, want [0 1]", subjects(got))
	}
	got, err = s.ClaimMail(ctx, now, time.Minute, 10)
	mustOK(t, err)
	if fmt.Sprint(subjects(got)) != "[2 3 4]" {
		t.Fatalf("then claimed %v, want [2 3 4]", subjects(got))
	}
}

// A worker that dies while sending leaves its claim to run out; the message is then
// claimed again, its attempts counted.
func testOutboxLeaseRunsOut(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	now := authdash.Millis(time.Now())
	id := mustMail(t, s, mailAt("m", now))
	_, err := s.ClaimMail(ctx, now, time.Minute, 1)
	mustOK(t, err)
	got, err := s.ClaimMail(ctx, now.Add(time.Minute-time.Millisecond), time.Minute, 1)
	mustOK(t, err)
	if len(got) != 0 {
		t.Fatal("claimed before the lease ran out")
	}
	got, err = s.ClaimMail(ctx, now.Add(time.Minute), time.Minute, 1)
	mustOK(t, err)
	if len(got) != 1 || got[0].ID != id || got[0].Attempts != 2 {
		t.Fatalf("after the lease: %+v, want %s at attempt 2", got, id)
	}
}

func testOutboxRetryOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	now := authdash.Millis(time.Now())
	id := mustMail(t, s, mailAt("m", now))
	_, err := s.ClaimMail(ctx, now, time.Minute, 1)
	mustOK(t, err)
	next := now.Add(10 * time.Second)
	mustOK(t, s.RetryMail(ctx, id, next, "451 try later"))
	got, err := s.ClaimMail(ctx, next.Add(-time.Millisecond), time.Minute, 1)
	mustOK(t, err)
	if len(got) != 0 {
		t.Fatal("claimed before its retry time")
	}
	got, err = s.ClaimMail(ctx, next, time.Minute, 1)
	mustOK(t, err)
	if len(got) != 1 || got[0].Attempts != 2 || got[0].LastError != "451 try later" {
		t.Fatalf("retried: %+v", got)
	}
}

func testOutboxDeleteOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	now := authdash.Millis(time.Now())
	id := mustMail(t, s, mailAt("m", now))
	other := mustMail(t, s, mailAt("other", now))
	mustOK(t, s.DeleteMail(ctx, id))
	got, err := s.ClaimMail(ctx, now, time.Minute, 10)
	mustOK(t, err)
	if len(got) != 1 || got[0].ID != other {
		t.Fatalf("after delete: %v", subjects(got))
	}
	wantCode(t, s.DeleteMail(ctx, id), authdash.CodeNotFound)
	wantCode(t, s.RetryMail(ctx, id, now, "x"), authdash.CodeNotFound)
}

func testOutboxErrNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	for _, id := range []authdash.MailID{"", "nope", "0123456789abcdef01234567"} {
		wantCode(t, s.DeleteMail(ctx, id), authdash.CodeNotFound)
		wantCode(t, s.RetryMail(ctx, id, time.Now(), "x"), authdash.CodeNotFound)
	}
}

// Workers on several instances claim at once: each message goes to exactly one.
func testOutboxConcurrentClaimsDisjoint(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	now := authdash.Millis(time.Now())
	const total, workers = 24, 6
	for i := range total {
		mustMail(t, s, mailAt(fmt.Sprint(i), now.Add(-time.Second)))
	}
	var mu sync.Mutex
	seen := map[authdash.MailID]int{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				got, err := s.ClaimMail(ctx, now, time.Minute, 3)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != total {
		t.Errorf("%d messages claimed, want %d", len(seen), total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}

func testOutboxErrCancelledContext(t *testing.T, open Opener) {
	s := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.EnqueueMail(ctx, mailAt("m", time.Now()))
	wantCode(t, err, authdash.CodeUnavailable)
	_, err = s.ClaimMail(ctx, time.Now(), time.Minute, 1)
	wantCode(t, err, authdash.CodeUnavailable)
}
