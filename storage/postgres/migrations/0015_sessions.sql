-- Issue 12: sessions with a namespace and metadata; indexes for the new lookups (memories by task,
-- a customer's events and rooms, rooms by participant).
CREATE TABLE sessions (
    session_id  text PRIMARY KEY,
    namespace   text NOT NULL,
    metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by  text,
    created_at  timestamptz NOT NULL
);
CREATE INDEX memories_task_idx ON memories (task_id);
CREATE INDEX events_sender_identity_idx ON events (sender_identity_id);
CREATE INDEX participants_participant_idx ON participants (participant_id);
