"""PostgreSQL backend of mcp-memory: ``PostgresStore`` (asyncpg), its options and ``migrate``.

Needs the ``postgres`` extra (``asyncpg``). pgvector is used when the database has it (HNSW index),
exact search otherwise; ``describe()["vector_mode"]`` says which.
"""

from __future__ import annotations

from storage.postgres.store import PostgresOptions, PostgresStore, migrate

__all__ = ["PostgresOptions", "PostgresStore", "migrate"]
