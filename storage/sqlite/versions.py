"""Snapshots, rollback, branches and merges on SQLite (semantics: ``storage.contracts.versions``).

Each operation is one write transaction; SQLite's single writer means no other write to any namespace
interleaves with it. The rules of what to change come from ``storage.versioning``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

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
from storage.paging import clamp_limit, decode_cursor
from storage.scope import Scope
from storage.sqlite import changelog
from storage.sqlite.connection import Database
from storage.sqlite.facts import current_facts, remove_fact, write_fact
from storage.sqlite.memories import insert_memory, remove_memory
from storage.sqlite.rows import fetch_all, fetch_one, from_ts, make_page, memory_from_row, ts
from storage.versioning import Change, RollbackPlan, merge_plan, rollback_plan

__all__ = ["VersionsMixin"]

Row = dict[str, Any]
_CHUNK = 500


def _snapshot_from_row(row: Row) -> Snapshot:
    return Snapshot(
        snapshot_id=row["snapshot_id"],
        namespace=row["namespace"],
        label=row["label"],
        seq=row["seq"],
        created_by=row["created_by"],
        created_at=from_ts(row["created_at"]),
    )


def _check_namespace(namespace: str) -> None:
    validate_fact_address(namespace, "x")


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDeniedError(message)


def _clearance(levels: Sequence[int], scope: Scope, what: str) -> None:
    if levels and max(levels) > scope.max_sensitivity.level:
        raise PermissionDeniedError(
            f"{what} would change items above the clearance of {scope.agent!r} "
            f"({scope.max_sensitivity.value}); nothing was changed"
        )


def _memories(
    conn: apsw.Connection, namespace: str, ids: Sequence[str] | None = None
) -> dict[str, tuple[Memory, bytes | None]]:
    """id -> (memory, embedding) of the namespace's memories (all, or those among ``ids``)."""
    sql = (
        "SELECT m.*, d.embedding AS embedding FROM memories AS m LEFT JOIN search_docs AS d"
        " ON d.item_type = 'memory' AND d.item_id = m.memory_id WHERE m.namespace = ?"
    )
    rows: list[Row] = []
    if ids is None:
        rows = fetch_all(conn, sql, (namespace,))
    else:
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            rows += fetch_all(
                conn, f"{sql} AND m.memory_id IN ({', '.join('?' * len(chunk))})", (namespace, *chunk)
            )
    return {r["memory_id"]: (memory_from_row(r), r["embedding"]) for r in rows}


def _keys(changes: Sequence[Change], item_type: str) -> list[str]:
    return sorted({c.item_key for c in changes if c.item_type == item_type})


def _snapshot_row(conn: apsw.Connection, namespace: str, snapshot_id: str) -> Snapshot:
    row = fetch_one(conn, "SELECT * FROM snapshots WHERE snapshot_id = ?", (snapshot_id,))
    if row is None or row["namespace"] != namespace:
        raise NotFoundError("snapshot", snapshot_id)
    return _snapshot_from_row(row)


def _plan_back(conn: apsw.Connection, namespace: str, seq: int) -> RollbackPlan:
    changes = changelog.changes_since(conn, namespace, seq)
    existing = _memories(conn, namespace, _keys(changes, "memory"))
    facts = current_facts(conn, namespace, _keys(changes, "fact"))
    return rollback_plan(
        changes,
        {i: m.sensitivity.level for i, (m, _) in existing.items()},
        {k: state for k, (state, _) in facts.items()},
    )


def create_snapshot(conn: apsw.Connection, namespace: str, label: str, scope: Scope) -> Snapshot:
    """Record the namespace's current sequence number under a new snapshot id."""
    _check_namespace(namespace)
    if not 1 <= len(label) <= 200:
        raise InvalidInputError("a snapshot label has 1-200 characters")
    _require(scope.can_write(namespace), f"namespace {namespace!r} is not writable by {scope.agent!r}")
    snapshot_id = new_id("snap")
    conn.execute(
        "INSERT INTO snapshots (snapshot_id, namespace, label, seq, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (snapshot_id, namespace, label, changelog.head(conn, namespace), scope.agent, ts(utc_now())),
    )
    return _snapshot_row(conn, namespace, snapshot_id)


def list_snapshots(
    conn: apsw.Connection, namespace: str, limit: int, cursor: str | None, scope: Scope
) -> Page[Snapshot]:
    """A namespace's snapshots newest first by ``(seq, snapshot_id)``."""
    if not scope.can_read(namespace):
        return Page[Snapshot](items=[])
    where, params = "namespace = ?", [namespace]
    if cursor is not None:
        where += " AND (seq, snapshot_id) < (?, ?)"
        params += decode_cursor(cursor, 2)
    rows = fetch_all(
        conn,
        f"SELECT * FROM snapshots WHERE {where} ORDER BY seq DESC, snapshot_id DESC LIMIT ?",
        (*params, limit + 1),
    )
    return make_page(rows, limit, _snapshot_from_row, "seq", "snapshot_id")


def _apply_back(conn: apsw.Connection, namespace: str, plan: RollbackPlan, actor: str) -> None:
    for memory_id in plan.remove_memories:
        row = fetch_one(conn, "SELECT * FROM memories WHERE memory_id = ?", (memory_id,))
        assert row is not None
        remove_memory(conn, memory_from_row(row), actor)
    for before, embedding in plan.restore_memories:
        memory = Memory.model_validate(before)
        insert_memory(conn, memory, embedding)
        changelog.record_memory_add(conn, memory, actor)
    for key, state in plan.put_facts.items():
        write_fact(conn, namespace, key, state.value, state.sensitivity, actor)
    for key in plan.remove_facts:
        remove_fact(conn, namespace, key, actor)


def rollback(conn: apsw.Connection, namespace: str, snapshot_id: str, scope: Scope) -> RollbackResult:
    """Return a namespace to a snapshot's state (see ``VersionStore.rollback``)."""
    snapshot = _snapshot_row(conn, namespace, snapshot_id)
    _require(scope.can_write(namespace), f"namespace {namespace!r} is not writable by {scope.agent!r}")
    plan = _plan_back(conn, namespace, snapshot.seq)
    _clearance(plan.touched_levels, scope, f"rolling {namespace!r} back")
    _apply_back(conn, namespace, plan, scope.agent)
    return RollbackResult(
        namespace=namespace,
        snapshot_id=snapshot_id,
        memories_removed=len(plan.remove_memories),
        memories_restored=len(plan.restore_memories),
        facts_restored=len(plan.put_facts),
        facts_removed=len(plan.remove_facts),
        seq=changelog.head(conn, namespace),
    )


def _copy_memory(
    conn: apsw.Connection, memory: Memory, embedding: bytes | None, into: str, branch: str, actor: str
) -> str:
    """Copy a memory into namespace ``into`` under a new id and log it; map it for ``branch``."""
    copy = memory.model_copy(update={"memory_id": new_id("mem"), "namespace": into})
    insert_memory(conn, copy, embedding)
    changelog.record_memory_add(conn, copy, actor)
    branch_id, origin_id = (
        (copy.memory_id, memory.memory_id) if into == branch else (memory.memory_id, copy.memory_id)
    )
    conn.execute(
        "INSERT INTO branch_memories (namespace, memory_id, origin_memory_id) VALUES (?, ?, ?)",
        (branch, branch_id, origin_id),
    )
    return copy.memory_id


def branch(
    conn: apsw.Connection, namespace: str, snapshot_id: str, new_namespace: str, scope: Scope
) -> BranchResult:
    """Fork a namespace at a snapshot into an empty one (see ``VersionStore.branch``)."""
    _check_namespace(new_namespace)
    if new_namespace == namespace:
        raise InvalidInputError("a branch needs a new namespace, not the one it forks")
    snapshot = _snapshot_row(conn, namespace, snapshot_id)
    _require(scope.can_read(namespace), f"namespace {namespace!r} is not readable by {scope.agent!r}")
    _require(
        scope.can_write(new_namespace), f"namespace {new_namespace!r} is not writable by {scope.agent!r}"
    )
    busy = fetch_one(
        conn,
        "SELECT EXISTS (SELECT 1 FROM memories WHERE namespace = ?) OR EXISTS (SELECT 1 FROM facts WHERE"
        " namespace = ?) OR EXISTS (SELECT 1 FROM branches WHERE namespace = ?) AS busy",
        (new_namespace, new_namespace, new_namespace),
    )
    if busy is not None and busy["busy"]:
        raise ConflictError(
            f"namespace {new_namespace!r} is not empty (or is a branch already): pick a new name"
        )
    plan = _plan_back(conn, namespace, snapshot.seq)
    memories = _memories(conn, namespace)
    for memory_id in plan.remove_memories:
        memories.pop(memory_id, None)
    for before, embedding in plan.restore_memories:
        restored = Memory.model_validate(before)
        memories[restored.memory_id] = (restored, embedding)
    facts = {
        k: state for k, (state, _) in current_facts(conn, namespace, _all_fact_keys(conn, namespace)).items()
    }
    facts.update(plan.put_facts)
    for key in plan.remove_facts:
        facts.pop(key, None)
    levels = [m.sensitivity.level for m, _ in memories.values()] + [
        s.sensitivity.level for s in facts.values()
    ]
    _clearance(levels, scope, f"branching {namespace!r}")
    for memory, embedding in sorted(memories.values(), key=lambda me: (me[0].created_at, me[0].memory_id)):
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


def _all_fact_keys(conn: apsw.Connection, namespace: str) -> list[str]:
    return [r["key"] for r in fetch_all(conn, "SELECT key FROM facts WHERE namespace = ?", (namespace,))]


def merge(conn: apsw.Connection, branch_ns: str, into: str, scope: Scope) -> MergeResult:
    """Apply a branch's changes to its origin (see ``VersionStore.merge``)."""
    row = fetch_one(conn, "SELECT * FROM branches WHERE namespace = ?", (branch_ns,))
    if row is None:
        raise NotFoundError("branch", branch_ns)
    if row["origin"] != into:
        raise InvalidInputError(
            f"{branch_ns!r} branches from {row['origin']!r}: merge it into that namespace"
        )
    _require(scope.can_read(branch_ns), f"namespace {branch_ns!r} is not readable by {scope.agent!r}")
    _require(scope.can_write(into), f"namespace {into!r} is not writable by {scope.agent!r}")
    branch_changes = changelog.changes_since(conn, branch_ns, int(row["fork_seq"]))
    target_changes = changelog.changes_since(conn, into, int(row["base_seq"]))
    memory_ids = _keys(branch_changes, "memory")
    branch_memories = _memories(conn, branch_ns, memory_ids)
    origin_of = _origin_of(conn, branch_ns, memory_ids)
    target_memories = _memories(conn, into, sorted(set(origin_of.values())))
    fact_keys = _keys(branch_changes, "fact")
    branch_facts = {k: state for k, (state, _) in current_facts(conn, branch_ns, fact_keys).items()}
    target_facts = current_facts(conn, into, fact_keys)
    plan = merge_plan(
        branch_changes,
        set(branch_memories),
        branch_facts,
        origin_of,
        target_changes,
        set(target_memories),
        target_facts,
    )
    levels = [c.level for c in branch_changes] + [s.sensitivity.level for s, _ in target_facts.values()]
    _clearance(levels, scope, f"merging {branch_ns!r} into {into!r}")
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
    return MergeResult(
        branch=branch_ns,
        into=into,
        memories_added=len(plan.add_memories),
        memories_removed=len(plan.remove_memories),
        facts_set=len(plan.put_facts),
        facts_removed=len(plan.remove_facts),
        conflicts=plan.conflicts,
    )


def _origin_of(conn: apsw.Connection, branch_ns: str, memory_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(memory_ids), _CHUNK):
        chunk = list(memory_ids[start : start + _CHUNK])
        rows = fetch_all(
            conn,
            "SELECT memory_id, origin_memory_id FROM branch_memories WHERE namespace = ?"
            f" AND memory_id IN ({', '.join('?' * len(chunk))})",
            (branch_ns, *chunk),
        )
        found.update({r["memory_id"]: r["origin_memory_id"] for r in rows})
    return found


class VersionsMixin:
    """``VersionStore`` methods of ``SQLiteStore``: one ``Database`` transaction each."""

    _db: Database

    async def create_snapshot(self, namespace: str, label: str, *, scope: Scope | None = None) -> Snapshot:
        return await self._db.write(create_snapshot, namespace, label, scope or Scope.unrestricted())

    async def list_snapshots(
        self, namespace: str, *, limit: int = 50, cursor: str | None = None, scope: Scope | None = None
    ) -> Page[Snapshot]:
        return await self._db.read(
            list_snapshots, namespace, clamp_limit(limit), cursor, scope or Scope.unrestricted()
        )

    async def rollback(
        self, namespace: str, snapshot_id: str, *, scope: Scope | None = None
    ) -> RollbackResult:
        return await self._db.write(rollback, namespace, snapshot_id, scope or Scope.unrestricted())

    async def branch(
        self, namespace: str, snapshot_id: str, new_namespace: str, *, scope: Scope | None = None
    ) -> BranchResult:
        return await self._db.write(
            branch, namespace, snapshot_id, new_namespace, scope or Scope.unrestricted()
        )

    async def merge(self, branch: str, into: str, *, scope: Scope | None = None) -> MergeResult:
        return await self._db.write(merge, branch, into, scope or Scope.unrestricted())
