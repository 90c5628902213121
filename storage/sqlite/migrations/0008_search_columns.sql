-- Issue 16: the search area's tables use PostgreSQL's column names, so one filter builder
-- (storage/filters.py) and one set of row mappers (storage/rows.py) serve both backends.
-- memories: sensitivity is stored as its level (0 public, 1 internal, 2 confidential), like every
-- PostgreSQL table; the redundant name text is dropped.
ALTER TABLE memories DROP COLUMN sensitivity;
ALTER TABLE memories RENAME COLUMN sensitivity_level TO sensitivity;
-- search_docs: the same (its item text keeps the name "text", which PostgreSQL's 0008 adopts).
ALTER TABLE search_docs RENAME COLUMN sensitivity_level TO sensitivity;
