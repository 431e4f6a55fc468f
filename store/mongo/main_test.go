package mongo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authdash/authdash"
	mongostore "github.com/authdash/authdash/store/mongo"
)

// ferretURI is the embedded FerretDB every test in the binary shares,
// reached through serialProxy; TestMain starts and stops it.
var ferretURI string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "authdash-ferretdb-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)

	addr, err := freeAddr()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = f.Run(ctx)
	}()
	defer func() {
		cancel()
		<-stopped
	}()

	proxy, err := newSerialProxy("127.0.0.1:0", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer proxy.Close()
	ferretURI = "mongodb://" + proxy.Addr() + "/"
	return m.Run()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// servers lists where the suite runs: always the embedded FerretDB, and a
// real MongoDB too when MONGO_TEST_URI names one.
func servers() []struct{ name, uri string } {
	s := []struct{ name, uri string }{{"FerretDB", ferretURI}}
	if uri := os.Getenv("MONGO_TEST_URI"); uri != "" {
		s = append(s, struct{ name, uri string }{"MongoDB", uri})
	}
	return s
}

var dbSeq atomic.Int64

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// dbName is a database name unique to one test, readable in a server's
// listing and within MongoDB's 63-byte limit.
func dbName(t testing.TB) string {
	name := unsafeName.ReplaceAllString(t.Name(), "_")
	name = fmt.Sprintf("t%d_%s", dbSeq.Add(1), name)
	return name[:min(len(name), 60)]
}

// openDB opens a store on a fresh database of the server at uri and drops
// the database when the test ends.
func openDB(t testing.TB, uri string, o mongostore.Options) *mongostore.DB {
	t.Helper()
	o.Database = dbName(t)
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := mongostore.Open(ctx, uri, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		dropDatabase(t, uri, o.Database)
		if err := db.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// dropDatabase removes a test's database through a client of its own, so
// the store under test needs no test-only API.
func dropDatabase(t testing.TB, uri, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := driver.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Errorf("connect to drop %s: %v", name, err)
		return
	}
	defer c.Disconnect(ctx)
	if err := c.Database(name).Drop(ctx); err != nil {
		t.Errorf("drop %s: %v", name, err)
	}
}

// opener returns the storetest factory for a server.
func opener(uri string) func(t *testing.T) authdash.Store {
	return func(t *testing.T) authdash.Store { return openDB(t, uri, mongostore.Options{}) }
}
