"""``VersionQueries``: the reads of namespace versioning written once for both backends.

``list_snapshots`` runs through ``Reader._fetch``; the reads a rollback, branch or merge makes inside its
own write transaction are plans (``storage.queries.plan``) each backend runs on its transaction's
connection (``run_sqlite_plan`` / ``run_postgres_plan``): ``snapshot_plan`` (the snapshot, checked to
belong to the namespace) and ``changes_since_plan`` (the change log after a sequence number).
"""

from __future__ import annotations

from storage.changelog import CHANGE_COLUMNS, change_from_row
from storage.errors import NotFoundError
from storage.models import Page, Snapshot
from storage.paging import clamp_limit, decode_cursor
from storage.queries.plan import Plan
from storage.queries.reader import Dialect, Reader, cursor_int, page_of
from storage.scope import Scope
from storage.versioning import Change

__all__ = ["VersionQueries", "changes_since_plan", "snapshot_plan"]


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
