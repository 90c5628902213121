-- Issue 12: sessions with a namespace and metadata; indexes for the new lookups (memories by task,
-- a customer's events and rooms, rooms by participant).
CREATE TABLE sessions (
    session_id  TEXT PRIMARY KEY,
    namespace   TEXT NOT NULL,
    metadata    TEXT NOT NULL DEFAULT '{}',
    created_by  TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX memories_by_task ON memories (task_id);
CREATE INDEX events_by_sender_identity ON events (sender_identity_id);
CREATE INDEX participants_by_participant ON participants (participant_id);
