"""PostgreSQL backend of mcp-memory: ``PostgresStore`` (asyncpg), ``migrate`` and change notifications.

Needs the ``postgres`` extra (``asyncpg``). pgvector is used when the database has it (HNSW index),
exact search otherwise; ``describe()["vector_mode"]`` says which.
"""

from __future__ import annotations

from storage.postgres.notify import CHANNEL, ChangeNotice, ChangeSubscription
from storage.postgres.store import PostgresStore, migrate

__all__ = ["CHANNEL", "ChangeNotice", "ChangeSubscription", "PostgresStore", "migrate"]
