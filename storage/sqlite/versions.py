"""Snapshots, rollback, branches and merges on SQLite: ``SQLiteVersions``.

Semantics: ``storage.contracts.versions``; what to change comes from ``storage.versioning``. Each
operation is one write transaction; SQLite's single writer means no other write to any namespace
interleaves with it.
"""

from __future__ import annotations

from typing import Any

import apsw

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
from storage.queries.reader import Dialect
from storage.queries.versions import (
    VersionQueries,
    back_plan,
    branch_source_plan,
    merge_reads_plan,
    snapshot_plan,
)
from storage.scope import Scope
from storage.sqlite import changelog
from storage.sqlite.core import SQLiteCore, run_sqlite_plan
from storage.sqlite.facts import remove_fact, write_fact
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.memories import insert_memory, remove_memory
from storage.sqlite.rows import ROWS, fetch_one, ts

__all__ = ["SQLiteVersions"]

Row = dict[str, Any]
_DIALECT = Dialect(SQLiteParams, ROWS)


def _snapshot_row(conn: apsw.Connection, namespace: str, snapshot_id: str) -> Snapshot:
    return run_sqlite_plan(conn, snapshot_plan(_DIALECT, namespace, snapshot_id))


def _plan_back(conn: apsw.Connection, namespace: str, seq: int) -> versioning.RollbackPlan:
    return run_sqlite_plan(conn, back_plan(_DIALECT, namespace, seq))


def _create_snapshot(conn: apsw.Connection, namespace: str, label: str, scope: Scope) -> Snapshot:
    snapshot_id = new_id("snap")
    conn.execute(
        "INSERT INTO snapshots (snapshot_id, namespace, label, seq, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (snapshot_id, namespace, label, changelog.head(conn, namespace), scope.agent, ts(utc_now())),
    )
    return _snapshot_row(conn, namespace, snapshot_id)


def _apply_back(conn: apsw.Connection, namespace: str, plan: versioning.RollbackPlan, actor: str) -> None:
    for memory_id in plan.remove_memories:
        row = fetch_one(conn, "SELECT * FROM memories WHERE memory_id = ?", (memory_id,))
        assert row is not None
        remove_memory(conn, ROWS.memory(row), actor)
    for before, embedding in plan.restore_memories:
        memory = Memory.model_validate(before)
        insert_memory(conn, memory, embedding)
        changelog.record_memory_add(conn, memory, actor)
    for key, state in plan.put_facts.items():
        write_fact(conn, namespace, key, state.value, state.sensitivity, actor)
    for key in plan.remove_facts:
        remove_fact(conn, namespace, key, actor)


def _rollback(conn: apsw.Connection, namespace: str, snapshot_id: str, scope: Scope) -> RollbackResult:
    snapshot = _snapshot_row(conn, namespace, snapshot_id)
    versioning.require_write(scope, namespace)
    plan = _plan_back(conn, namespace, snapshot.seq)
    versioning.check_clearance(plan.touched_levels, scope, f"rolling {namespace!r} back")
    _apply_back(conn, namespace, plan, scope.agent)
    return versioning.rollback_result(namespace, snapshot_id, plan, changelog.head(conn, namespace))


def _copy_memory(
    conn: apsw.Connection, memory: Memory, embedding: bytes | None, into: str, branch: str, actor: str
) -> None:
    """Copy a memory into namespace ``into`` under a new id and log it; map it for ``branch``."""
    copy = memory.model_copy(update={"memory_id": new_id("mem"), "namespace": into})
    insert_memory(conn, copy, embedding)
    changelog.record_memory_add(conn, copy, actor)
    pair = (copy.memory_id, memory.memory_id) if into == branch else (memory.memory_id, copy.memory_id)
    conn.execute(
        "INSERT INTO branch_memories (namespace, memory_id, origin_memory_id) VALUES (?, ?, ?)",
        (branch, *pair),
    )


def _branch(
    conn: apsw.Connection, namespace: str, snapshot_id: str, new_namespace: str, scope: Scope
) -> BranchResult:
    snapshot = _snapshot_row(conn, namespace, snapshot_id)
    memories, facts = run_sqlite_plan(
        conn, branch_source_plan(_DIALECT, namespace, new_namespace, snapshot.seq, scope)
    )
    for memory, embedding in memories:
        _copy_memory(conn, memory, embedding, new_namespace, new_namespace, scope.agent)
    for key in sorted(facts):
        write_fact(conn, new_namespace, key, facts[key].value, facts[key].sensitivity, scope.agent)
    conn.execute(
        "INSERT INTO branches (namespace, origin, snapshot_id, base_seq, fork_seq, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            new_namespace,
            namespace,
            snapshot_id,
            snapshot.seq,
            changelog.head(conn, new_namespace),
            scope.agent,
            ts(utc_now()),
        ),
    )
    return BranchResult(
        branch=new_namespace,
        origin=namespace,
        snapshot_id=snapshot_id,
        memories_copied=len(memories),
        facts_copied=len(facts),
    )


def _merge(conn: apsw.Connection, branch_ns: str, into: str, scope: Scope) -> MergeResult:
    row = fetch_one(conn, "SELECT * FROM branches WHERE namespace = ?", (branch_ns,))
    if row is None:
        raise NotFoundError("branch", branch_ns)
    versioning.check_merge(row["origin"], branch_ns, into, scope)
    reads = run_sqlite_plan(
        conn, merge_reads_plan(_DIALECT, branch_ns, into, int(row["fork_seq"]), int(row["base_seq"]), scope)
    )
    plan = reads.plan
    for memory_id in plan.add_memories:
        memory, embedding = reads.branch_memories[memory_id]
        _copy_memory(conn, memory, embedding, into, branch_ns, scope.agent)
    for memory_id in plan.remove_memories:
        remove_memory(conn, reads.target_memories[memory_id][0], scope.agent)
    for key, state in plan.put_facts.items():
        write_fact(conn, into, key, state.value, state.sensitivity, scope.agent)
    for key in plan.remove_facts:
        remove_fact(conn, into, key, scope.agent)
    conn.execute(
        "UPDATE branches SET base_seq = ?, fork_seq = ?, merged_at = ? WHERE namespace = ?",
        (changelog.head(conn, into), changelog.head(conn, branch_ns), ts(utc_now()), branch_ns),
    )
    return versioning.merge_result(branch_ns, into, plan)


class SQLiteVersions(VersionQueries, SQLiteCore):
    """``VersionStore`` on SQLite: one ``Database`` write transaction per operation."""

    async def create_snapshot(self, namespace: str, label: str, *, scope: Scope | None = None) -> Snapshot:
        scope = scope or Scope.unrestricted()
        versioning.check_snapshot_label(namespace, label, scope)
        return await self._db.write(_create_snapshot, namespace, label, scope)

    async def rollback(
        self, namespace: str, snapshot_id: str, *, scope: Scope | None = None
    ) -> RollbackResult:
        return await self._db.write(_rollback, namespace, snapshot_id, scope or Scope.unrestricted())

    async def branch(
        self, namespace: str, snapshot_id: str, new_namespace: str, *, scope: Scope | None = None
    ) -> BranchResult:
        scope = scope or Scope.unrestricted()
        versioning.check_branch_names(namespace, new_namespace, scope)
        return await self._db.write(_branch, namespace, snapshot_id, new_namespace, scope)

    async def merge(self, branch: str, into: str, *, scope: Scope | None = None) -> MergeResult:
        return await self._db.write(_merge, branch, into, scope or Scope.unrestricted())
