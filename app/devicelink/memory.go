package devicelink

import (
	"context"
	"sync"
)

// MemoryLock is a Lock within one process: the tests' and, outside the
// browser, the app's (where there is one tab).
type MemoryLock struct {
	once sync.Once
	ch   chan struct{}
}

func (m *MemoryLock) init() { m.once.Do(func() { m.ch = make(chan struct{}, 1) }) }

// Acquire implements Lock.
func (m *MemoryLock) Acquire(ctx context.Context) (func(), error) {
	m.init()
	select {
	case m.ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-m.ch }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// MemoryBus is a Channel's medium within one process: what one member
// posts, every other member receives, in order.
type MemoryBus struct {
	mu      sync.Mutex
	members map[*memoryChannel]bool
}

type memoryChannel struct {
	bus     *MemoryBus
	receive func([]byte)
}

// Join returns a member's channel; received messages go to receive.
func (b *MemoryBus) Join(receive func([]byte)) Channel {
	c := &memoryChannel{bus: b, receive: receive}
	b.mu.Lock()
	if b.members == nil {
		b.members = map[*memoryChannel]bool{}
	}
	b.members[c] = true
	b.mu.Unlock()
	return c
}

func (c *memoryChannel) Post(msg []byte) {
	c.bus.mu.Lock()
	defer c.bus.mu.Unlock()
	if !c.bus.members[c] {
		return
	}
	for m := range c.bus.members {
		if m != c {
			m.receive(append([]byte(nil), msg...))
		}
	}
}

func (c *memoryChannel) Close() {
	c.bus.mu.Lock()
	delete(c.bus.members, c)
	c.bus.mu.Unlock()
}
