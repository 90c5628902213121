-- Issue 16: the search area's tables use the same column names as SQLite's (storage/filters.py builds
-- one predicate for both). search_docs.body holds the item's lexical text; SQLite names it "text" (its
-- FTS5 index reads the column by that name), so PostgreSQL adopts it. The generated tsv column follows
-- the rename.
ALTER TABLE search_docs RENAME COLUMN body TO text;
