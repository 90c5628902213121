-- The change log of search_docs vectors, followed by the in-process vector index (storage.vector_index)
-- when the database has no pgvector. Triggers fill it, so every path that writes search_docs (add,
-- delete, merge, rollback, retention, reindex swap) is logged in its own transaction.
-- Sequence values are not in commit order on PostgreSQL, so a reader follows xid instead: every row
-- committed after a snapshot was written by a transaction whose xid is >= that snapshot's xmin
-- (pg_snapshot_xmin(pg_current_snapshot())), and "xid >= cursor" (re-reading a few rows) misses nothing.
-- A row says only "doc_id changed": a reader takes the document's state from its own snapshot.
ALTER TABLE search_docs ADD COLUMN doc_id bigint GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX search_docs_doc_id_idx ON search_docs (doc_id);

CREATE TABLE vector_changes (
    seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid    xid8 NOT NULL DEFAULT pg_current_xact_id(),
    doc_id bigint NOT NULL
);
CREATE INDEX vector_changes_xid_idx ON vector_changes (xid);

CREATE FUNCTION search_docs_log_vector() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.embedding IS NOT NULL THEN
            INSERT INTO vector_changes (doc_id) VALUES (OLD.doc_id);
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.embedding IS DISTINCT FROM (CASE WHEN TG_OP = 'UPDATE' THEN OLD.embedding END) THEN
        INSERT INTO vector_changes (doc_id) VALUES (NEW.doc_id);
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER search_docs_vector_log AFTER INSERT OR DELETE OR UPDATE OF embedding ON search_docs
    FOR EACH ROW EXECUTE FUNCTION search_docs_log_vector();
