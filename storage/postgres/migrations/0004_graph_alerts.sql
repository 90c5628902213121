-- Knowledge graph (entities and typed relations, living in namespaces) and alerts between agents.
-- A relation and both of its entities share one namespace (storage/graph_contract.py).
-- sensitivity is the level: 0 public, 1 internal, 2 confidential (storage.models.Sensitivity.level).

CREATE TABLE entities (
    entity_id   text PRIMARY KEY,
    namespace   text NOT NULL,
    type        text NOT NULL,
    name        text NOT NULL,
    properties  jsonb NOT NULL DEFAULT '{}'::jsonb,
    sensitivity smallint NOT NULL CHECK (sensitivity BETWEEN 0 AND 2),
    created_by  text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (namespace, type, name)
);
CREATE INDEX entities_name_idx ON entities (namespace, name);

CREATE TABLE relations (
    relation_id   text PRIMARY KEY,
    namespace     text NOT NULL,
    from_id       text NOT NULL REFERENCES entities (entity_id) ON DELETE CASCADE,
    type          text NOT NULL,
    to_id         text NOT NULL REFERENCES entities (entity_id) ON DELETE CASCADE,
    properties    jsonb NOT NULL DEFAULT '{}'::jsonb,
    confidence    double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    discovered_by text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    UNIQUE (from_id, type, to_id)
);
CREATE INDEX relations_to_idx ON relations (to_id, type);

CREATE TABLE alerts (
    alert_id   text PRIMARY KEY,
    sender     text NOT NULL,
    message    text NOT NULL,
    severity   text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    room_id    text,
    metadata   jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL
);

-- One row per (recipient, alert): the inbox. created_at is the alert's, copied for the inbox order.
CREATE TABLE alert_recipients (
    agent      text NOT NULL,
    alert_id   text NOT NULL REFERENCES alerts (alert_id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    acked_at   timestamptz,
    PRIMARY KEY (agent, alert_id)
);
CREATE INDEX alert_recipients_inbox_idx ON alert_recipients (agent, created_at DESC, alert_id DESC);
