-- Issue 16: facts, the change log and entities already use the shared column names here (the SQLite
-- migration 0009 renames its columns to these). Nothing to change; the number keeps both backends at
-- the same schema version.
SELECT 1;
