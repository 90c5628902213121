-- Re-embedding with another model (mcp-memory reindex): new vectors are staged here, in batches,
-- then swapped into "embedding" in one transaction. NULL: nothing staged for this item.
ALTER TABLE search_docs ADD COLUMN staged_embedding BLOB;
