//go:build js

package devicelink

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"syscall/js"
	"time"
)

// Browser returns the profile's lock and channel for name: the Web Locks
// API where there is one, else a lease in local storage; and a
// BroadcastChannel. ok is false without BroadcastChannel: each tab then
// keeps a socket of its own.
func Browser(name string) (lock Lock, join func(receive func([]byte)) Channel, ok bool) {
	g := js.Global()
	if g.Get("BroadcastChannel").IsUndefined() {
		return nil, nil, false
	}
	join = func(receive func([]byte)) Channel { return newBroadcast(name, receive) }
	if locks := g.Get("navigator").Get("locks"); !locks.IsUndefined() && !locks.IsNull() {
		return webLock{locks: locks, name: name}, join, true
	}
	if ls := g.Get("localStorage"); !ls.IsUndefined() && !ls.IsNull() {
		return &lease{ls: ls, key: "authdash-lease:" + name, me: strconv.FormatUint(rand.Uint64(), 36)}, join, true
	}
	return nil, nil, false
}

// webLock is navigator.locks.request(name, {signal}, cb): the lock is held
// until the promise cb returns settles, and the browser lets go of it
// when the tab closes, crashes or is discarded.
type webLock struct {
	locks js.Value
	name  string
}

func (w webLock) Acquire(ctx context.Context) (func(), error) {
	granted := make(chan struct{})
	failed := make(chan error, 1)
	var resolve js.Value
	var keep, onGrant js.Func
	onGrant = js.FuncOf(func(js.Value, []js.Value) any {
		keep = js.FuncOf(func(_ js.Value, a []js.Value) any {
			resolve = a[0]
			close(granted)
			return nil
		})
		return js.Global().Get("Promise").New(keep)
	})
	abort := js.Global().Get("AbortController").New()
	opts := js.Global().Get("Object").New()
	opts.Set("signal", abort.Get("signal"))
	onFail := js.FuncOf(func(_ js.Value, a []js.Value) any {
		msg := "lock refused"
		if len(a) > 0 {
			msg = a[0].Call("toString").String()
		}
		failed <- errors.New(msg)
		return nil
	})
	w.locks.Call("request", w.name, opts, onGrant).Call("catch", onFail)
	release := func() {
		resolve.Invoke()
		onGrant.Release()
		keep.Release()
		onFail.Release()
	}
	select {
	case <-granted:
		var once sync.Once
		return func() { once.Do(release) }, nil
	case err := <-failed:
		return nil, err
	case <-ctx.Done():
		// JavaScript runs on this thread: the grant has not come, and
		// after the abort it will not.
		abort.Call("abort")
		select {
		case <-granted:
			release()
		default:
		}
		return nil, ctx.Err()
	}
}

// Lease timing: the holder renews every leaseBeat; a lease not renewed
// for leaseTTL is free. Hidden tabs' timers run at most once a second, so
// the TTL leaves room for that.
const (
	leaseBeat = 500 * time.Millisecond
	leaseTTL  = 3 * time.Second
)

// lease is the fallback without Web Locks: the holder's id and expiry in
// local storage, renewed while held. Two tabs can both believe they hold
// it for a moment (local storage has no compare-and-set); both then open
// a socket, and the repeats are dropped by sequence number.
type lease struct {
	ls  js.Value
	key string
	me  string
}

type leaseValue struct {
	ID    string `json:"id"`
	Until int64  `json:"until"` // Unix milliseconds
}

func (l *lease) read() leaseValue {
	var v leaseValue
	if s := l.ls.Call("getItem", l.key); s.Type() == js.TypeString {
		_ = json.Unmarshal([]byte(s.String()), &v)
	}
	return v
}

func (l *lease) write() {
	b, _ := json.Marshal(leaseValue{ID: l.me, Until: time.Now().Add(leaseTTL).UnixMilli()})
	l.ls.Call("setItem", l.key, string(b))
}

func (l *lease) Acquire(ctx context.Context) (func(), error) {
	for {
		if v := l.read(); v.ID == "" || v.ID == l.me || v.Until < time.Now().UnixMilli() {
			l.write()
			// Another tab may have written at the same moment: the
			// last write wins, and each checks after a while.
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
			if l.read().ID == l.me {
				return l.hold(), nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(leaseBeat):
		}
	}
}

// hold renews the lease until released, and gives it up when the page
// goes.
func (l *lease) hold() func() {
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(leaseBeat)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				l.write()
			}
		}
	}()
	giveUp := func() {
		if l.read().ID == l.me {
			l.ls.Call("removeItem", l.key)
		}
	}
	onHide := js.FuncOf(func(js.Value, []js.Value) any { giveUp(); return nil })
	js.Global().Call("addEventListener", "pagehide", onHide)
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			js.Global().Call("removeEventListener", "pagehide", onHide)
			onHide.Release()
			giveUp()
		})
	}
}

// broadcast is a BroadcastChannel carrying the messages as strings.
type broadcast struct {
	mu     sync.Mutex
	bc     js.Value
	fn     js.Func
	closed bool
}

func newBroadcast(name string, receive func([]byte)) *broadcast {
	b := &broadcast{bc: js.Global().Get("BroadcastChannel").New(name)}
	b.fn = js.FuncOf(func(_ js.Value, a []js.Value) any {
		if d := a[0].Get("data"); d.Type() == js.TypeString {
			receive([]byte(d.String()))
		}
		return nil
	})
	b.bc.Set("onmessage", b.fn)
	return b
}

func (b *broadcast) Post(msg []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.bc.Call("postMessage", string(msg))
	}
}

func (b *broadcast) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		b.bc.Call("close")
		b.fn.Release()
	}
}
