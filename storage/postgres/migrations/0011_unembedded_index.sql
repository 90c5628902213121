-- The embedding queue (issue 15): a write may commit its search document without a vector, to be
-- embedded in the background by the server (mcp_memory.services.embedding). Documents without a vector
-- are the queue: durable with the write, drained oldest first through this partial index.
CREATE INDEX search_docs_unembedded ON search_docs (doc_id) WHERE embedding IS NULL;
