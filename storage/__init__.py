"""mcp-memory storage: the ``MemoryStore`` contract, its records and errors, and ``open_store``.

Usable alone as a library::

    from storage import open_store
    async with await open_store("sqlite:///data/memory.db") as store:
        room = await store.create_room(models.NewRoom(name="case 42"))
"""

from __future__ import annotations

from typing import Any

from storage import (
    errors,
    kinds,
    models,
    models_alerts,
    models_audit,
    models_facts,
    models_graph,
    models_reindex,
    models_versions,
)
from storage.alerts_contract import AlertStore
from storage.base import MemoryStore, Scope
from storage.errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    SchemaVersionError,
    StorageError,
)
from storage.graph_contract import GraphStore
from storage.models_audit import AuditFilter, AuditOutcome, AuditRecord, NewAuditRecord
from storage.reindex_contract import ReindexStore

__all__ = [
    "AlertStore",
    "AuditFilter",
    "AuditOutcome",
    "AuditRecord",
    "BackendUnavailableError",
    "ConflictError",
    "GraphStore",
    "InvalidInputError",
    "MemoryStore",
    "NewAuditRecord",
    "NotFoundError",
    "PermissionDeniedError",
    "ReindexStore",
    "SchemaVersionError",
    "Scope",
    "StorageError",
    "errors",
    "kinds",
    "models",
    "models_alerts",
    "models_audit",
    "models_facts",
    "models_graph",
    "models_reindex",
    "models_versions",
    "open_store",
]


async def open_store(url: str, **options: Any) -> MemoryStore:
    """Open (and migrate) the store at ``url`` and return it.

    Args:
        url: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, ``sqlite://:memory:`` is not
            supported (use a temporary file); ``postgresql://user@host:5432/db`` (or ``postgres://``).
        **options: backend options, e.g. ``embedding_dimensions=384``, ``busy_timeout_seconds=30`` (SQLite),
            ``min_size``/``max_size`` (PostgreSQL pool), ``schema`` (PostgreSQL schema name).

    Raises:
        InvalidInputError: unknown URL scheme.
        SchemaVersionError: the database is newer than this code, or a migration failed.
        BackendUnavailableError: the database cannot be reached.
    """
    if url.startswith("sqlite://"):
        from storage.sqlite import SQLiteStore

        return await SQLiteStore.open(url, **options)
    if url.startswith(("postgresql://", "postgres://")):
        from storage.postgres import PostgresStore

        return await PostgresStore.open(url, **options)
    raise InvalidInputError(
        f"unsupported storage URL scheme in {url.split(':', 1)[0]!r}: use sqlite:// or postgresql://"
    )
