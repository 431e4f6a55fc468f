package mongo

// SetLastStamp moves db's change-stamp clock, as a clock running ahead
// would: the tests use it to make two instances' stamps meet or cross.
func SetLastStamp(db *DB, v int64) { db.stamps.last.Store(v) }
