-- mcp-memory PostgreSQL schema, version 1.
-- Applied in one transaction with its schema_migrations row, under pg_advisory_xact_lock (storage/postgres/schema.py).
-- Migrations only add. The pgvector column and HNSW index are created by Python after the SQL migrations,
-- only when the extension is available (storage/postgres/vectors.py), so this file runs on any PostgreSQL >= 13.
-- Sensitivity is stored as its level: 0 public, 1 internal, 2 confidential (storage.models.Sensitivity.level).

CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE rooms (
    room_id          text PRIMARY KEY,
    name             text,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
    active_agent     text,
    phase            text,
    handoff_count    integer NOT NULL DEFAULT 0,
    state_version    integer NOT NULL DEFAULT 1,
    state_updated_at timestamptz NOT NULL,
    last_event_index bigint NOT NULL DEFAULT 0,
    created_by       text,
    created_at       timestamptz NOT NULL,
    closed_at        timestamptz
);
CREATE INDEX rooms_created_idx ON rooms (created_at DESC, room_id DESC);
CREATE INDEX rooms_status_created_idx ON rooms (status, created_at DESC, room_id DESC);
CREATE INDEX rooms_metadata_gin ON rooms USING gin (metadata jsonb_path_ops);

CREATE TABLE participants (
    room_id        text NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    participant_id text NOT NULL,
    kind           text NOT NULL,
    role           text,
    joined_at      timestamptz NOT NULL,
    left_at        timestamptz,
    join_seq       bigserial,
    PRIMARY KEY (room_id, participant_id)
);

CREATE TABLE channel_bindings (
    room_id      text NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    channel_id   text NOT NULL,
    channel_type text NOT NULL,
    config       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    bind_seq     bigserial,
    PRIMARY KEY (room_id, channel_id)
);

CREATE TABLE events (
    event_id           text PRIMARY KEY,
    room_id            text NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    idx                bigint NOT NULL,
    type               text NOT NULL,
    content            text NOT NULL,
    visibility         text NOT NULL,
    sensitivity        smallint NOT NULL CHECK (sensitivity BETWEEN 0 AND 2),
    channel_type       text,
    channel_id         text,
    sender_identity_id text,
    agent              text,
    metadata           jsonb NOT NULL DEFAULT '{}'::jsonb,
    idempotency_key    text,
    occurred_at        timestamptz NOT NULL,
    created_at         timestamptz NOT NULL,
    UNIQUE (room_id, idx),
    UNIQUE (room_id, idempotency_key)
);
CREATE INDEX events_metadata_gin ON events USING gin (metadata jsonb_path_ops);

CREATE TABLE identities (
    identity_id  text PRIMARY KEY,
    display_name text,
    metadata     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL
);

CREATE TABLE addresses (
    channel_type text NOT NULL,
    address      text NOT NULL,
    identity_id  text NOT NULL REFERENCES identities (identity_id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    addr_seq     bigserial,
    PRIMARY KEY (channel_type, address)
);
CREATE INDEX addresses_identity_idx ON addresses (identity_id);

CREATE TABLE memories (
    memory_id   text PRIMARY KEY,
    namespace   text NOT NULL,
    content     text NOT NULL,
    kind        text NOT NULL,
    session_id  text,
    tags        jsonb NOT NULL DEFAULT '[]'::jsonb,
    metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
    sensitivity smallint NOT NULL CHECK (sensitivity BETWEEN 0 AND 2),
    importance  double precision NOT NULL,
    author      text,
    room_id     text,
    task_id     text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX memories_created_idx ON memories (created_at DESC, memory_id DESC);
CREATE INDEX memories_namespace_idx ON memories (namespace, created_at DESC);
CREATE INDEX memories_room_idx ON memories (room_id, kind);
CREATE INDEX memories_tags_gin ON memories USING gin (tags jsonb_path_ops);
CREATE INDEX memories_metadata_gin ON memories USING gin (metadata jsonb_path_ops);

-- One row per searchable item (memory or event): the filters, the text, its tsvector and its embedding.
CREATE TABLE search_docs (
    item_type   text NOT NULL CHECK (item_type IN ('memory', 'event')),
    item_id     text NOT NULL,
    namespace   text,
    session_id  text,
    room_id     text,
    kind        text NOT NULL,
    tags        jsonb NOT NULL DEFAULT '[]'::jsonb,
    metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
    sensitivity smallint NOT NULL CHECK (sensitivity BETWEEN 0 AND 2),
    importance  double precision NOT NULL,
    item_at     timestamptz NOT NULL,
    body        text NOT NULL,
    tsv         tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, body)) STORED,
    -- float32[dimensions], little-endian (numpy '<f4'), L2-normalised; NULL when the item has no embedding.
    embedding   bytea,
    PRIMARY KEY (item_type, item_id)
);
CREATE INDEX search_docs_tsv_gin ON search_docs USING gin (tsv);
CREATE INDEX search_docs_tags_gin ON search_docs USING gin (tags jsonb_path_ops);
CREATE INDEX search_docs_metadata_gin ON search_docs USING gin (metadata jsonb_path_ops);
CREATE INDEX search_docs_namespace_idx ON search_docs (namespace);
CREATE INDEX search_docs_room_idx ON search_docs (room_id);
CREATE INDEX search_docs_item_at_idx ON search_docs (item_at);

CREATE TABLE tasks (
    task_id     text PRIMARY KEY,
    title       text NOT NULL,
    description text NOT NULL DEFAULT '',
    status      text NOT NULL,
    priority    integer NOT NULL,
    assignee    text,
    room_id     text,
    metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by  text,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX tasks_order_idx ON tasks (priority DESC, created_at ASC, task_id ASC);
CREATE INDEX tasks_room_idx ON tasks (room_id, status);
CREATE INDEX tasks_assignee_idx ON tasks (assignee, status);

CREATE TABLE escalations (
    escalation_id   text PRIMARY KEY,
    room_id         text NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    reason          text NOT NULL,
    queue           text,
    assignee        text,
    priority        integer NOT NULL,
    status          text NOT NULL,
    created_by      text,
    created_at      timestamptz NOT NULL,
    acknowledged_by text,
    acknowledged_at timestamptz,
    resolved_by     text,
    resolved_at     timestamptz,
    resolution      text,
    handoff         jsonb NOT NULL
);
CREATE INDEX escalations_created_idx ON escalations (created_at DESC, escalation_id DESC);
CREATE INDEX escalations_room_idx ON escalations (room_id, status);
