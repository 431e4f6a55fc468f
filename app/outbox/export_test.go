package outbox

// MaxCreated is maxCreated, for the tests.
const MaxCreated = maxCreated
