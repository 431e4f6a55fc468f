package mongo_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// serialProxy sits between the tests and the embedded FerretDB and gives
// FerretDB the one MongoDB guarantee the store relies on and FerretDB 1.x
// lacks: single-document atomicity of writes. FerretDB runs update,
// findAndModify and delete as "query, change in Go, write back by _id" with
// no isolation between concurrent commands, so two findOneAndUpdate calls
// with the same {_id, version} filter can both succeed and two $inc can
// return the same number (measured: 2 of 20 racing CAS writers won, and 40
// racing $inc returned duplicates). MongoDB executes each of these commands
// atomically on its document.
//
// The proxy forwards the wire protocol unchanged, holding one lock from
// sending a write command until its reply arrives, so FerretDB executes
// writes one at a time. Reads pass straight through. The store's code and
// round trips are exactly what they are against MongoDB; only the server
// behind is made to keep MongoDB's promise. Against a real MongoDB
// (MONGO_TEST_URI) there is no proxy.
type serialProxy struct {
	ln     net.Listener
	target string
	writes sync.Mutex // held while FerretDB runs one write command

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newSerialProxy(listen, target string) (*serialProxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	p := &serialProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.serve)
	return p, nil
}

// Addr is the address clients dial.
func (p *serialProxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting, cuts every connection and waits for the
// forwarding goroutines to end.
func (p *serialProxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil // refuse connections accepted from now on
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *serialProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *serialProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *serialProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.handle(c) })
	}
}

func (p *serialProxy) handle(client net.Conn) {
	if !p.track(client) {
		client.Close()
		return
	}
	defer p.untrack(client)
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(server) {
		server.Close()
		return
	}
	defer p.untrack(server)
	for {
		req, err := readMessage(client)
		if err != nil {
			return
		}
		if err := p.exchange(client, server, req); err != nil {
			return
		}
	}
}

// exchange forwards one request and the replies it expects.
func (p *serialProxy) exchange(client, server net.Conn, req []byte) error {
	if isWrite(req) {
		p.writes.Lock()
		defer p.writes.Unlock()
	}
	if _, err := server.Write(req); err != nil {
		return err
	}
	if moreToCome(req) {
		return nil // the client expects no reply
	}
	for {
		reply, err := readMessage(server)
		if err != nil {
			return err
		}
		if _, err := client.Write(reply); err != nil {
			return err
		}
		if !moreToCome(reply) {
			return nil
		}
	}
}

const (
	opMsg         = 2013
	headerLen     = 16
	flagMoreToCom = 1 << 1
)

// readMessage reads one length-prefixed wire message.
func readMessage(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(hdr[:]))
	if n < headerLen || n > 48<<20 {
		return nil, fmt.Errorf("wire message of %d bytes", n)
	}
	msg := make([]byte, n)
	copy(msg, hdr[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}

func moreToCome(msg []byte) bool {
	return binary.LittleEndian.Uint32(msg[12:]) == opMsg && len(msg) >= headerLen+4 &&
		binary.LittleEndian.Uint32(msg[headerLen:])&flagMoreToCom != 0
}

// isWrite reports whether msg is an OP_MSG whose command (the first key of
// its body section) changes documents.
func isWrite(msg []byte) bool {
	name, err := commandName(msg)
	if err != nil {
		return false
	}
	switch name {
	case "insert", "update", "delete", "findAndModify":
		return true
	}
	return false
}

func commandName(msg []byte) (string, error) {
	if binary.LittleEndian.Uint32(msg[12:]) != opMsg {
		return "", errors.New("not OP_MSG")
	}
	b := msg[headerLen+4:] // after flagBits
	for len(b) > 0 {
		kind := b[0]
		b = b[1:]
		if len(b) < 4 {
			return "", errors.New("short section")
		}
		size := int(binary.LittleEndian.Uint32(b))
		if size < 5 || size > len(b) {
			return "", errors.New("bad section size")
		}
		if kind == 0 {
			// Body: a BSON document; its first element is the command.
			doc := b[:size]
			if len(doc) < 6 {
				return "", errors.New("empty body")
			}
			name := doc[5:] // after the length and the element type byte
			for i, c := range name {
				if c == 0 {
					return string(name[:i]), nil
				}
			}
			return "", errors.New("unterminated name")
		}
		b = b[size:] // kind 1: a document sequence, size-prefixed
	}
	return "", errors.New("no body section")
}
