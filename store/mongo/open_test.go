package mongo_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
	mongostore "github.com/authdash/authdash/store/mongo"
)

// notify is a slog.Handler that signals each record whose message
// contains a phrase, so a test can act on "now it is waiting".
type notify struct {
	phrase string
	c      chan string
}

func (n notify) Enabled(context.Context, slog.Level) bool { return true }
func (n notify) WithAttrs([]slog.Attr) slog.Handler       { return n }
func (n notify) WithGroup(string) slog.Handler            { return n }
func (n notify) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, n.phrase) {
		select {
		case n.c <- r.Message:
		default:
		}
	}
	return nil
}

// TestOpenWaitsForServer starts the wait with nothing listening, brings the
// server up once the store says it is waiting, and expects a working store.
func TestOpenWaitsForServer(t *testing.T) {
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan string, 1)
	o := mongostore.Options{
		Database:               dbName(t),
		ServerSelectionTimeout: 100 * time.Millisecond,
		Log:                    slog.New(notify{"waiting for MongoDB", waiting}),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type result struct {
		db  *mongostore.DB
		err error
	}
	done := make(chan result, 1)
	go func() {
		db, err := mongostore.OpenWait(ctx, "mongodb://"+addr+"/", o)
		done <- result{db, err}
	}()
	select {
	case <-waiting:
	case r := <-done:
		t.Fatalf("OpenWait returned before a server existed: %v", r.err)
	}
	// The server appears at the address the store is dialling.
	up, err := newSerialProxy(addr, strings.TrimSuffix(strings.TrimPrefix(ferretURI, "mongodb://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	r := <-done
	if r.err != nil {
		t.Fatalf("OpenWait: %v", r.err)
	}
	defer dropDatabase(t, ferretURI, o.Database)
	defer r.db.Close(context.Background())
	if _, err := r.db.CreateUser(ctx, authdash.NewUser{Email: "ann@example.com", Name: "Ann", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenWaitStops(t *testing.T) {
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("WhenContextEnds", func(t *testing.T) {
		waiting := make(chan string, 1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := mongostore.OpenWait(ctx, "mongodb://"+addr+"/", mongostore.Options{
				ServerSelectionTimeout: 50 * time.Millisecond,
				Log:                    slog.New(notify{"waiting for MongoDB", waiting}),
			})
			done <- err
		}()
		<-waiting
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) && authdash.ErrorCodeOf(err) != authdash.CodeUnavailable {
			t.Errorf("OpenWait after cancel = %v", err)
		}
	})
	t.Run("OnBadURI", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := mongostore.OpenWait(ctx, "mongodb://user:s3cret@localhost:99999/?w=x&retryWrites=maybe", mongostore.Options{})
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("OpenWait(bad URI) = %v; want an error that does not quote the password", err)
		}
	})
}
