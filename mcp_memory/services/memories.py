"""Memories: remember, search by meaning and words, forget."""

from __future__ import annotations

from typing import Any

from mcp_memory.auth import Principal
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.changes import memory_uri, namespace_memories_uri
from mcp_memory.services.context import ServiceContext
from mcp_memory.services.embedding import document_text
from mcp_memory.services.limits import fit_to_budget
from mcp_memory.services.results import MemoryPage, SearchResultItem, SearchResults
from mcp_memory.services.retention import decay_rules
from storage import InvalidInputError, NotFoundError, PermissionDeniedError
from storage.kinds import check_kind
from storage.models import (
    DecayRule,
    Memory,
    MemoryFilter,
    NewMemory,
    NewSession,
    SearchHit,
    SearchRequest,
    Sensitivity,
    Session,
)

__all__ = ["MemoryService"]

GROUP = "memories"
#: The group of working sessions (create and read them; memories carry their id).
SESSIONS_GROUP = "sessions"

#: Longest content returned per search result; the full text is at ``memory://memories/{id}``.
MAX_RESULT_CONTENT_CHARS = 2_000


class MemoryService(AuditedArea, area="memories"):
    """Long-term memories in namespaces, searched by hybrid retrieval inside the store."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def default_namespace(self, principal: Principal) -> str:
        """The agent's private namespace, ``agent-{agent}`` (lowercased)."""
        return f"agent-{principal.agent.lower()}"

    async def remember(
        self,
        principal: Principal,
        content: str,
        *,
        namespace: str | None = None,
        kind: str = "note",
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        sensitivity: Sensitivity = Sensitivity.INTERNAL,
        importance: float = 0.5,
        session_id: str | None = None,
        room_id: str | None = None,
        task_id: str | None = None,
    ) -> Memory:
        """Store a memory written by the caller (default namespace: the session's, when ``session_id`` names a
        session the caller may read, else the caller's private one).

        ``kind`` is one of ``storage.kinds.MEMORY_KINDS``; the learning signals ``success``, ``failure``,
        ``pattern`` and ``recommendation`` are retrieved by context later through ``search``'s filters.

        Raises:
            InvalidInputError: unknown ``kind``.
            PermissionDeniedError: the namespace is not writable for the caller, or the sensitivity is
                above its clearance.
            NotFoundError: ``room_id`` names no room.
        """
        self._ctx.require_group(principal, GROUP)
        self._ctx.require_clearance(principal, sensitivity)
        _require_known_kinds([kind])
        scope = principal.scope()
        target = (
            namespace
            or await self._session_namespace(principal, session_id)
            or self.default_namespace(principal)
        )
        if not scope.can_write(target):
            raise PermissionDeniedError(
                f"agent {principal.agent!r} may not write namespace {target!r}; writable: "
                f"{', '.join(scope.write_namespaces)}"
            )
        if room_id is not None:
            await self._ctx.store.get_room(room_id, scope=scope)
        sealer = self._ctx.sealer
        new = NewMemory(
            namespace=target,
            content=sealer.seal(content, sensitivity, kind="memory"),
            kind=kind,
            tags=tags or [],
            metadata=metadata or {},
            sensitivity=sensitivity,
            importance=importance,
            session_id=session_id,
            room_id=room_id,
            task_id=task_id,
            author=principal.agent,
        )
        # The vector is of the plain text (what ``document_text`` makes of it), never of the sealed content.
        embedding = await self._ctx.embeddings.embed_for_write(
            document_text(new.model_copy(update={"content": content}))
        )
        memory = await self._ctx.store.add_memory(new, embedding, scope=scope)
        if embedding is None:
            self._ctx.embeddings.queued()
        await self._ctx.changes.publish(
            memory_uri(memory.memory_id), namespace_memories_uri(memory.namespace)
        )
        return sealer.reveal(memory)

    async def create_session(
        self,
        principal: Principal,
        *,
        namespace: str | None = None,
        metadata: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Session:
        """Open a working session in ``namespace`` (default: the caller's private one) with ``metadata``.

        Remember with its ``session_id`` to file memories in it (they default to its namespace); search and
        list them with the same ``session_id``.

        Raises:
            PermissionDeniedError: the namespace is not writable for the caller.
            ConflictError: ``session_id`` is taken.
        """
        self._ctx.require_group(principal, SESSIONS_GROUP)
        return await self._ctx.store.create_session(
            NewSession(
                session_id=session_id,
                namespace=namespace or self.default_namespace(principal),
                metadata=metadata or {},
                created_by=principal.agent,
            ),
            scope=principal.scope(),
        )

    async def get_session(self, principal: Principal, session_id: str) -> Session:
        """Return a session whose namespace the caller reads. Raises: NotFoundError."""
        self._ctx.require_group(principal, SESSIONS_GROUP)
        return await self._ctx.store.get_session(session_id, scope=principal.scope())

    async def _session_namespace(self, principal: Principal, session_id: str | None) -> str | None:
        """The namespace of the session ``session_id`` if it is a session the caller may read."""
        if session_id is None:
            return None
        try:
            return (await self._ctx.store.get_session(session_id, scope=principal.scope())).namespace
        except NotFoundError:
            return None  # a free-form session id (no session record): the default namespace applies

    async def search(self, principal: Principal, request: SearchRequest) -> SearchResults:
        """Hybrid search (lexical + vector, fused by RRF) inside the caller's scope.

        Results are cut to the response budget; long contents are shortened (``truncated`` is set).

        Raises:
            InvalidInputError: an unknown kind in ``request.kinds``.
        """
        self._ctx.require_group(principal, GROUP)
        _require_known_kinds(request.kinds)
        limits = self._ctx.settings.limits
        request = request.model_copy(
            update={"limit": self._ctx.page_size(request.limit), "decay_rules": self._decay_rules()}
        )
        vector = await self._ctx.embeddings.embed_query(request.query)
        hits = await self._ctx.store.search(request, vector, scope=principal.scope())
        items = [_as_item(self._ctx.sealer.reveal(hit)) for hit in hits]
        kept, cut = fit_to_budget(items, limits.max_chars_per_response)
        return SearchResults(
            query=request.query,
            mode="hybrid" if vector is not None else "lexical",
            results=kept,
            cut_to_fit=cut,
        )

    def _decay_rules(self) -> list[DecayRule]:
        """Namespace decay from the ``[retention]`` config (see ``services.retention.decay_rules``)."""
        return decay_rules(self._ctx.settings)

    async def get_memory(self, principal: Principal, memory_id: str) -> Memory:
        """Return one memory visible to the caller. Raises: NotFoundError."""
        self._ctx.require_group(principal, GROUP)
        return self._ctx.sealer.reveal(await self._ctx.store.get_memory(memory_id, scope=principal.scope()))

    async def list_memories(
        self, principal: Principal, filters: MemoryFilter, *, limit: int = 20, cursor: str | None = None
    ) -> MemoryPage:
        """List visible memories matching ``filters`` (no query: works without an embedder), newest first.

        Raises:
            InvalidInputError: an unknown kind in ``filters.kinds``, or a bad cursor.
        """
        self._ctx.require_group(principal, GROUP)
        _require_known_kinds(filters.kinds)
        limit = self._ctx.page_size(limit)
        page = await self._ctx.store.list_memories(
            filters, limit=limit, cursor=cursor, scope=principal.scope()
        )
        return MemoryPage(memories=self._ctx.sealer.reveal(page.items), next_cursor=page.next_cursor)

    async def namespace_memories(
        self, principal: Principal, namespace: str, *, limit: int = 20
    ) -> MemoryPage:
        """The newest memories of one namespace (the resource ``memory://namespaces/{namespace}/memories``).

        Raises:
            PermissionDeniedError: the caller may not read ``namespace``.
        """
        self._ctx.require_group(principal, GROUP)
        scope = principal.scope()
        if not scope.can_read(namespace):
            raise PermissionDeniedError(
                f"agent {principal.agent!r} may not read namespace {namespace!r}; readable: "
                f"{', '.join(scope.read_namespaces) or 'none'}"
            )
        return await self.list_memories(principal, MemoryFilter(namespaces=[namespace]), limit=limit)

    async def forget(self, principal: Principal, memory_id: str) -> Memory:
        """Delete a memory the caller may write; returns what was deleted.

        Raises:
            NotFoundError: not visible to the caller.
            PermissionDeniedError: visible but in a namespace the caller may not write.
        """
        self._ctx.require_group(principal, GROUP)
        memory = await self._ctx.store.delete_memory(memory_id, scope=principal.scope())
        await self._ctx.changes.publish(
            memory_uri(memory.memory_id), namespace_memories_uri(memory.namespace)
        )
        return self._ctx.sealer.reveal(memory)


def _require_known_kinds(kinds: list[str]) -> None:
    for kind in kinds:
        problem = check_kind(kind)
        if problem is not None:
            raise InvalidInputError(problem)


def _as_item(hit: SearchHit) -> SearchResultItem:
    if hit.memory is not None:
        m = hit.memory
        content, truncated = _shorten(m.content)
        return SearchResultItem(
            type="memory",
            id=m.memory_id,
            score=round(hit.score, 6),
            content=content,
            truncated=truncated,
            at=m.created_at,
            namespace=m.namespace,
            kind=m.kind,
            tags=m.tags,
            room_id=m.room_id,
            author=m.author,
            sensitivity=m.sensitivity.value,
        )
    assert hit.event is not None
    e = hit.event
    content, truncated = _shorten(e.content)
    return SearchResultItem(
        type="event",
        id=e.event_id,
        score=round(hit.score, 6),
        content=content,
        truncated=truncated,
        at=e.occurred_at,
        kind=e.type,
        room_id=e.room_id,
        index=e.index,
        author=e.source.agent,
        sensitivity=e.sensitivity.value,
    )


def _shorten(text: str) -> tuple[str, bool]:
    if len(text) <= MAX_RESULT_CONTENT_CHARS:
        return text, False
    return text[: MAX_RESULT_CONTENT_CHARS - 1] + "…", True
