-- Versioned facts, and the per-namespace change log behind snapshots, rollback, branches and merges.
-- See docs/versioning.md for the semantics. Sensitivity is stored as its level (0..2).

-- Live facts: one row per (namespace, key). A deleted fact has no row here, only its history below.
CREATE TABLE facts (
    namespace   text NOT NULL,
    key         text NOT NULL,
    value       jsonb NOT NULL,
    version     integer NOT NULL,
    sensitivity smallint NOT NULL CHECK (sensitivity BETWEEN 0 AND 2),
    created_by  text,
    updated_by  text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (namespace, key)
);

-- The newest change sequence number of each namespace. Every write to a namespace bumps it first in
-- its transaction (a row lock held to commit), so sequence numbers are gapless and in commit order.
CREATE TABLE namespace_heads (
    namespace text PRIMARY KEY,
    last_seq  bigint NOT NULL
);

-- Append-only change log: one row per memory added/deleted and per fact set/deleted.
-- before/after: the item's state as JSON (NULL when absent). A memory add stores only its id; a memory
-- delete stores the whole record and its embedding, so a rollback can bring it back.
-- version: the fact's version after the change (a delete takes one too).
CREATE TABLE namespace_changes (
    namespace        text NOT NULL,
    seq              bigint NOT NULL,
    item_type        text NOT NULL CHECK (item_type IN ('memory', 'fact')),
    item_key         text NOT NULL,
    op               text NOT NULL CHECK (op IN ('add', 'delete', 'set')),
    version          integer,
    sensitivity      smallint NOT NULL CHECK (sensitivity BETWEEN 0 AND 2),
    before           jsonb,
    before_embedding bytea,
    after            jsonb,
    actor            text,
    changed_at       timestamptz NOT NULL,
    PRIMARY KEY (namespace, seq)
);
CREATE INDEX namespace_changes_item_idx ON namespace_changes (namespace, item_type, item_key, seq);

-- A snapshot is a sequence number of its namespace: nothing is copied.
CREATE TABLE snapshots (
    snapshot_id text PRIMARY KEY,
    namespace   text NOT NULL,
    label       text NOT NULL,
    seq         bigint NOT NULL,
    created_by  text,
    created_at  timestamptz NOT NULL
);
CREATE INDEX snapshots_namespace_idx ON snapshots (namespace, seq DESC, snapshot_id DESC);

-- A branch namespace forked from an origin at a snapshot (see the SQLite migration for the columns).
CREATE TABLE branches (
    namespace   text PRIMARY KEY,
    origin      text NOT NULL,
    snapshot_id text NOT NULL,
    base_seq    bigint NOT NULL,
    fork_seq    bigint NOT NULL,
    created_by  text,
    created_at  timestamptz NOT NULL,
    merged_at   timestamptz
);

-- Which origin memory a branch memory stands for (its copy at the fork, or its copy made by a merge).
CREATE TABLE branch_memories (
    namespace        text NOT NULL,
    memory_id        text NOT NULL,
    origin_memory_id text NOT NULL,
    PRIMARY KEY (namespace, memory_id)
);
