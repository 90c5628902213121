"""Snapshots, rollback, branches and merges on PostgreSQL (semantics: ``storage.contracts.versions``).

Each operation is one transaction that first locks the head rows of the namespaces it reads or writes
(in name order, so two operations cannot deadlock), then reads the change log and current state: no
write to those namespaces can commit in between. The rules come from ``storage.versioning``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from storage.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from storage.models import (
    BranchResult,
    Memory,
    MergeResult,
    Page,
    RollbackResult,
    Snapshot,
    new_id,
    utc_now,
    validate_fact_address,
)
from storage.paging import clamp_limit, decode_cursor, encode_cursor
from storage.postgres import changelog
from storage.postgres.facts import FactsMixin, current_facts
from storage.postgres.memories import PostgresMemories
from storage.postgres.rows import memory_from_row
from storage.scope import Scope
from storage.versioning import Change, RollbackPlan, merge_plan, rollback_plan

__all__ = ["VersionsMixin"]


def _snapshot(row: Mapping[str, Any]) -> Snapshot:
    return Snapshot(
        snapshot_id=row["snapshot_id"],
        namespace=row["namespace"],
        label=row["label"],
        seq=row["seq"],
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDeniedError(message)


def _clearance(levels: Sequence[int], scope: Scope, what: str) -> None:
    if levels and max(levels) > scope.max_sensitivity.level:
        raise PermissionDeniedError(
            f"{what} would change items above the clearance of {scope.agent!r} "
            f"({scope.max_sensitivity.value}); nothing was changed"
        )


def _keys(changes: Sequence[Change], item_type: str) -> list[str]:
    return sorted({c.item_key for c in changes if c.item_type == item_type})


async def _memories(
    conn: asyncpg.Connection, namespace: str, ids: Sequence[str] | None = None
) -> dict[str, tuple[Memory, bytes | None]]:
    """id -> (memory, embedding) of the namespace's memories (all, or those among ``ids``)."""
    sql = (
        "SELECT m.*, d.embedding AS embedding FROM memories AS m LEFT JOIN search_docs AS d"
        " ON d.item_type = 'memory' AND d.item_id = m.memory_id WHERE m.namespace = $1"
    )
    if ids is None:
        rows = await conn.fetch(sql, namespace)
    else:
        rows = await conn.fetch(sql + " AND m.memory_id = ANY($2::text[])", namespace, list(ids))
    return {r["memory_id"]: (memory_from_row(r), r["embedding"]) for r in rows}


async def _snapshot_row(conn: asyncpg.Connection, namespace: str, snapshot_id: str) -> Snapshot:
    row = await conn.fetchrow("SELECT * FROM snapshots WHERE snapshot_id = $1", snapshot_id)
    if row is None or row["namespace"] != namespace:
        raise NotFoundError("snapshot", snapshot_id)
    return _snapshot(row)


async def _plan_back(conn: asyncpg.Connection, namespace: str, seq: int) -> RollbackPlan:
    changes = await changelog.changes_since(conn, namespace, seq)
    existing = await _memories(conn, namespace, _keys(changes, "memory"))
    facts = await current_facts(conn, namespace, _keys(changes, "fact"))
    return rollback_plan(
        changes,
        {i: m.sensitivity.level for i, (m, _) in existing.items()},
        {k: state for k, (state, _) in facts.items()},
    )


class VersionsMixin(FactsMixin, PostgresMemories):
    """``VersionStore`` on PostgreSQL."""

    async def create_snapshot(self, namespace: str, label: str, *, scope: Scope | None = None) -> Snapshot:
        """Record the namespace's sequence number (after waiting for writers in flight)."""
        scope = scope or Scope.unrestricted()
        validate_fact_address(namespace, "x")
        if not 1 <= len(label) <= 200:
            raise InvalidInputError("a snapshot label has 1-200 characters")
        _require(scope.can_write(namespace), f"namespace {namespace!r} is not writable by {scope.agent!r}")
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
        return _snapshot(row)

    async def list_snapshots(
        self, namespace: str, *, limit: int = 50, cursor: str | None = None, scope: Scope | None = None
    ) -> Page[Snapshot]:
        """A namespace's snapshots newest first by ``(seq, snapshot_id)``."""
        scope = scope or Scope.unrestricted()
        if not scope.can_read(namespace):
            return Page[Snapshot](items=[])
        size = clamp_limit(limit)
        seq, last_id = decode_cursor(cursor, 2) if cursor is not None else (None, None)
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT * FROM snapshots WHERE namespace = $1"
                " AND ($2::bigint IS NULL OR (seq, snapshot_id) < ($2, $3::text))"
                " ORDER BY seq DESC, snapshot_id DESC LIMIT $4",
                namespace,
                None if seq is None else int(seq),
                None if last_id is None else str(last_id),
                size + 1,
            )
        items = [_snapshot(r) for r in rows[:size]]
        next_cursor = encode_cursor(items[-1].seq, items[-1].snapshot_id) if len(rows) > size else None
        return Page[Snapshot](items=items, next_cursor=next_cursor)

    async def _apply_back(
        self, conn: asyncpg.Connection, namespace: str, plan: RollbackPlan, actor: str
    ) -> None:
        for memory_id in plan.remove_memories:
            row = await conn.fetchrow("SELECT * FROM memories WHERE memory_id = $1", memory_id)
            await self._remove_memory(conn, memory_from_row(row), actor)
        for before, embedding in plan.restore_memories:
            memory = Memory.model_validate(before)
            await self._insert_memory(conn, memory, embedding)
            await changelog.record_memory_add(conn, memory, actor)
        for key, state in plan.put_facts.items():
            await self._write_fact(conn, namespace, key, state.value, state.sensitivity, actor)
        for key in plan.remove_facts:
            await self._remove_fact(conn, namespace, key, actor)

    async def rollback(
        self, namespace: str, snapshot_id: str, *, scope: Scope | None = None
    ) -> RollbackResult:
        """Return a namespace to a snapshot's state (see ``VersionStore.rollback``)."""
        scope = scope or Scope.unrestricted()
        async with self._transaction() as conn:
            snapshot = await _snapshot_row(conn, namespace, snapshot_id)
            _require(
                scope.can_write(namespace), f"namespace {namespace!r} is not writable by {scope.agent!r}"
            )
            await changelog.lock_head(conn, namespace)
            plan = await _plan_back(conn, namespace, snapshot.seq)
            _clearance(plan.touched_levels, scope, f"rolling {namespace!r} back")
            await self._apply_back(conn, namespace, plan, scope.agent)
            seq = await changelog.head(conn, namespace)
        return RollbackResult(
            namespace=namespace,
            snapshot_id=snapshot_id,
            memories_removed=len(plan.remove_memories),
            memories_restored=len(plan.restore_memories),
            facts_restored=len(plan.put_facts),
            facts_removed=len(plan.remove_facts),
            seq=seq,
        )

    async def _copy_memory(
        self,
        conn: asyncpg.Connection,
        memory: Memory,
        embedding: bytes | None,
        into: str,
        branch: str,
        actor: str,
    ) -> str:
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
        return copy.memory_id

    async def branch(
        self, namespace: str, snapshot_id: str, new_namespace: str, *, scope: Scope | None = None
    ) -> BranchResult:
        """Fork a namespace at a snapshot into an empty one (see ``VersionStore.branch``)."""
        scope = scope or Scope.unrestricted()
        validate_fact_address(new_namespace, "x")
        if new_namespace == namespace:
            raise InvalidInputError("a branch needs a new namespace, not the one it forks")
        _require(scope.can_read(namespace), f"namespace {namespace!r} is not readable by {scope.agent!r}")
        _require(
            scope.can_write(new_namespace), f"namespace {new_namespace!r} is not writable by {scope.agent!r}"
        )
        async with self._transaction() as conn:
            snapshot = await _snapshot_row(conn, namespace, snapshot_id)
            for name in sorted((namespace, new_namespace)):
                await changelog.lock_head(conn, name)
            busy = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM memories WHERE namespace = $1)"
                " OR EXISTS (SELECT 1 FROM facts WHERE namespace = $1)"
                " OR EXISTS (SELECT 1 FROM branches WHERE namespace = $1)",
                new_namespace,
            )
            if busy:
                raise ConflictError(
                    f"namespace {new_namespace!r} is not empty (or is a branch already): pick a new name"
                )
            plan = await _plan_back(conn, namespace, snapshot.seq)
            memories = await _memories(conn, namespace)
            for memory_id in plan.remove_memories:
                memories.pop(memory_id, None)
            for before, embedding in plan.restore_memories:
                restored = Memory.model_validate(before)
                memories[restored.memory_id] = (restored, embedding)
            facts = {k: state for k, (state, _) in (await current_facts(conn, namespace)).items()}
            facts.update(plan.put_facts)
            for key in plan.remove_facts:
                facts.pop(key, None)
            levels = [m.sensitivity.level for m, _ in memories.values()]
            _clearance(
                levels + [s.sensitivity.level for s in facts.values()], scope, f"branching {namespace!r}"
            )
            for memory, embedding in sorted(
                memories.values(), key=lambda me: (me[0].created_at, me[0].memory_id)
            ):
                await self._copy_memory(conn, memory, embedding, new_namespace, new_namespace, scope.agent)
            for key in sorted(facts):
                await self._write_fact(
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
        """Apply a branch's changes to its origin (see ``VersionStore.merge``)."""
        scope = scope or Scope.unrestricted()
        async with self._transaction() as conn:
            for name in sorted((branch, into)):
                await changelog.lock_head(conn, name)
            row = await conn.fetchrow("SELECT * FROM branches WHERE namespace = $1 FOR UPDATE", branch)
            if row is None:
                raise NotFoundError("branch", branch)
            if row["origin"] != into:
                raise InvalidInputError(
                    f"{branch!r} branches from {row['origin']!r}: merge it into that namespace"
                )
            _require(scope.can_read(branch), f"namespace {branch!r} is not readable by {scope.agent!r}")
            _require(scope.can_write(into), f"namespace {into!r} is not writable by {scope.agent!r}")
            branch_changes = await changelog.changes_since(conn, branch, int(row["fork_seq"]))
            target_changes = await changelog.changes_since(conn, into, int(row["base_seq"]))
            memory_ids = _keys(branch_changes, "memory")
            branch_memories = await _memories(conn, branch, memory_ids)
            mapped = await conn.fetch(
                "SELECT memory_id, origin_memory_id FROM branch_memories"
                " WHERE namespace = $1 AND memory_id = ANY($2::text[])",
                branch,
                memory_ids,
            )
            origin_of = {r["memory_id"]: r["origin_memory_id"] for r in mapped}
            target_memories = await _memories(conn, into, sorted(set(origin_of.values())))
            fact_keys = _keys(branch_changes, "fact")
            branch_facts = {k: s for k, (s, _) in (await current_facts(conn, branch, fact_keys)).items()}
            target_facts = await current_facts(conn, into, fact_keys)
            plan = merge_plan(
                branch_changes,
                set(branch_memories),
                branch_facts,
                origin_of,
                target_changes,
                set(target_memories),
                target_facts,
            )
            levels = [c.level for c in branch_changes] + [
                s.sensitivity.level for s, _ in target_facts.values()
            ]
            _clearance(levels, scope, f"merging {branch!r} into {into!r}")
            for memory_id in plan.add_memories:
                memory, embedding = branch_memories[memory_id]
                await self._copy_memory(conn, memory, embedding, into, branch, scope.agent)
            for memory_id in plan.remove_memories:
                await self._remove_memory(conn, target_memories[memory_id][0], scope.agent)
            for key, state in plan.put_facts.items():
                await self._write_fact(conn, into, key, state.value, state.sensitivity, scope.agent)
            for key in plan.remove_facts:
                await self._remove_fact(conn, into, key, scope.agent)
            await conn.execute(
                "UPDATE branches SET base_seq = $2, fork_seq = $3, merged_at = $4 WHERE namespace = $1",
                branch,
                await changelog.head(conn, into),
                await changelog.head(conn, branch),
                utc_now(),
            )
        return MergeResult(
            branch=branch,
            into=into,
            memories_added=len(plan.add_memories),
            memories_removed=len(plan.remove_memories),
            facts_set=len(plan.put_facts),
            facts_removed=len(plan.remove_facts),
            conflicts=plan.conflicts,
        )
