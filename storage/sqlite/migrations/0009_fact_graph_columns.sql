-- Issue 16: the same column names as the PostgreSQL schema for facts, the change log and entities.
-- Sensitivity is stored once, as its level (0 public, 1 internal, 2 confidential), in a column named
-- after the record's field: facts drops its duplicate text column and renames the level column.
ALTER TABLE facts DROP COLUMN sensitivity;
ALTER TABLE facts RENAME COLUMN sensitivity_level TO sensitivity;
ALTER TABLE namespace_changes RENAME COLUMN sensitivity_level TO sensitivity;
ALTER TABLE entities RENAME COLUMN sensitivity_level TO sensitivity;
