"""Governance tools: snapshot, roll back, branch and merge a namespace's memories and facts."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.versions import SnapshotPage
from mcp_memory.tools._common import DESTRUCTIVE, READ, WRITE, Cursor, caller, page_limit
from storage.models import BranchResult, MergeResult, RollbackResult, Snapshot

Namespace = Annotated[str, Field(description="e.g. shared-customer-context", max_length=128)]
SnapshotId = Annotated[str, Field(description="snapshot_id from snapshot_namespace.", max_length=128)]


def register(server: MCPServer[Any]) -> None:
    """Register the snapshot/rollback/branch/merge tools on ``server``."""

    @server.tool(annotations=WRITE)
    async def snapshot_namespace(
        ctx: Context[Any, Any],
        namespace: Namespace,
        label: Annotated[
            str, Field(description="Why, e.g. before bulk import.", min_length=1, max_length=200)
        ],
    ) -> Snapshot:
        """Record a namespace's memories and facts before a risky change, so you can roll back to it."""
        service, me = caller(ctx)
        return await service.versions.snapshot(me, namespace, label)

    @server.tool(annotations=READ)
    async def list_snapshots(
        ctx: Context[Any, Any],
        namespace: Namespace,
        limit: Annotated[int, page_limit(50)] = 20,
        cursor: Cursor = None,
    ) -> SnapshotPage:
        """List a namespace's snapshots, newest first, to pick one to roll back to or branch from."""
        service, me = caller(ctx)
        return await service.versions.list_snapshots(me, namespace, limit=limit, cursor=cursor)

    @server.tool(annotations=DESTRUCTIVE)
    async def rollback_namespace(
        ctx: Context[Any, Any], namespace: Namespace, snapshot_id: SnapshotId
    ) -> RollbackResult:
        """Undo everything written to a namespace since a snapshot (memories and facts), e.g. a bad import."""
        service, me = caller(ctx)
        return await service.versions.rollback(me, namespace, snapshot_id)

    @server.tool(annotations=WRITE)
    async def branch_namespace(
        ctx: Context[Any, Any],
        namespace: Namespace,
        snapshot_id: SnapshotId,
        new_namespace: Annotated[str, Field(description="An empty namespace you may write.", max_length=128)],
    ) -> BranchResult:
        """Copy a namespace as of a snapshot into a new one, to try a corrected belief without touching it."""
        service, me = caller(ctx)
        return await service.versions.branch(me, namespace, snapshot_id, new_namespace)

    @server.tool(annotations=WRITE)
    async def merge_branch(
        ctx: Context[Any, Any],
        branch: Annotated[str, Field(description="The branch namespace.", max_length=128)],
        into: Annotated[str, Field(description="The namespace it was branched from.", max_length=128)],
    ) -> MergeResult:
        """Apply a branch's changes back to its origin; facts changed on both sides come back as conflicts."""
        service, me = caller(ctx)
        return await service.versions.merge(me, branch, into)
