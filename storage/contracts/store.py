"""The storage contract: ``MemoryStore``, every area's contract in one async, abstract interface.

Every backend (``storage.sqlite``, ``storage.postgres``) implements ``MemoryStore`` and passes the same
contract suite (``tests/storage/contract``). Guarantees below use MUST / SHOULD (RFC 2119).

General guarantees of every method:

- Each write MUST be one transaction: it is durable (committed) before the method returns, and on any
  error nothing of it is visible.
- Driver exceptions MUST NOT escape: backends raise only ``storage.errors`` types.
- Methods MUST NOT block the event loop (file or socket I/O happens off the loop or through an async
  driver).
- Reads that return many items are bounded by ``limit`` and paginated by an opaque cursor.
- Items outside the caller's ``Scope`` MUST be filtered inside the query (never after a top-k cut), so a
  search never returns, counts or ranks them; a read of one such item raises ``NotFoundError``.
- Rooms live in a namespace (``Room.namespace``) under the same rules as memories: a room, its events,
  its conversation state and its escalations are visible only when the scope reads the room's
  namespace (and events only up to the scope's clearance); appending, handing off, changing the state
  or closing needs the namespace to be writable, else ``PermissionDeniedError`` and nothing changes.
  ``scope=None`` means unrestricted (operators, migrations, the store used as a library).
"""

from __future__ import annotations

import abc
from typing import Any

from storage.contracts.alerts import AlertStore
from storage.contracts.audit import AuditStore
from storage.contracts.changes import ChangeFeedStore
from storage.contracts.escalations import EscalationStore
from storage.contracts.events import EventStore
from storage.contracts.facts import FactStore
from storage.contracts.graph import GraphStore
from storage.contracts.identities import IdentityStore
from storage.contracts.memories import MemoryRecordStore
from storage.contracts.meta import MetaStore
from storage.contracts.portability import PortabilityStore
from storage.contracts.reindex import ReindexStore
from storage.contracts.retention import RetentionStore
from storage.contracts.rooms import RoomStore
from storage.contracts.sessions import SessionStore
from storage.contracts.tasks import TaskStore
from storage.contracts.versions import VersionStore

__all__ = ["MemoryStore"]


class MemoryStore(
    MetaStore,
    RoomStore,
    EventStore,
    IdentityStore,
    MemoryRecordStore,
    SessionStore,
    TaskStore,
    EscalationStore,
    GraphStore,
    AlertStore,
    RetentionStore,
    FactStore,
    VersionStore,
    ChangeFeedStore,
    AuditStore,
    ReindexStore,
    PortabilityStore,
    abc.ABC,
):
    """Async storage contract of mcp-memory.

    Use as an async context manager or call ``close()``; ``storage.open_store(url)`` returns an opened,
    migrated store. Every method may raise ``BackendUnavailableError``.
    """

    #: Short backend name (``sqlite``, ``postgres``).
    backend: str = "abstract"

    async def __aenter__(self) -> MemoryStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections. Idempotent. Writes already returned are durable."""

    @abc.abstractmethod
    async def schema_version(self) -> int:
        """Return the number of the newest migration applied to this database."""

    async def describe(self) -> dict[str, Any]:
        """Return facts for operators (``mcp-memory doctor``): backend, schema version, vector mode...

        Backends SHOULD extend this with what they know (file path, pool size, pgvector presence).
        """
        return {"backend": self.backend, "schema_version": await self.schema_version()}
