-- Security (issue 4): the append-only audit log, and rooms in namespaces (room visibility for events).

-- One row per tool call or resource read. ids: the item ids the call named or returned.
CREATE TABLE audit_log (
    seq         bigserial PRIMARY KEY,
    agent       text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('tool', 'resource')),
    name        text NOT NULL,
    ids         text[] NOT NULL DEFAULT '{}',
    outcome     text NOT NULL CHECK (outcome IN ('ok', 'error')),
    error_type  text,
    duration_ms double precision NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX audit_log_agent_idx ON audit_log (agent, seq DESC);
CREATE INDEX audit_log_name_idx ON audit_log (name, seq DESC);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_ids_gin ON audit_log USING gin (ids);

-- Append-only: the database itself refuses to change, remove or truncate records.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- A room lives in a namespace, like a memory; its events are readable by agents whose policy reads that
-- namespace and writable (appendable) by agents whose policy writes it. Existing rooms become shared.
ALTER TABLE rooms ADD COLUMN namespace text NOT NULL DEFAULT 'shared-rooms';
CREATE INDEX rooms_namespace_idx ON rooms (namespace, created_at DESC, room_id DESC);
-- Events carry their room's namespace in the search documents, so search applies the scope in SQL.
UPDATE search_docs AS d SET namespace = r.namespace FROM rooms AS r
    WHERE d.item_type = 'event' AND r.room_id = d.room_id;
