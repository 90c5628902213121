"""The domain layer: authorization, scoping, orchestration. The only caller of ``storage``.

``Service`` groups one object per area (``rooms``, ``events``, ``identities``, ``memories``, ``tasks``,
``escalations``, ``graph``, ``alerts``, ``facts``, ``versions``, ``audit``, ``coordination``); every method takes the calling ``Principal``
first. ``changes`` is the change bus: writes publish the resource URIs they changed, and anyone may
``await service.changes.publish(uri)`` (see ``services/changes.py``). Every call of a public area method is
audited (``services/auditing.py``): in-process as ``<area>.<method>``, or as part of the MCP tool call or
resource read that made it. Use it in-process::

    async with open_service(load_settings("configs/default.toml")) as service:
        me = service.principal("triage")
        room = await service.rooms.create_room(me, name="case 42")
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp_memory.auth import Principal
from mcp_memory.config import Settings
from mcp_memory.embeddings import make_embedder
from mcp_memory.services.alerts import AlertService
from mcp_memory.services.audit import AuditService
from mcp_memory.services.changes import ChangeBus
from mcp_memory.services.context import ServiceContext
from mcp_memory.services.coordination import CoordinationService
from mcp_memory.services.embedding import EmbeddingGate
from mcp_memory.services.escalations import EscalationService
from mcp_memory.services.events import EventService
from mcp_memory.services.facts import FactService
from mcp_memory.services.graph import GraphService
from mcp_memory.services.identities import IdentityService
from mcp_memory.services.memories import MemoryService
from mcp_memory.services.retention import RetentionService
from mcp_memory.services.rooms import RoomService
from mcp_memory.services.sealing import ContentSealer
from mcp_memory.services.tasks import TaskService
from mcp_memory.services.versions import VersionService
from storage import MemoryStore, backend_of, open_store

__all__ = ["Service", "open_configured_store", "open_service"]

#: Seconds ``open_service`` waits for the embedding drain to stop at exit.
DRAIN_STOP_SECONDS = 5.0


class Service:
    """All service areas over one store and one embedder."""

    def __init__(
        self,
        store: MemoryStore,
        embeddings: EmbeddingGate,
        settings: Settings,
        changes: ChangeBus | None = None,
    ) -> None:
        self.changes = changes or ChangeBus(store)
        ctx = ServiceContext(
            store=store,
            embeddings=embeddings,
            settings=settings,
            changes=self.changes,
            sealer=ContentSealer.from_settings(settings),
        )
        self.context = ctx
        self.settings = settings
        self.rooms = RoomService(ctx)
        self.events = EventService(ctx)
        self.identities = IdentityService(ctx)
        self.memories = MemoryService(ctx)
        self.tasks = TaskService(ctx)
        self.escalations = EscalationService(ctx)
        self.graph = GraphService(ctx)
        self.alerts = AlertService(ctx)
        self.audit = AuditService(ctx)
        self.retention = RetentionService(ctx)
        self.facts = FactService(ctx)
        self.versions = VersionService(ctx)
        self.coordination = CoordinationService(ctx)

    @property
    def store(self) -> MemoryStore:
        """The underlying store (for operators and tests; tools go through the areas)."""
        return self.context.store

    def principal(self, agent: str) -> Principal:
        """The principal for ``agent`` with its configured policy."""
        return Principal(agent=agent, policy=self.settings.policy_for(agent))


async def open_configured_store(settings: Settings) -> MemoryStore:
    """Open (and migrate) the store ``settings`` names, creating ``data_dir`` first.

    Raises:
        StorageError: the store cannot be opened or migrated.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.storage_url
    if backend_of(url) == "sqlite":
        return await open_store(url, busy_timeout_seconds=settings.storage.busy_timeout_seconds)
    return await open_store(
        url, min_size=settings.storage.pool_min_size, max_size=settings.storage.pool_max_size
    )


@asynccontextmanager
async def open_service(settings: Settings) -> AsyncIterator[Service]:
    """Open the store and the embedder of ``settings`` and yield a ``Service``; closes both on exit.

    The embedder starts loading in the background: this returns as soon as the store is open. The change
    bus follows the store's change feed (other processes' changes) until exit.

    Raises:
        StorageError: the store cannot be opened or migrated. A store indexed by another embedder opens
            with lexical search only (``EmbeddingGate``), until ``mcp-memory reindex``.
        ConfigError: ``encryption_key`` is not the key the store's confidential content was sealed with.
    """
    store = await open_configured_store(settings)
    drain: asyncio.Future[None] | None = None
    embeddings = EmbeddingGate(
        make_embedder(settings.embedder.provider, **settings.embedder.provider_options()),
        deferred=settings.embedder.deferred,
    )
    try:
        await embeddings.bind(store)
        changes = ChangeBus(store)
        service = Service(store, embeddings, settings, changes)
        await service.context.sealer.bind(store)
        embeddings.start_warmup()
        if embeddings.deferred:
            # A plain asyncio task, not a task group: the service may be entered and left by different
            # tasks (the MCP server's lifespan, test fixtures), which a cancel scope does not allow.
            drain = asyncio.ensure_future(embeddings.drain(service.context.sealer.reveal))
        async with changes.following():
            yield service
    finally:
        if drain is not None:
            drain.cancel()
            await asyncio.wait({drain}, timeout=DRAIN_STOP_SECONDS)
        await embeddings.aclose()
        await store.close()
