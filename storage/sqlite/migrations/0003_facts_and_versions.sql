-- Versioned facts, and the per-namespace change log behind snapshots, rollback, branches and merges.
-- See docs/versioning.md for the semantics. JSON columns hold compact JSON text.

-- Live facts: one row per (namespace, key). A deleted fact has no row here, only its history below.
CREATE TABLE facts (
    namespace         TEXT NOT NULL,
    key               TEXT NOT NULL,
    value             TEXT NOT NULL,
    version           INTEGER NOT NULL,
    sensitivity       TEXT NOT NULL,
    sensitivity_level INTEGER NOT NULL,
    created_by        TEXT,
    updated_by        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;

-- The newest change sequence number of each namespace; every write to a namespace bumps it in its own
-- transaction, so sequence numbers are gapless and in commit order per namespace.
CREATE TABLE namespace_heads (
    namespace TEXT PRIMARY KEY,
    last_seq  INTEGER NOT NULL
) WITHOUT ROWID;

-- Append-only change log: one row per memory added/deleted and per fact set/deleted.
-- before/after: the item's state as JSON (NULL when absent). A memory add stores only its id (after is
-- NULL: the row itself is the state); a memory delete stores the whole record and its embedding, so a
-- rollback can bring it back. version: the fact's version after the change (a delete takes one too).
CREATE TABLE namespace_changes (
    namespace         TEXT NOT NULL,
    seq               INTEGER NOT NULL,
    item_type         TEXT NOT NULL CHECK (item_type IN ('memory', 'fact')),
    item_key          TEXT NOT NULL,
    op                TEXT NOT NULL CHECK (op IN ('add', 'delete', 'set')),
    version           INTEGER,
    sensitivity_level INTEGER NOT NULL,
    before            TEXT,
    before_embedding  BLOB,
    after             TEXT,
    actor             TEXT,
    changed_at        TEXT NOT NULL,
    PRIMARY KEY (namespace, seq)
) WITHOUT ROWID;
CREATE INDEX namespace_changes_by_item ON namespace_changes (namespace, item_type, item_key, seq);

-- A snapshot is a sequence number of its namespace: nothing is copied.
CREATE TABLE snapshots (
    snapshot_id TEXT PRIMARY KEY,
    namespace   TEXT NOT NULL,
    label       TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    created_by  TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX snapshots_by_namespace ON snapshots (namespace, seq DESC, snapshot_id DESC);

-- A branch namespace forked from an origin at a snapshot. base_seq: origin sequence number the branch
-- is based on (the snapshot's, then the origin head after each merge); fork_seq: the branch's own
-- sequence number right after the fork (then after each merge).
CREATE TABLE branches (
    namespace   TEXT PRIMARY KEY,
    origin      TEXT NOT NULL,
    snapshot_id TEXT NOT NULL,
    base_seq    INTEGER NOT NULL,
    fork_seq    INTEGER NOT NULL,
    created_by  TEXT,
    created_at  TEXT NOT NULL,
    merged_at   TEXT
) WITHOUT ROWID;

-- Which origin memory a branch memory stands for (its copy at the fork, or its copy made by a merge).
CREATE TABLE branch_memories (
    namespace        TEXT NOT NULL,
    memory_id        TEXT NOT NULL,
    origin_memory_id TEXT NOT NULL,
    PRIMARY KEY (namespace, memory_id)
) WITHOUT ROWID;
