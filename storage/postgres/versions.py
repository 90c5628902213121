"""Snapshots, rollback, branches and merges on PostgreSQL: ``PostgresVersions``.

Semantics: ``storage.contracts.versions``; what to change comes from ``storage.versioning``. Each
operation is one transaction that first locks the head rows of the namespaces it reads or writes (in name
order, so two operations cannot deadlock), then reads the change log and current state: no write to those
namespaces can commit in between.
"""

from __future__ import annotations

import asyncpg

from storage import versioning
from storage.errors import NotFoundError
from storage.models import (
    BranchResult,
    Memory,
    MergeResult,
    RollbackResult,
    Snapshot,
    new_id,
    utc_now,
)
from storage.postgres import changelog
from storage.postgres.core import run_postgres_plan
from storage.postgres.facts import remove_fact, write_fact
from storage.postgres.filters import PostgresParams
from storage.postgres.memories import PostgresMemories
from storage.postgres.rows import ROWS
from storage.queries.reader import Dialect
from storage.queries.versions import (
    VersionQueries,
    back_plan,
    branch_source_plan,
    merge_reads_plan,
    snapshot_plan,
)
from storage.scope import Scope

__all__ = ["PostgresVersions"]

_DIALECT = Dialect(PostgresParams, ROWS)


async def _snapshot_row(conn: asyncpg.Connection, namespace: str, snapshot_id: str) -> Snapshot:
    return await run_postgres_plan(conn, snapshot_plan(_DIALECT, namespace, snapshot_id))


async def _plan_back(conn: asyncpg.Connection, namespace: str, seq: int) -> versioning.RollbackPlan:
    return await run_postgres_plan(conn, back_plan(_DIALECT, namespace, seq))


class PostgresVersions(VersionQueries, PostgresMemories):
    """``VersionStore`` on PostgreSQL (memories are restored and copied through the memories area)."""

    async def create_snapshot(self, namespace: str, label: str, *, scope: Scope | None = None) -> Snapshot:
        """Record the namespace's sequence number (after waiting for writers in flight)."""
        scope = scope or Scope.unrestricted()
        versioning.check_snapshot_label(namespace, label, scope)
        async with self._transaction() as conn:
            seq = await changelog.lock_head(conn, namespace)
            row = await conn.fetchrow(
                "INSERT INTO snapshots (snapshot_id, namespace, label, seq, created_by, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
                new_id("snap"),
                namespace,
                label,
                seq,
                scope.agent,
                utc_now(),
            )
        return ROWS.snapshot(row)

    async def _apply_back(
        self, conn: asyncpg.Connection, namespace: str, plan: versioning.RollbackPlan, actor: str
    ) -> None:
        for memory_id in plan.remove_memories:
            row = await conn.fetchrow("SELECT * FROM memories WHERE memory_id = $1", memory_id)
            await self._remove_memory(conn, ROWS.memory(row), actor)
        for before, embedding in plan.restore_memories:
            memory = Memory.model_validate(before)
            await self._insert_memory(conn, memory, embedding)
            await changelog.record_memory_add(conn, memory, actor)
        for key, state in plan.put_facts.items():
            await write_fact(conn, namespace, key, state.value, state.sensitivity, actor)
        for key in plan.remove_facts:
            await remove_fact(conn, namespace, key, actor)

    async def rollback(
        self, namespace: str, snapshot_id: str, *, scope: Scope | None = None
    ) -> RollbackResult:
        scope = scope or Scope.unrestricted()
        async with self._transaction() as conn:
            snapshot = await _snapshot_row(conn, namespace, snapshot_id)
            versioning.require_write(scope, namespace)
            await changelog.lock_head(conn, namespace)
            plan = await _plan_back(conn, namespace, snapshot.seq)
            versioning.check_clearance(plan.touched_levels, scope, f"rolling {namespace!r} back")
            await self._apply_back(conn, namespace, plan, scope.agent)
            seq = await changelog.head(conn, namespace)
        return versioning.rollback_result(namespace, snapshot_id, plan, seq)

    async def _copy_memory(
        self,
        conn: asyncpg.Connection,
        memory: Memory,
        embedding: bytes | None,
        into: str,
        branch: str,
        actor: str,
    ) -> None:
        """Copy a memory into namespace ``into`` under a new id and log it; map it for ``branch``."""
        copy = memory.model_copy(update={"memory_id": new_id("mem"), "namespace": into})
        await self._insert_memory(conn, copy, embedding)
        await changelog.record_memory_add(conn, copy, actor)
        pair = (copy.memory_id, memory.memory_id) if into == branch else (memory.memory_id, copy.memory_id)
        await conn.execute(
            "INSERT INTO branch_memories (namespace, memory_id, origin_memory_id) VALUES ($1, $2, $3)",
            branch,
            *pair,
        )

    async def branch(
        self, namespace: str, snapshot_id: str, new_namespace: str, *, scope: Scope | None = None
    ) -> BranchResult:
        scope = scope or Scope.unrestricted()
        versioning.check_branch_names(namespace, new_namespace, scope)
        async with self._transaction() as conn:
            snapshot = await _snapshot_row(conn, namespace, snapshot_id)
            for name in sorted((namespace, new_namespace)):
                await changelog.lock_head(conn, name)
            memories, facts = await run_postgres_plan(
                conn, branch_source_plan(_DIALECT, namespace, new_namespace, snapshot.seq, scope)
            )
            for memory, embedding in memories:
                await self._copy_memory(conn, memory, embedding, new_namespace, new_namespace, scope.agent)
            for key in sorted(facts):
                await write_fact(
                    conn, new_namespace, key, facts[key].value, facts[key].sensitivity, scope.agent
                )
            await conn.execute(
                "INSERT INTO branches (namespace, origin, snapshot_id, base_seq, fork_seq, created_by, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                new_namespace,
                namespace,
                snapshot_id,
                snapshot.seq,
                await changelog.head(conn, new_namespace),
                scope.agent,
                utc_now(),
            )
        return BranchResult(
            branch=new_namespace,
            origin=namespace,
            snapshot_id=snapshot_id,
            memories_copied=len(memories),
            facts_copied=len(facts),
        )

    async def merge(self, branch: str, into: str, *, scope: Scope | None = None) -> MergeResult:
        scope = scope or Scope.unrestricted()
        async with self._transaction() as conn:
            for name in sorted((branch, into)):
                await changelog.lock_head(conn, name)
            row = await conn.fetchrow("SELECT * FROM branches WHERE namespace = $1 FOR UPDATE", branch)
            if row is None:
                raise NotFoundError("branch", branch)
            versioning.check_merge(row["origin"], branch, into, scope)
            reads = await run_postgres_plan(
                conn,
                merge_reads_plan(_DIALECT, branch, into, int(row["fork_seq"]), int(row["base_seq"]), scope),
            )
            plan = reads.plan
            for memory_id in plan.add_memories:
                memory, embedding = reads.branch_memories[memory_id]
                await self._copy_memory(conn, memory, embedding, into, branch, scope.agent)
            for memory_id in plan.remove_memories:
                await self._remove_memory(conn, reads.target_memories[memory_id][0], scope.agent)
            for key, state in plan.put_facts.items():
                await write_fact(conn, into, key, state.value, state.sensitivity, scope.agent)
            for key in plan.remove_facts:
                await remove_fact(conn, into, key, scope.agent)
            await conn.execute(
                "UPDATE branches SET base_seq = $2, fork_seq = $3, merged_at = $4 WHERE namespace = $1",
                branch,
                await changelog.head(conn, into),
                await changelog.head(conn, branch),
                utc_now(),
            )
        return versioning.merge_result(branch, into, plan)
