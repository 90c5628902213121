-- The change log of search_docs vectors, followed by the in-process vector index of every process
-- (storage.vector_index). Triggers fill it, so every path that writes search_docs (add, delete, merge,
-- rollback, retention, reindex swap) is logged in its own transaction. seq is AUTOINCREMENT: never reused,
-- and with SQLite's single writer assigned in commit order, so "seq > cursor" misses nothing.
-- A row says only "doc_id changed": a reader takes the document's state from its own snapshot.
CREATE TABLE vector_changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id INTEGER NOT NULL
);

CREATE TRIGGER search_docs_vec_ai AFTER INSERT ON search_docs WHEN new.embedding IS NOT NULL BEGIN
    INSERT INTO vector_changes (doc_id) VALUES (new.doc_id);
END;
CREATE TRIGGER search_docs_vec_au AFTER UPDATE OF embedding ON search_docs
WHEN old.embedding IS NOT new.embedding BEGIN
    INSERT INTO vector_changes (doc_id) VALUES (new.doc_id);
END;
CREATE TRIGGER search_docs_vec_ad AFTER DELETE ON search_docs WHEN old.embedding IS NOT NULL BEGIN
    INSERT INTO vector_changes (doc_id) VALUES (old.doc_id);
END;
