"""Namespace governance: snapshots, rollback, branches and merges of memories and facts.

Permissions: taking a snapshot and rolling back need write access to the namespace; branching needs
read access to the namespace and write access to the new one; merging needs read access to the branch
and write access to the target. Each also needs clearance for every item it copies or changes.
Snapshots publish ``memory://snapshots/{namespace}``; rollback, branch and merge publish the changed
namespace's ``memory://facts/{namespace}``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from mcp_memory.auth import Principal
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.changes import namespace_memories_uri
from mcp_memory.services.context import ServiceContext
from mcp_memory.services.facts import facts_uri
from storage import PermissionDeniedError
from storage.models import BranchResult, MergeResult, RollbackResult, Snapshot

__all__ = ["SnapshotPage", "VersionService", "snapshots_uri"]

GROUP = "snapshots"


def snapshots_uri(namespace: str) -> str:
    """``memory://snapshots/{namespace}``: a namespace's snapshots (published when one is taken)."""
    return f"memory://snapshots/{namespace}"


class SnapshotPage(BaseModel):
    """A namespace's snapshots, newest first; pass ``next_cursor`` back for the next page."""

    model_config = ConfigDict(frozen=True)

    snapshots: list[Snapshot]
    next_cursor: str | None


class VersionService(AuditedArea, area="versions"):
    """ "Git for agent memory" over a namespace's memories and facts (see ``docs/versioning.md``)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def _need(self, principal: Principal, namespace: str, *, write: bool) -> None:
        scope = principal.scope()
        allowed = scope.can_write(namespace) if write else scope.can_read(namespace)
        if not allowed:
            raise PermissionDeniedError(
                f"agent {principal.agent!r} may not {'write' if write else 'read'} namespace {namespace!r}"
            )

    async def snapshot(self, principal: Principal, namespace: str, label: str) -> Snapshot:
        """Record the namespace's current state (O(1): a change-log position). Raises: PermissionDeniedError."""
        self._ctx.require_group(principal, GROUP)
        self._need(principal, namespace, write=True)
        snapshot = await self._ctx.store.create_snapshot(namespace, label, scope=principal.scope())
        await self._ctx.changes.publish(snapshots_uri(namespace))
        return snapshot

    async def list_snapshots(
        self, principal: Principal, namespace: str, *, limit: int = 20, cursor: str | None = None
    ) -> SnapshotPage:
        """List a namespace's snapshots, newest first. Raises: PermissionDeniedError."""
        self._ctx.require_group(principal, GROUP)
        self._need(principal, namespace, write=False)
        page = await self._ctx.store.list_snapshots(
            namespace, limit=self._ctx.page_size(limit), cursor=cursor, scope=principal.scope()
        )
        return SnapshotPage(snapshots=page.items, next_cursor=page.next_cursor)

    async def rollback(self, principal: Principal, namespace: str, snapshot_id: str) -> RollbackResult:
        """Return the namespace's memories and facts to a snapshot.

        Raises:
            NotFoundError: no such snapshot of the namespace.
            PermissionDeniedError: not writable, or an affected item is above the caller's clearance.
        """
        self._ctx.require_group(principal, GROUP)
        self._need(principal, namespace, write=True)
        result = await self._ctx.store.rollback(namespace, snapshot_id, scope=principal.scope())
        await self._ctx.changes.publish(facts_uri(namespace), namespace_memories_uri(namespace))
        return result

    async def branch(
        self, principal: Principal, namespace: str, snapshot_id: str, new_namespace: str
    ) -> BranchResult:
        """Fork a namespace as of a snapshot into a new, empty namespace.

        Raises:
            NotFoundError: no such snapshot. ConflictError: the new namespace is not empty.
            PermissionDeniedError: source not readable, new namespace not writable, or clearance.
        """
        self._ctx.require_group(principal, GROUP)
        self._need(principal, namespace, write=False)
        self._need(principal, new_namespace, write=True)
        result = await self._ctx.store.branch(namespace, snapshot_id, new_namespace, scope=principal.scope())
        await self._ctx.changes.publish(facts_uri(new_namespace), namespace_memories_uri(new_namespace))
        return result

    async def merge(self, principal: Principal, branch: str, into: str) -> MergeResult:
        """Apply a branch's changes to its origin; facts changed on both sides are reported, not written.

        Raises:
            NotFoundError: not a branch. InvalidInputError: ``into`` is not its origin.
            PermissionDeniedError: branch not readable, target not writable, or clearance.
        """
        self._ctx.require_group(principal, GROUP)
        self._need(principal, branch, write=False)
        self._need(principal, into, write=True)
        result = await self._ctx.store.merge(branch, into, scope=principal.scope())
        await self._ctx.changes.publish(facts_uri(into), namespace_memories_uri(into))
        return result
