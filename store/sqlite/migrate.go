package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/authdash/authdash/internal/emailkey"
)

// migrations are applied in order, each once; PRAGMA user_version records
// how many have run. Append new ones; never edit one that has shipped.
var migrations = []string{
	// 1: the initial schema. Every index starts with the owner, because
	// every query names one.
	`
CREATE TABLE users (
	id            TEXT    NOT NULL PRIMARY KEY,
	email         TEXT    NOT NULL UNIQUE,
	name          TEXT    NOT NULL,
	password_hash TEXT    NOT NULL,
	created_ms    INTEGER NOT NULL,
	updated_ms    INTEGER NOT NULL,
	version       INTEGER NOT NULL,
	seq           INTEGER NOT NULL DEFAULT 0, -- the owner's last change number
	log_floor     INTEGER NOT NULL DEFAULT 0  -- changes at or below it may be purged
) STRICT;

CREATE TABLE sessions (
	id           TEXT    NOT NULL PRIMARY KEY,
	user_id      TEXT    NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	device       TEXT    NOT NULL,
	created_ms   INTEGER NOT NULL,
	last_used_ms INTEGER NOT NULL,
	expires_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user    ON sessions(user_id, last_used_ms, id);
CREATE INDEX sessions_expires ON sessions(expires_ms);

CREATE TABLE refresh_tokens (
	hash       BLOB    NOT NULL PRIMARY KEY,
	session_id TEXT    NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	used_ms    INTEGER,
	created_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);

CREATE TABLE tasks (
	rid           INTEGER PRIMARY KEY, -- stable rowid, for the search index
	id            TEXT    NOT NULL UNIQUE,
	owner_id      TEXT    NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	owner_key     TEXT    NOT NULL, -- ownerKey(owner_id), for the search index
	title         TEXT    NOT NULL,
	description   TEXT    NOT NULL,
	status        TEXT    NOT NULL,
	priority      TEXT    NOT NULL,
	priority_rank INTEGER NOT NULL,
	due_ms        INTEGER,
	due_sort      INTEGER NOT NULL, -- authdash.DueKey: undated sorts last
	title_key     TEXT    NOT NULL, -- authdash.TitleKey, also searched
	desc_key      TEXT    NOT NULL, -- description lower-cased in Go, searched
	tags          TEXT    NOT NULL, -- JSON array as written, so a page needs no join
	created_ms    INTEGER NOT NULL,
	updated_ms    INTEGER NOT NULL,
	version       INTEGER NOT NULL,
	seq           INTEGER NOT NULL  -- the owner's change number of the last change
) STRICT;
CREATE INDEX tasks_created  ON tasks(owner_id, created_ms, id);
CREATE INDEX tasks_updated  ON tasks(owner_id, updated_ms, id);
CREATE INDEX tasks_due      ON tasks(owner_id, due_sort, id);
CREATE INDEX tasks_priority ON tasks(owner_id, priority_rank, id);
CREATE INDEX tasks_title    ON tasks(owner_id, title_key, id);
CREATE INDEX tasks_seq      ON tasks(owner_id, seq);
CREATE INDEX tasks_status   ON tasks(owner_id, status);

CREATE TABLE task_tags (
	task_id  TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
	owner_id TEXT NOT NULL,
	tag_key  TEXT NOT NULL, -- lower-cased in Go
	PRIMARY KEY (task_id, tag_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX task_tags_owner ON task_tags(owner_id, tag_key, task_id);

CREATE TABLE tombstones (
	task_id    TEXT    NOT NULL PRIMARY KEY,
	owner_id   TEXT    NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	version    INTEGER NOT NULL,
	deleted_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX tombstones_seq     ON tombstones(owner_id, seq);
CREATE INDEX tombstones_deleted ON tombstones(deleted_ms);
`,
	// 2: a trigram index over the lower-cased title and description, for
	// searches whose term is rare among the owner's tasks, with the owner's
	// key (one trigram) so a query can narrow to one owner inside the index.
	// Triggers keep it in step with the tasks in the same transaction.
	`
CREATE VIRTUAL TABLE tasks_fts USING fts5(
	owner_key, title_key, desc_key,
	content = 'tasks', content_rowid = 'rid',
	tokenize = 'trigram case_sensitive 1' -- the text is lower-cased in Go
);
INSERT INTO tasks_fts (tasks_fts) VALUES ('rebuild');
CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
	INSERT INTO tasks_fts (rowid, owner_key, title_key, desc_key)
	VALUES (new.rid, new.owner_key, new.title_key, new.desc_key);
END;
CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
	INSERT INTO tasks_fts (tasks_fts, rowid, owner_key, title_key, desc_key)
	VALUES ('delete', old.rid, old.owner_key, old.title_key, old.desc_key);
END;
CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title_key, desc_key ON tasks
WHEN old.title_key IS NOT new.title_key OR old.desc_key IS NOT new.desc_key BEGIN
	INSERT INTO tasks_fts (tasks_fts, rowid, owner_key, title_key, desc_key)
	VALUES ('delete', old.rid, old.owner_key, old.title_key, old.desc_key);
	INSERT INTO tasks_fts (rowid, owner_key, title_key, desc_key)
	VALUES (new.rid, new.owner_key, new.title_key, new.desc_key);
END;
`,
	// 3: the trigram index becomes per owner (see grams.go): migration 2's
	// index kept one posting list per trigram for all users, so a term
	// whose trigrams are common anywhere cost every user's matches. The
	// triggers only note which tasks changed; the writer indexes them just
	// before each commit (indexDirty), because FTS5 writes its pending
	// changes out as a new segment at the start of every later statement
	// of the transaction, which with group commit meant a segment per
	// write rather than per transaction.
	`
DROP TRIGGER tasks_fts_insert;
DROP TRIGGER tasks_fts_delete;
DROP TRIGGER tasks_fts_update;
DROP TABLE tasks_fts;
ALTER TABLE tasks DROP COLUMN owner_key;
CREATE VIRTUAL TABLE task_grams USING fts5(
	grams,
	content = '', contentless_delete = 1, detail = none,
	tokenize = 'ascii' -- the tokens are hex digits, made in Go
);
INSERT INTO task_grams (rowid, grams)
SELECT rid, ` + gramsFunc + `(owner_id, title_key, desc_key) FROM tasks;
-- indexed: whether the index holds the task as it was before the
-- transaction. The first note of a task in a transaction is the one kept.
CREATE TABLE task_grams_dirty (
	rid     INTEGER NOT NULL PRIMARY KEY,
	indexed INTEGER NOT NULL
) STRICT;
CREATE TRIGGER task_grams_insert AFTER INSERT ON tasks BEGIN
	INSERT OR IGNORE INTO task_grams_dirty (rid, indexed) VALUES (new.rid, 0);
END;
CREATE TRIGGER task_grams_delete AFTER DELETE ON tasks BEGIN
	INSERT OR IGNORE INTO task_grams_dirty (rid, indexed) VALUES (old.rid, 1);
END;
CREATE TRIGGER task_grams_update AFTER UPDATE OF title_key, desc_key ON tasks
WHEN old.title_key IS NOT new.title_key OR old.desc_key IS NOT new.desc_key BEGIN
	INSERT OR IGNORE INTO task_grams_dirty (rid, indexed) VALUES (new.rid, 1);
END;
`,
	// 4: undo and retries. A tombstone keeps the deleted task (JSON) for
	// RestoreTask until PurgeDeletedContent clears it; tombstones made
	// before this migration have none and cannot be restored. A create's
	// Idempotency-Key is kept with the answer it got, written in the same
	// transaction as the task.
	`
ALTER TABLE tombstones ADD COLUMN task TEXT;
CREATE INDEX tombstones_restorable ON tombstones(deleted_ms) WHERE task IS NOT NULL;
CREATE TABLE idempotency_keys (
	owner_id    TEXT    NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	key         TEXT    NOT NULL,
	fingerprint TEXT    NOT NULL,
	task        TEXT    NOT NULL, -- the task as created (JSON): the first answer
	created_ms  INTEGER NOT NULL,
	PRIMARY KEY (owner_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_ms);
`,
	// 5: the mail outbox (outbox.go). due_ms is when a message may next be
	// claimed: a claim moves it to the end of its lease, a failure to the
	// retry time, so one index serves every claim.
	`
CREATE TABLE mail_outbox (
	id         TEXT    NOT NULL PRIMARY KEY,
	kind       TEXT    NOT NULL,
	to_addr    TEXT    NOT NULL,
	subject    TEXT    NOT NULL,
	text       TEXT    NOT NULL,
	html       TEXT    NOT NULL,
	link       TEXT    NOT NULL,
	due_ms     INTEGER NOT NULL,
	expires_ms INTEGER NOT NULL, -- 0: never
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX mail_outbox_due ON mail_outbox(due_ms, id);
`,
	// 6: verified addresses and the tokens of mailed links (tokens.go). A
	// token is its hash only; used ones stay until they expire, so using one
	// twice says so.
	`
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
CREATE TABLE account_tokens (
	hash       BLOB    NOT NULL PRIMARY KEY,
	purpose    TEXT    NOT NULL,
	user_id    TEXT    NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	email      TEXT    NOT NULL,
	new_email  TEXT    NOT NULL,
	created_ms INTEGER NOT NULL,
	expires_ms INTEGER NOT NULL,
	used_ms    INTEGER NOT NULL DEFAULT 0 -- 0: unused
) STRICT, WITHOUT ROWID;
CREATE INDEX account_tokens_user    ON account_tokens(user_id, purpose);
CREATE INDEX account_tokens_expires ON account_tokens(expires_ms);
`,
	// 7: a table only Ping writes to (and empties again) while the store
	// cannot write, to learn when it can again (writeprobe.go).
	`
CREATE TABLE write_probe (
	id  INTEGER PRIMARY KEY,
	pad BLOB NOT NULL
) STRICT;
`,
	// 8: ended sessions, kept while their access tokens live, so they
	// outlive a restart and reach every process on the file
	// (revocations.go). No foreign key: a deleted account's revocation is
	// what stops its tokens.
	`
CREATE TABLE revocations (
	id          INTEGER PRIMARY KEY,
	user_id     TEXT    NOT NULL,
	session_id  TEXT    NOT NULL,
	keep_id     TEXT    NOT NULL,
	at_ms       INTEGER NOT NULL,
	until_ms    INTEGER NOT NULL,
	recorded_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX revocations_recorded ON revocations(recorded_ms);
CREATE INDEX revocations_until    ON revocations(until_ms);
`,
	// 9: the second factor and the sign-in activity (mfa.go).
	// A recovery code is its hash only and is deleted when used; a sign-in
	// event goes with its account.
	`
CREATE TABLE totp (
	user_id    TEXT    NOT NULL PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	secret     TEXT    NOT NULL, -- sealed by the auth service
	confirmed  INTEGER NOT NULL DEFAULT 0,
	last_step  INTEGER NOT NULL DEFAULT 0, -- the last time step a code was accepted for
	created_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE recovery_codes (
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	hash    BLOB NOT NULL,
	PRIMARY KEY (user_id, hash)
) STRICT, WITHOUT ROWID;
CREATE TABLE sign_ins (
	id         INTEGER PRIMARY KEY,
	user_id    TEXT    NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	at_ms      INTEGER NOT NULL,
	ip         TEXT    NOT NULL,
	device     TEXT    NOT NULL,
	method     TEXT    NOT NULL,
	outcome    TEXT    NOT NULL,
	reason     TEXT    NOT NULL,
	device_key TEXT    NOT NULL
) STRICT;
CREATE INDEX sign_ins_user    ON sign_ins(user_id, at_ms);
CREATE INDEX sign_ins_devices ON sign_ins(user_id, device_key) WHERE outcome = 'success';
CREATE INDEX sign_ins_at      ON sign_ins(at_ms);
`,
	// 10: accounts are looked up, and kept unique, by the key of their
	// address (internal/emailkey: NFKC and case folding), which keyEmails
	// computes for the accounts already there; a new one gets it from
	// CreateUser. The column stays NULL-able (ALTER TABLE cannot add a NOT
	// NULL column without a default); every write sets it.
	`
ALTER TABLE users ADD COLUMN email_key TEXT;
`,
	// 11: a task's rid follows its creation time (ridBase in grams.go), so
	// the search index's posting lists, kept in rid order, are in the
	// default page order too and a search walks them newest first rather
	// than the owner's tasks (find.go, walkGrams). Every rid is moved out
	// of the way first, so that no new rid meets an old one, then given
	// its place (the rids before were SQLite's own, positive); the index
	// is rebuilt under the new rids.
	`
CREATE TEMP TABLE task_rids (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
INSERT INTO temp.task_rids (old, new)
	SELECT rid, min(max(created_ms, 0), 8796093022207) * 1048576
		+ row_number() OVER (PARTITION BY min(max(created_ms, 0), 8796093022207) ORDER BY rid) - 1
	FROM tasks;
UPDATE tasks SET rid = -rid - 1;
UPDATE tasks SET rid = (SELECT new FROM temp.task_rids WHERE old = -tasks.rid - 1);
DROP TABLE temp.task_rids;
INSERT INTO task_grams (task_grams) VALUES ('delete-all');
INSERT INTO task_grams (rowid, grams)
SELECT rid, ` + gramsFunc + `(owner_id, title_key, desc_key) FROM tasks;
`,
	// 12: passkeys and their ceremonies' challenges (passkey.go). A
	// challenge of a sign-in that lets the authenticator name the account
	// has no user (''), so it has no foreign key; a deleted account's are
	// deleted with it and the rest expire. IF NOT EXISTS: a test that
	// takes a database back to an older version runs this again.
	`
CREATE TABLE IF NOT EXISTS passkeys (
	id              BLOB    NOT NULL PRIMARY KEY,
	user_id         TEXT    NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name            TEXT    NOT NULL,
	credential      BLOB    NOT NULL,
	sign_count      INTEGER NOT NULL,
	backup_eligible INTEGER NOT NULL,
	backup_state    INTEGER NOT NULL,
	created_ms      INTEGER NOT NULL,
	last_used_ms    INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys(user_id, created_ms);
CREATE TABLE IF NOT EXISTS passkey_challenges (
	hash       BLOB    NOT NULL PRIMARY KEY,
	purpose    TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	session    BLOB    NOT NULL,
	created_ms INTEGER NOT NULL,
	expires_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS passkey_challenges_expires ON passkey_challenges(expires_ms);
CREATE INDEX IF NOT EXISTS passkey_challenges_user    ON passkey_challenges(user_id);
`,
	// 13: copies of the search index whose rowids follow the orders by
	// updated, due and priority, as rid follows creation (sorted.go): a
	// task's rowid in each is kept in its row (urid, drid, prid, added by
	// sortColumns). They are filled by the builder in the background, so
	// this costs nothing at start-up; the triggers note which tasks to
	// place or move, with the rowids they had before the transaction, and
	// the writer does so just before every commit (indexSorts). IF NOT
	// EXISTS: a test that takes a database back to an older version runs
	// this again.
	`
CREATE VIRTUAL TABLE IF NOT EXISTS task_grams_updated USING fts5(
	grams, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
CREATE VIRTUAL TABLE IF NOT EXISTS task_grams_due USING fts5(
	grams, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
CREATE VIRTUAL TABLE IF NOT EXISTS task_grams_priority USING fts5(
	grams, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
CREATE TABLE IF NOT EXISTS task_sorts_dirty (
	rid  INTEGER NOT NULL PRIMARY KEY,
	urid INTEGER,
	drid INTEGER,
	prid INTEGER
) STRICT;
`,
	// 14: accounts' links to identity providers (identity.go): a
	// provider's subject belongs to one account at most.
	`
CREATE TABLE IF NOT EXISTS identities (
	id           TEXT    NOT NULL PRIMARY KEY,
	user_id      TEXT    NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	provider     TEXT    NOT NULL,
	subject      TEXT    NOT NULL,
	email        TEXT    NOT NULL,
	created_ms   INTEGER NOT NULL,
	last_used_ms INTEGER NOT NULL DEFAULT 0,
	UNIQUE (provider, subject)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS identities_user ON identities(user_id, created_ms);
`,
	// 15: the due and priority copies of the search index emptied, to be
	// placed again by the builder in the background: their buckets now
	// split the tasks of one second 256 ways (sortBucket), and a task's
	// place under the old buckets is not its place under the new. Until
	// the builder is done, searches in those orders go without the copies,
	// as they did before 13. No trigger watches drid or prid.
	`
INSERT INTO task_grams_due (task_grams_due) VALUES ('delete-all');
INSERT INTO task_grams_priority (task_grams_priority) VALUES ('delete-all');
UPDATE tasks SET drid = NULL, prid = NULL WHERE drid IS NOT NULL OR prid IS NOT NULL;
`,
	// 16: task_grams holds each task's long grams beside its trigrams
	// (grams.go). A task indexed before has none, so the builder indexes
	// again, in the background, the tasks there are now (rids first_rid to
	// last_rid, next_rid being the next to do); a task written later is
	// indexed whole by indexDirty. Searches use long grams only once the
	// row is gone (longReady). Nothing at start-up, whatever the size.
	`
CREATE TABLE IF NOT EXISTS long_grams_build (
	id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	next_rid INTEGER NOT NULL,
	last_rid INTEGER NOT NULL
) STRICT;
INSERT OR REPLACE INTO long_grams_build (id, next_rid, last_rid)
	SELECT 1, min(rid), max(rid) FROM tasks HAVING count(*) > 0;
`,
	// 17: the search index's tables merge their segments only in the
	// steps the writes pay for (merge.go, paceMerges), never in FTS5's own
	// lumps inside a commit. FTS5 keeps the setting in each table's config.
	`
INSERT INTO task_grams (task_grams, rank) VALUES ('automerge', 0);
INSERT INTO task_grams_updated (task_grams_updated, rank) VALUES ('automerge', 0);
INSERT INTO task_grams_due (task_grams_due, rank) VALUES ('automerge', 0);
INSERT INTO task_grams_priority (task_grams_priority, rank) VALUES ('automerge', 0);
`,
}

// migrationSteps are the parts of migrations SQL cannot do, by version: each
// runs after its version's SQL, in the same transaction.
var migrationSteps = map[int]func(ctx context.Context, tx *sql.Tx, log *slog.Logger) error{
	10: keyEmails,
	13: sortColumns,
}

// sortColumns adds migration 13's columns where they are missing (ALTER
// TABLE has no IF NOT EXISTS), their indexes and the triggers that use
// them. A NULL is a task not yet placed (sorted.go, builder).
func sortColumns(ctx context.Context, tx *sql.Tx, _ *slog.Logger) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('tasks') WHERE name = 'urid'`).Scan(&n); err != nil {
		return fmt.Errorf("sort columns: %w", err)
	}
	stmts := []string{
		`CREATE UNIQUE INDEX IF NOT EXISTS tasks_urid ON tasks(urid)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS tasks_drid ON tasks(drid)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS tasks_prid ON tasks(prid)`,
		`CREATE TRIGGER IF NOT EXISTS task_sorts_insert AFTER INSERT ON tasks BEGIN
	INSERT OR IGNORE INTO task_sorts_dirty (rid) VALUES (new.rid);
END`,
		`CREATE TRIGGER IF NOT EXISTS task_sorts_delete AFTER DELETE ON tasks BEGIN
	INSERT OR IGNORE INTO task_sorts_dirty (rid, urid, drid, prid) VALUES (old.rid, old.urid, old.drid, old.prid);
END`,
		`CREATE TRIGGER IF NOT EXISTS task_sorts_update AFTER UPDATE OF updated_ms, due_sort, priority_rank, title_key, desc_key ON tasks BEGIN
	INSERT OR IGNORE INTO task_sorts_dirty (rid, urid, drid, prid) VALUES (new.rid, old.urid, old.drid, old.prid);
END`,
	}
	if n == 0 {
		stmts = append([]string{
			`ALTER TABLE tasks ADD COLUMN urid INTEGER`,
			`ALTER TABLE tasks ADD COLUMN drid INTEGER`,
			`ALTER TABLE tasks ADD COLUMN prid INTEGER`,
		}, stmts...)
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sort columns: %w", err)
		}
	}
	return nil
}

// keyEmails sets every account's email_key, then makes it unique. Of
// accounts that share a key, emailkey.Keeper's first keeps it; each other is
// keyed apart (emailkey.Apart) and logged for an operator to resolve (change
// its address, or delete it). Nothing is merged or lost: the account stays,
// its password and sessions work, only signing in by address does not reach
// it.
func keyEmails(ctx context.Context, tx *sql.Tx, log *slog.Logger) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, email, created_ms FROM users`)
	if err != nil {
		return fmt.Errorf("key emails: %w", err)
	}
	byKey := map[string][]emailkey.Holder{}
	for rows.Next() {
		var h emailkey.Holder
		var created int64
		if err := rows.Scan(&h.ID, &h.Email, &created); err != nil {
			rows.Close()
			return fmt.Errorf("key emails: %w", err)
		}
		h.Created = fromMillis(created)
		k := emailkey.Key(h.Email)
		byKey[k] = append(byKey[k], h)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("key emails: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("key emails: %w", err)
	}
	for key, hs := range byKey {
		emailkey.Keeper(key, hs)
		for i, h := range hs {
			k := key
			if i > 0 {
				k = emailkey.Apart(h.ID)
				log.Warn("sqlite: two accounts' addresses are one after normalisation; the second cannot sign in by address until an operator changes or deletes it",
					"user", h.ID, "email", h.Email, "keptBy", hs[0].ID, "keptEmail", hs[0].Email)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE users SET email_key = ? WHERE id = ?`, k, h.ID); err != nil {
				return fmt.Errorf("key emails: %w", err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE UNIQUE INDEX users_email_key ON users(email_key)`); err != nil {
		return fmt.Errorf("key emails: %w", err)
	}
	return nil
}

// migrateWait bounds how long Open keeps retrying a busy database when the
// caller's context sets no earlier deadline.
const migrateWait = 30 * time.Second

// migrateRetrying runs migrate until it stops answering SQLITE_BUSY. Several
// processes opening a fresh file at once all try to switch it to WAL, which
// needs an exclusive lock; SQLite refuses a lock upgrade that could deadlock
// with SQLITE_BUSY at once instead of waiting out the busy timeout, so the
// losers back off and try again, then find the schema already in place.
func (db *DB) migrateRetrying(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, migrateWait)
	defer cancel()
	wait := 5 * time.Millisecond
	for {
		err := db.migrate(ctx)
		if err == nil || !isBusy(err) {
			return err
		}
		// Jitter keeps the losers of one round from colliding again.
		t := time.NewTimer(wait/2 + rand.N(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// migrate brings the schema up to date in one transaction. BEGIN IMMEDIATE
// makes a second process opening the same file wait, then see the new
// user_version and do nothing.
func (db *DB) migrate(ctx context.Context) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("migrate: database schema version %d is newer than this program's %d", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate: version %d: %w", i+1, err)
		}
		if step := migrationSteps[i+1]; step != nil {
			if err := step(ctx, tx, db.log); err != nil {
				return fmt.Errorf("migrate: version %d: %w", i+1, err)
			}
		}
	}
	if v == len(migrations) {
		return checkSchema(ctx, tx)
	}
	// PRAGMA takes no bound parameters; the value is an int we control.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("migrate: record version: %w", err)
	}
	if err := checkSchema(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// checkSchema refuses a database made by a development build whose
// migrations were edited before release (the columns search needs are
// missing), rather than let every write fail later.
func checkSchema(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `SELECT t.rid, t.urid, g.rowid, d.indexed, s.prid FROM tasks t, task_grams g, task_grams_dirty d, task_sorts_dirty s LIMIT 0`); err != nil {
		return fmt.Errorf("migrate: the database was made by a development build with another schema; delete it: %w", err)
	}
	return nil
}
