-- Issue 16: the rooms area's tables use PostgreSQL's column names (the records' field names), so one set
-- of row mappers (storage/rows.py) and one vocabulary serve both backends.
-- events: the source columns are named like EventSource's fields; sensitivity is stored as its level
-- (0 public, 1 internal, 2 confidential), like every PostgreSQL table; the redundant name text is dropped.
ALTER TABLE events RENAME COLUMN source_channel_type TO channel_type;
ALTER TABLE events RENAME COLUMN source_channel_id TO channel_id;
ALTER TABLE events RENAME COLUMN source_agent TO agent;
ALTER TABLE events DROP COLUMN sensitivity;
ALTER TABLE events RENAME COLUMN sensitivity_level TO sensitivity;
-- The insertion order tie-breakers say what they order.
ALTER TABLE participants RENAME COLUMN seq TO join_seq;
ALTER TABLE channel_bindings RENAME COLUMN seq TO bind_seq;
ALTER TABLE addresses RENAME COLUMN seq TO addr_seq;
