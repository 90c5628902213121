-- Knowledge graph (entities and typed relations, living in namespaces) and alerts between agents.
-- A relation and both of its entities share one namespace (storage/graph_contract.py).
-- sensitivity_level is 0 public, 1 internal, 2 confidential (storage.models.Sensitivity.level).

CREATE TABLE entities (
    entity_id         TEXT PRIMARY KEY,
    namespace         TEXT NOT NULL,
    type              TEXT NOT NULL,
    name              TEXT NOT NULL,
    properties        TEXT NOT NULL DEFAULT '{}',
    sensitivity_level INTEGER NOT NULL CHECK (sensitivity_level BETWEEN 0 AND 2),
    created_by        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (namespace, type, name)
);
CREATE INDEX entities_by_name ON entities (namespace, name);

CREATE TABLE relations (
    relation_id   TEXT PRIMARY KEY,
    namespace     TEXT NOT NULL,
    from_id       TEXT NOT NULL REFERENCES entities (entity_id),
    type          TEXT NOT NULL,
    to_id         TEXT NOT NULL REFERENCES entities (entity_id),
    properties    TEXT NOT NULL DEFAULT '{}',
    confidence    REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    discovered_by TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (from_id, type, to_id)
);
CREATE INDEX relations_by_to ON relations (to_id, type);

CREATE TABLE alerts (
    alert_id   TEXT PRIMARY KEY,
    sender     TEXT NOT NULL,
    message    TEXT NOT NULL,
    severity   TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    room_id    TEXT,
    metadata   TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);

-- One row per (recipient, alert): the inbox. created_at is the alert's, copied for the inbox order.
CREATE TABLE alert_recipients (
    agent      TEXT NOT NULL,
    alert_id   TEXT NOT NULL REFERENCES alerts (alert_id),
    created_at TEXT NOT NULL,
    acked_at   TEXT,
    PRIMARY KEY (agent, alert_id)
) WITHOUT ROWID;
CREATE INDEX alert_recipients_inbox ON alert_recipients (agent, created_at DESC, alert_id DESC);
