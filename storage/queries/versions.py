"""``VersionQueries``: the reads of namespace versioning written once for both backends.

``list_snapshots`` runs through ``Reader._fetch``; the reads a rollback, branch or merge makes inside its
own write transaction are plans (``storage.queries.plan``) each backend runs on its transaction's
connection (``run_sqlite_plan`` / ``run_postgres_plan``): ``snapshot_plan`` (the snapshot, checked to
belong to the namespace) and ``changes_since_plan`` (the change log after a sequence number).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage import versioning
from storage.changelog import CHANGE_COLUMNS, change_from_row
from storage.errors import ConflictError, NotFoundError
from storage.models import Memory, Page, Snapshot
from storage.paging import clamp_limit, decode_cursor
from storage.queries.plan import Plan, Query
from storage.queries.reader import Dialect, Reader, cursor_int, page_of
from storage.rows import Row
from storage.scope import Scope
from storage.versioning import Change, FactState

__all__ = [
    "VersionQueries",
    "MergeReads",
    "back_plan",
    "branch_source_plan",
    "changes_since_plan",
    "facts_plan",
    "merge_reads_plan",
    "memories_plan",
    "origins_plan",
    "snapshot_plan",
]

#: Ids per statement of an id list: SQLite binds at most 32766 parameters (sqlite.org/limits.html).
CHUNK = 500
#: A namespace's memories with the embedding of their search document.
_MEMORIES = (
    "SELECT m.*, d.embedding AS embedding FROM memories AS m LEFT JOIN search_docs AS d"
    " ON d.item_type = 'memory' AND d.item_id = m.memory_id WHERE "
)


def snapshot_plan(dialect: Dialect, namespace: str, snapshot_id: str) -> Plan[Snapshot]:
    """The snapshot ``snapshot_id`` of ``namespace``.

    Raises:
        NotFoundError: no such snapshot, or it belongs to another namespace.
    """
    rows = yield dialect.query("SELECT * FROM snapshots WHERE snapshot_id = {}", snapshot_id)
    if not rows or rows[0]["namespace"] != namespace:
        raise NotFoundError("snapshot", snapshot_id)
    return dialect.rows.snapshot(rows[0])


def changes_since_plan(dialect: Dialect, namespace: str, seq: int) -> Plan[list[Change]]:
    """The namespace's change-log entries with a sequence number above ``seq``, oldest first."""
    rows = yield dialect.query(
        f"SELECT {CHANGE_COLUMNS} FROM namespace_changes WHERE namespace = {{}} AND seq > {{}} ORDER BY seq",
        namespace,
        seq,
    )
    return [change_from_row(r, dialect.rows.load_json) for r in rows]


def _by_ids(
    dialect: Dialect, select: str, alias: str, namespace: str, id_column: str, ids: Sequence[str]
) -> Plan[list[Row]]:
    """Rows of ``select`` (ending in ``WHERE ``; its table as ``alias``) of ``namespace`` whose
    ``id_column`` is among ``ids``, ``CHUNK`` ids per statement."""
    rows: list[Row] = []
    for start in range(0, len(ids), CHUNK):
        p = dialect.params()
        p.require(f"{alias}.namespace = {p.add(namespace)}")
        p.require(p.equals_any(f"{alias}.{id_column}", list(ids[start : start + CHUNK])))
        rows += yield Query(select + p.sql(), p.values)
    return rows


def memories_plan(
    dialect: Dialect, namespace: str, ids: Sequence[str] | None = None
) -> Plan[dict[str, tuple[Memory, bytes | None]]]:
    """id -> (memory, embedding bytes or ``None``) of the namespace's memories (all, or those among ``ids``)."""
    if ids is None:
        rows: Sequence[Row] = yield dialect.query(_MEMORIES + "m.namespace = {}", namespace)
    else:
        rows = yield from _by_ids(dialect, _MEMORIES, "m", namespace, "memory_id", ids)
    return {r["memory_id"]: (dialect.rows.memory(r), r["embedding"]) for r in rows}


def origins_plan(dialect: Dialect, branch: str, memory_ids: Sequence[str]) -> Plan[dict[str, str]]:
    """Branch memory id -> the origin memory it stands for, for those of ``memory_ids`` that have one."""
    select = "SELECT b.memory_id, b.origin_memory_id FROM branch_memories AS b WHERE "
    rows = yield from _by_ids(dialect, select, "b", branch, "memory_id", memory_ids)
    return {r["memory_id"]: r["origin_memory_id"] for r in rows}


def facts_plan(
    dialect: Dialect, namespace: str, keys: Sequence[str] | None = None
) -> Plan[dict[str, tuple[FactState, int]]]:
    """key -> (state, version) of the namespace's live facts (all, or those among ``keys``)."""
    if keys is None:
        rows: Sequence[Row] = yield dialect.query(
            "SELECT * FROM facts AS f WHERE f.namespace = {}", namespace
        )
    else:
        rows = yield from _by_ids(dialect, "SELECT * FROM facts AS f WHERE ", "f", namespace, "key", keys)
    facts = [dialect.rows.fact(r) for r in rows]
    return {f.key: (FactState(f.value, f.sensitivity), f.version) for f in facts}


def back_plan(dialect: Dialect, namespace: str, seq: int) -> Plan[versioning.RollbackPlan]:
    """What returns ``namespace`` to its state at sequence number ``seq`` (``versioning.rollback_plan``),
    from its change log since ``seq`` and the current state of the items those changes touched."""
    changes = yield from changes_since_plan(dialect, namespace, seq)
    existing = yield from memories_plan(dialect, namespace, versioning.item_keys(changes, "memory"))
    facts = yield from facts_plan(dialect, namespace, versioning.item_keys(changes, "fact"))
    return versioning.rollback_plan(
        changes,
        {i: m.sensitivity.level for i, (m, _) in existing.items()},
        {k: state for k, (state, _) in facts.items()},
    )


def branch_source_plan(
    dialect: Dialect, namespace: str, new_namespace: str, seq: int, scope: Scope
) -> Plan[tuple[list[tuple[Memory, bytes | None]], dict[str, FactState]]]:
    """What a branch of ``namespace`` at sequence number ``seq`` copies (``versioning.branch_state``).

    Raises:
        ConflictError: ``new_namespace`` holds memories or facts, or is a branch already.
        PermissionDeniedError: the copy holds items above the clearance of ``scope``.
    """
    busy = yield dialect.query(
        "SELECT EXISTS (SELECT 1 FROM memories WHERE namespace = {}) OR EXISTS (SELECT 1 FROM facts WHERE"
        " namespace = {}) OR EXISTS (SELECT 1 FROM branches WHERE namespace = {}) AS busy",
        new_namespace,
        new_namespace,
        new_namespace,
    )
    if busy and busy[0]["busy"]:
        raise ConflictError(
            f"namespace {new_namespace!r} is not empty (or is a branch already): pick a new name"
        )
    plan = yield from back_plan(dialect, namespace, seq)
    now = yield from facts_plan(dialect, namespace)
    memories = yield from memories_plan(dialect, namespace)
    copied, facts = versioning.branch_state(plan, memories, {k: state for k, (state, _) in now.items()})
    versioning.check_clearance(versioning.state_levels(copied, facts), scope, f"branching {namespace!r}")
    return copied, facts


@dataclass(frozen=True)
class MergeReads:
    """What a merge applies: its ``plan``, and the branch's and target's touched memories by id
    (``(memory, embedding bytes or None)``) that the plan's ids refer to."""

    plan: versioning.MergePlan
    branch_memories: dict[str, tuple[Memory, bytes | None]]
    target_memories: dict[str, tuple[Memory, bytes | None]]


def merge_reads_plan(
    dialect: Dialect, branch: str, into: str, fork_seq: int, base_seq: int, scope: Scope
) -> Plan[MergeReads]:
    """The merge plan of ``branch`` into ``into`` (``versioning.merge_plan``) from the branch's changes
    since ``fork_seq`` and the target's since ``base_seq``.

    Raises:
        PermissionDeniedError: the merge touches items above the clearance of ``scope``.
    """
    branch_changes = yield from changes_since_plan(dialect, branch, fork_seq)
    target_changes = yield from changes_since_plan(dialect, into, base_seq)
    memory_ids = versioning.item_keys(branch_changes, "memory")
    branch_memories = yield from memories_plan(dialect, branch, memory_ids)
    origin_of = yield from origins_plan(dialect, branch, memory_ids)
    target_memories = yield from memories_plan(dialect, into, sorted(set(origin_of.values())))
    fact_keys = versioning.item_keys(branch_changes, "fact")
    branch_facts = yield from facts_plan(dialect, branch, fact_keys)
    target_facts = yield from facts_plan(dialect, into, fact_keys)
    plan = versioning.merge_plan(
        branch_changes,
        set(branch_memories),
        {k: state for k, (state, _) in branch_facts.items()},
        origin_of,
        target_changes,
        set(target_memories),
        target_facts,
    )
    versioning.check_clearance(
        versioning.merge_levels(branch_changes, target_facts), scope, f"merging {branch!r} into {into!r}"
    )
    return MergeReads(plan, branch_memories, target_memories)


class VersionQueries(Reader):
    """The shared reads of ``VersionStore`` (the writes and their transactions stay in each backend)."""

    async def list_snapshots(
        self, namespace: str, *, limit: int = 50, cursor: str | None = None, scope: Scope | None = None
    ) -> Page[Snapshot]:
        """The namespace's snapshots, newest first by ``(seq, snapshot_id)`` (empty when not readable).

        Raises:
            InvalidInputError: a cursor this store did not make.
        """
        if not (scope or Scope.unrestricted()).can_read(namespace):
            return Page[Snapshot](items=[])
        size = clamp_limit(limit)
        p = self.PARAMS()
        p.require(f"namespace = {p.add(namespace)}")
        if cursor is not None:
            seq, last_id = decode_cursor(cursor, 2)
            p.require(f"(seq, snapshot_id) < ({p.add(cursor_int(seq))}, {p.add(str(last_id))})")
        rows = await self._fetch(
            f"SELECT * FROM snapshots WHERE {p.sql()} ORDER BY seq DESC, snapshot_id DESC LIMIT {p.add(size + 1)}",
            p.values,
        )
        return page_of(rows, size, self.ROWS.snapshot, lambda r: (r["seq"], r["snapshot_id"]))
