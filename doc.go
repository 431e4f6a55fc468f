// Package authdash is the domain of the Scalable Auth Dashboard: users, tasks,
// the events their changes produce, the error kinds every layer speaks, and the
// interfaces the storage adapters implement.
//
// It depends on the standard library only, because the WebAssembly client
// imports it too. Adapters live in subpackages named for what they wrap
// (store/sqlite, store/mongo, realtime/redis, server) and point inwards to here;
// cmd/authdash wires them together.
package authdash
