"""Snapshots, rollback, branches and merges on SQLite: ``SQLiteVersions``.

Semantics: ``storage.contracts.versions``; what to change comes from ``storage.versioning``. Each
operation is one write transaction; SQLite's single writer means no other write to any namespace
interleaves with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from storage import versioning
from storage.errors import ConflictError, NotFoundError
from storage.models import (
    BranchResult,
    Memory,
    MergeResult,
    Page,
    RollbackResult,
    Snapshot,
    new_id,
    utc_now,
)
from storage.paging import clamp_limit, decode_cursor
from storage.scope import Scope
from storage.sqlite import changelog
from storage.sqlite.core import SQLiteCore
from storage.sqlite.facts import current_facts, remove_fact, write_fact
from storage.sqlite.memories import insert_memory, remove_memory
from storage.sqlite.rows import ROWS, fetch_all, fetch_one, make_page, ts

__all__ = ["SQLiteVersions"]

Row = dict[str, Any]
#: Ids per ``IN (...)`` list: SQLite binds at most 32766 parameters (sqlite.org/limits.html).
_CHUNK = 500


def _in_chunks(conn: apsw.Connection, sql: str, params: Sequence[Any], ids: Sequence[str]) -> list[Row]:
    """Rows of ``sql`` ending in ``IN ({marks})`` for every id, ``_CHUNK`` ids per statement."""
    rows: list[Row] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        rows += fetch_all(conn, sql.format(marks=", ".join("?" * len(chunk))), (*params, *chunk))
    return rows


def _memories(
    conn: apsw.Connection, namespace: str, ids: Sequence[str] | None = None
) -> dict[str, tuple[Memory, bytes | None]]:
    """id -> (memory, embedding) of the namespace's memories (all, or those among ``ids``)."""
    sql = (
        "SELECT m.*, d.embedding AS embedding FROM memories AS m LEFT JOIN search_docs AS d"
        " ON d.item_type = 'memory' AND d.item_id = m.memory_id WHERE m.namespace = ?"
    )
    if ids is None:
        rows = fetch_all(conn, sql, (namespace,))
    else:
        rows = _in_chunks(conn, sql + " AND m.memory_id IN ({marks})", (namespace,), ids)
    return {r["memory_id"]: (ROWS.memory(r), r["embedding"]) for r in rows}


def _snapshot_row(conn: apsw.Connection, namespace: str, snapshot_id: str) -> Snapshot:
    row = fetch_one(conn, "SELECT * FROM snapshots WHERE snapshot_id = ?", (snapshot_id,))
    if row is None or row["namespace"] != namespace:
        raise NotFoundError("snapshot", snapshot_id)
    return ROWS.snapshot(row)


def _plan_back(conn: apsw.Connection, namespace: str, seq: int) -> versioning.RollbackPlan:
    changes = changelog.changes_since(conn, namespace, seq)
    existing = _memories(conn, namespace, versioning.item_keys(changes, "memory"))
    facts = current_facts(conn, namespace, versioning.item_keys(changes, "fact"))
    return versioning.rollback_plan(
        changes,
        {i: m.sensitivity.level for i, (m, _) in existing.items()},
        {k: state for k, (state, _) in facts.items()},
    )


def _create_snapshot(conn: apsw.Connection, namespace: str, label: str, scope: Scope) -> Snapshot:
    snapshot_id = new_id("snap")
    conn.execute(
        "INSERT INTO snapshots (snapshot_id, namespace, label, seq, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (snapshot_id, namespace, label, changelog.head(conn, namespace), scope.agent, ts(utc_now())),
    )
    return _snapshot_row(conn, namespace, snapshot_id)


def _list_snapshots(conn: apsw.Connection, namespace: str, limit: int, cursor: str | None) -> Page[Snapshot]:
    where, params = "namespace = ?", [namespace]
    if cursor is not None:
        where += " AND (seq, snapshot_id) < (?, ?)"
        params += decode_cursor(cursor, 2)
    rows = fetch_all(
        conn,
        f"SELECT * FROM snapshots WHERE {where} ORDER BY seq DESC, snapshot_id DESC LIMIT ?",
        (*params, limit + 1),
    )
    return make_page(rows, limit, ROWS.snapshot, "seq", "snapshot_id")


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
    busy = fetch_one(
        conn,
        "SELECT EXISTS (SELECT 1 FROM memories WHERE namespace = ?1) OR EXISTS (SELECT 1 FROM facts WHERE"
        " namespace = ?1) OR EXISTS (SELECT 1 FROM branches WHERE namespace = ?1) AS busy",
        (new_namespace,),
    )
    if busy is not None and busy["busy"]:
        raise ConflictError(
            f"namespace {new_namespace!r} is not empty (or is a branch already): pick a new name"
        )
    plan = _plan_back(conn, namespace, snapshot.seq)
    now = {k: state for k, (state, _) in current_facts(conn, namespace).items()}
    memories, facts = versioning.branch_state(plan, _memories(conn, namespace), now)
    versioning.check_clearance(versioning.state_levels(memories, facts), scope, f"branching {namespace!r}")
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
    branch_changes = changelog.changes_since(conn, branch_ns, int(row["fork_seq"]))
    target_changes = changelog.changes_since(conn, into, int(row["base_seq"]))
    memory_ids = versioning.item_keys(branch_changes, "memory")
    branch_memories = _memories(conn, branch_ns, memory_ids)
    mapped = _in_chunks(
        conn,
        "SELECT memory_id, origin_memory_id FROM branch_memories WHERE namespace = ?"
        " AND memory_id IN ({marks})",
        (branch_ns,),
        memory_ids,
    )
    origin_of = {r["memory_id"]: r["origin_memory_id"] for r in mapped}
    target_memories = _memories(conn, into, sorted(set(origin_of.values())))
    fact_keys = versioning.item_keys(branch_changes, "fact")
    branch_facts = {k: state for k, (state, _) in current_facts(conn, branch_ns, fact_keys).items()}
    target_facts = current_facts(conn, into, fact_keys)
    plan = versioning.merge_plan(
        branch_changes,
        set(branch_memories),
        branch_facts,
        origin_of,
        target_changes,
        set(target_memories),
        target_facts,
    )
    versioning.check_clearance(
        versioning.merge_levels(branch_changes, target_facts), scope, f"merging {branch_ns!r} into {into!r}"
    )
    for memory_id in plan.add_memories:
        memory, embedding = branch_memories[memory_id]
        _copy_memory(conn, memory, embedding, into, branch_ns, scope.agent)
    for memory_id in plan.remove_memories:
        remove_memory(conn, target_memories[memory_id][0], scope.agent)
    for key, state in plan.put_facts.items():
        write_fact(conn, into, key, state.value, state.sensitivity, scope.agent)
    for key in plan.remove_facts:
        remove_fact(conn, into, key, scope.agent)
    conn.execute(
        "UPDATE branches SET base_seq = ?, fork_seq = ?, merged_at = ? WHERE namespace = ?",
        (changelog.head(conn, into), changelog.head(conn, branch_ns), ts(utc_now()), branch_ns),
    )
    return versioning.merge_result(branch_ns, into, plan)


class SQLiteVersions(SQLiteCore):
    """``VersionStore`` on SQLite: one ``Database`` write transaction per operation."""

    async def create_snapshot(self, namespace: str, label: str, *, scope: Scope | None = None) -> Snapshot:
        scope = scope or Scope.unrestricted()
        versioning.check_snapshot_label(namespace, label, scope)
        return await self._db.write(_create_snapshot, namespace, label, scope)

    async def list_snapshots(
        self, namespace: str, *, limit: int = 50, cursor: str | None = None, scope: Scope | None = None
    ) -> Page[Snapshot]:
        if not (scope or Scope.unrestricted()).can_read(namespace):
            return Page[Snapshot](items=[])
        return await self._db.read(_list_snapshots, namespace, clamp_limit(limit), cursor)

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
