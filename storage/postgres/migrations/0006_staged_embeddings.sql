-- Re-embedding with another model (mcp-memory reindex): new vectors are staged here, in batches,
-- then swapped into "embedding" in one transaction (with pgvector also staged_embedding_vec, added
-- on first use like embedding_vec). NULL: nothing staged for this item.
ALTER TABLE search_docs ADD COLUMN staged_embedding bytea;
