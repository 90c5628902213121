-- Security (issue 4): the append-only audit log, and rooms in namespaces (room visibility for events).

-- One row per tool call or resource read. ids: JSON array of the item ids the call named or returned.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    agent       TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('tool', 'resource')),
    name        TEXT NOT NULL,
    ids         TEXT NOT NULL DEFAULT '[]',
    outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'error')),
    error_type  TEXT,
    duration_ms REAL NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX audit_log_by_agent ON audit_log (agent, seq);
CREATE INDEX audit_log_by_name ON audit_log (name, seq);
CREATE INDEX audit_log_by_at ON audit_log (at);

-- Append-only: the database itself refuses to change or remove a record.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- A room lives in a namespace, like a memory; its events are readable by agents whose policy reads that
-- namespace and writable (appendable) by agents whose policy writes it. Existing rooms become shared.
ALTER TABLE rooms ADD COLUMN namespace TEXT NOT NULL DEFAULT 'shared-rooms';
CREATE INDEX rooms_by_namespace ON rooms (namespace, created_at DESC, room_id DESC);
-- Events carry their room's namespace in the search documents, so search applies the scope in SQL.
UPDATE search_docs SET namespace = (SELECT r.namespace FROM rooms AS r WHERE r.room_id = search_docs.room_id)
    WHERE item_type = 'event';
