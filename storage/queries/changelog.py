"""The change log's statements written once for both backends, as plans (``storage.queries.plan``).

Each backend runs them on its write transaction's connection (``run_sqlite_plan`` /
``run_postgres_plan``); what differs stays in ``storage/<backend>/changelog.py``: bumping and locking the
namespace's head row, and the transaction that holds it.
"""

from __future__ import annotations

from storage.changelog import LOG_COLUMNS, LogEntry
from storage.models import utc_now
from storage.queries.plan import Plan, Query
from storage.queries.reader import Dialect

__all__ = ["append_plan", "head_plan", "last_fact_version_plan"]


def head_plan(dialect: Dialect, namespace: str) -> Plan[int]:
    """The namespace's newest sequence number (0 when nothing was ever written to it)."""
    rows = yield dialect.query("SELECT last_seq FROM namespace_heads WHERE namespace = {}", namespace)
    return int(rows[0]["last_seq"]) if rows else 0


def last_fact_version_plan(dialect: Dialect, namespace: str, key: str) -> Plan[int]:
    """The highest version the change log holds for a fact key (0 when none)."""
    rows = yield dialect.query(
        "SELECT MAX(version) AS v FROM namespace_changes WHERE namespace = {} AND item_type = 'fact'"
        " AND item_key = {}",
        namespace,
        key,
    )
    return 0 if not rows or rows[0]["v"] is None else int(rows[0]["v"])


def append_plan(dialect: Dialect, entry: LogEntry, seq: int) -> Plan[int]:
    """Insert ``entry`` at ``seq`` (its number reserved by the backend's head bump); return ``seq``."""
    p = dialect.params()
    marks = ", ".join(p.add(v) for v in entry.row(seq, p.json_value, p.time_value(utc_now())))
    yield Query(f"INSERT INTO namespace_changes ({LOG_COLUMNS}) VALUES ({marks})", p.values)
    return seq
