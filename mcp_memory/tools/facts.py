"""Fact tools: versioned key-value facts with optimistic concurrency and history."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from mcp_memory.services.facts import FactHistory, FactPage
from mcp_memory.tools._common import (
    DESTRUCTIVE,
    MAX_SQL_INTEGER,
    READ,
    WRITE,
    Cursor,
    SensitivityArg,
    caller,
    page_limit,
)
from storage.models import FACT_KEY_PATTERN, Fact, Sensitivity

Namespace = Annotated[str, Field(description="e.g. shared-customer-context", max_length=128)]
Key = Annotated[str, Field(description="e.g. refund-policy", max_length=200, pattern=FACT_KEY_PATTERN)]


def register(server: MCPServer[Any]) -> None:
    """Register the fact tools on ``server``."""

    @server.tool(annotations=READ)
    async def get_fact(ctx: Context[Any, Any], namespace: Namespace, key: Key) -> Fact:
        """Read one fact (its value and the version to send back when you change it)."""
        service, me = caller(ctx)
        return await service.facts.get_fact(me, namespace, key)

    @server.tool(annotations=WRITE)
    async def set_fact(
        ctx: Context[Any, Any],
        namespace: Namespace,
        key: Key,
        value: Annotated[Any, Field(description="Any JSON value except null.")],
        expected_version: Annotated[
            int,
            Field(description="The version you last read; 0 creates a new fact.", ge=0, le=MAX_SQL_INTEGER),
        ] = 0,
        sensitivity: SensitivityArg = Sensitivity.INTERNAL,
    ) -> Fact:
        """Create or change a shared fact safely: a stale expected_version fails and returns the current one."""
        service, me = caller(ctx)
        return await service.facts.set_fact(
            me, namespace, key, value, expected_version=expected_version, sensitivity=sensitivity
        )

    @server.tool(annotations=DESTRUCTIVE)
    async def delete_fact(
        ctx: Context[Any, Any],
        namespace: Namespace,
        key: Key,
        expected_version: Annotated[
            int | None, Field(description="Only delete if still at this version.", ge=1, le=MAX_SQL_INTEGER)
        ] = None,
    ) -> Fact:
        """Delete a fact that no longer holds; its history is kept. Returns the deleted fact."""
        service, me = caller(ctx)
        return await service.facts.delete_fact(me, namespace, key, expected_version=expected_version)

    @server.tool(annotations=READ)
    async def list_facts(
        ctx: Context[Any, Any],
        namespace: Namespace,
        prefix: Annotated[
            str | None, Field(description="Only keys starting with this.", max_length=200)
        ] = None,
        limit: Annotated[int, page_limit(50)] = 50,
        cursor: Cursor = None,
    ) -> FactPage:
        """List the facts of a namespace by key, with their values and versions."""
        service, me = caller(ctx)
        return await service.facts.list_facts(me, namespace, prefix=prefix, limit=limit, cursor=cursor)

    @server.tool(annotations=READ)
    async def fact_history(
        ctx: Context[Any, Any],
        namespace: Namespace,
        key: Key,
        limit: Annotated[int, page_limit(50)] = 20,
        before_version: Annotated[
            int | None, Field(description="Page back: versions below this.", ge=1, le=MAX_SQL_INTEGER)
        ] = None,
    ) -> FactHistory:
        """See how a fact changed over time (who set which value at which version), newest first."""
        service, me = caller(ctx)
        return await service.facts.fact_history(
            me, namespace, key, limit=limit, before_version=before_version
        )
