-- Initial schema of the SQLite backend.
-- Timestamps are fixed-width ISO-8601 UTC text (storage.base.isoformat), so text order is time order.
-- JSON columns hold compact JSON text; sensitivity_level is 0 public, 1 internal, 2 confidential.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE rooms (
    room_id          TEXT PRIMARY KEY,
    name             TEXT,
    status           TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    metadata         TEXT NOT NULL DEFAULT '{}',
    active_agent     TEXT,
    phase            TEXT,
    handoff_count    INTEGER NOT NULL DEFAULT 0,
    state_version    INTEGER NOT NULL DEFAULT 1,
    state_updated_at TEXT NOT NULL,
    last_event_index INTEGER NOT NULL DEFAULT 0,
    created_by       TEXT,
    created_at       TEXT NOT NULL,
    closed_at        TEXT
);
CREATE INDEX rooms_by_created ON rooms (created_at DESC, room_id DESC);

CREATE TABLE participants (
    seq            INTEGER PRIMARY KEY,
    room_id        TEXT NOT NULL REFERENCES rooms (room_id),
    participant_id TEXT NOT NULL,
    kind           TEXT NOT NULL,
    role           TEXT,
    joined_at      TEXT NOT NULL,
    left_at        TEXT,
    UNIQUE (room_id, participant_id)
);

CREATE TABLE channel_bindings (
    seq          INTEGER PRIMARY KEY,
    room_id      TEXT NOT NULL REFERENCES rooms (room_id),
    channel_id   TEXT NOT NULL,
    channel_type TEXT NOT NULL,
    config       TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (room_id, channel_id)
);

CREATE TABLE events (
    event_id           TEXT PRIMARY KEY,
    room_id            TEXT NOT NULL REFERENCES rooms (room_id),
    idx                INTEGER NOT NULL,
    type               TEXT NOT NULL,
    content            TEXT NOT NULL,
    visibility         TEXT NOT NULL,
    sensitivity        TEXT NOT NULL,
    sensitivity_level  INTEGER NOT NULL,
    source_channel_type TEXT,
    source_channel_id  TEXT,
    sender_identity_id TEXT,
    source_agent       TEXT,
    metadata           TEXT NOT NULL DEFAULT '{}',
    idempotency_key    TEXT,
    occurred_at        TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    UNIQUE (room_id, idx),
    UNIQUE (room_id, idempotency_key)
);
CREATE INDEX events_by_sender ON events (room_id, sender_identity_id, idx);

CREATE TABLE identities (
    identity_id  TEXT PRIMARY KEY,
    display_name TEXT,
    metadata     TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL
);

CREATE TABLE addresses (
    seq          INTEGER PRIMARY KEY,
    channel_type TEXT NOT NULL,
    address      TEXT NOT NULL,
    identity_id  TEXT NOT NULL REFERENCES identities (identity_id),
    created_at   TEXT NOT NULL,
    UNIQUE (channel_type, address)
);
CREATE INDEX addresses_by_identity ON addresses (identity_id, seq);

CREATE TABLE memories (
    memory_id         TEXT PRIMARY KEY,
    namespace         TEXT NOT NULL,
    content           TEXT NOT NULL,
    kind              TEXT NOT NULL,
    session_id        TEXT,
    tags              TEXT NOT NULL DEFAULT '[]',
    metadata          TEXT NOT NULL DEFAULT '{}',
    sensitivity       TEXT NOT NULL,
    sensitivity_level INTEGER NOT NULL,
    importance        REAL NOT NULL,
    author            TEXT,
    room_id           TEXT,
    task_id           TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX memories_by_created ON memories (created_at DESC, memory_id DESC);
CREATE INDEX memories_by_namespace ON memories (namespace, created_at DESC);
CREATE INDEX memories_by_room ON memories (room_id, kind, created_at);

-- One row per searchable item (memory or event), denormalised so every filter and the scope apply in
-- the same WHERE as the FTS5 match or the vector distance. embedding: float32[dimensions] little-endian.
CREATE TABLE search_docs (
    doc_id            INTEGER PRIMARY KEY,
    item_type         TEXT NOT NULL CHECK (item_type IN ('memory', 'event')),
    item_id           TEXT NOT NULL,
    namespace         TEXT,
    session_id        TEXT,
    room_id           TEXT,
    kind              TEXT,
    tags              TEXT NOT NULL DEFAULT '[]',
    metadata          TEXT NOT NULL DEFAULT '{}',
    sensitivity_level INTEGER NOT NULL,
    importance        REAL NOT NULL,
    item_at           TEXT NOT NULL,
    text              TEXT NOT NULL,
    embedding         BLOB,
    UNIQUE (item_type, item_id)
);
CREATE INDEX search_docs_by_namespace ON search_docs (namespace);
CREATE INDEX search_docs_by_room ON search_docs (room_id);

CREATE VIRTUAL TABLE search_fts USING fts5 (
    text,
    content = 'search_docs',
    content_rowid = 'doc_id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, text) VALUES (new.doc_id, new.text);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, text) VALUES ('delete', old.doc_id, old.text);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE OF text ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, text) VALUES ('delete', old.doc_id, old.text);
    INSERT INTO search_fts (rowid, text) VALUES (new.doc_id, new.text);
END;

CREATE TABLE tasks (
    task_id     TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    priority    INTEGER NOT NULL,
    assignee    TEXT,
    room_id     TEXT,
    metadata    TEXT NOT NULL DEFAULT '{}',
    created_by  TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX tasks_by_order ON tasks (priority DESC, created_at, task_id);
CREATE INDEX tasks_by_room ON tasks (room_id, status);

CREATE TABLE escalations (
    escalation_id   TEXT PRIMARY KEY,
    room_id         TEXT NOT NULL REFERENCES rooms (room_id),
    reason          TEXT NOT NULL,
    queue           TEXT,
    assignee        TEXT,
    priority        INTEGER NOT NULL,
    status          TEXT NOT NULL,
    created_by      TEXT,
    created_at      TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at TEXT,
    resolved_by     TEXT,
    resolved_at     TEXT,
    resolution      TEXT,
    handoff         TEXT NOT NULL
);
CREATE INDEX escalations_by_created ON escalations (created_at DESC, escalation_id DESC);
