"""The tables of a tenant as ``mcp-memory export`` writes them: neutral column names and value kinds.

Written once for both backends. Each ``Table`` lists its columns under the name the export uses (the
record's field name where the column stores a field); ``physical`` lists the column names a backend may
use for it, first match wins, so a schema that renames a column (``source_agent`` -> ``agent``) keeps
exporting the same rows. Tables come in dependency order: parents before children, so importing in this
order never names a missing parent.

Value kinds and their neutral (JSON) form:

- ``text``, ``int``, ``float``: as is.
- ``json``: the JSON value itself (SQLite stores JSON text, PostgreSQL ``jsonb``).
- ``time``: ISO 8601 UTC text of fixed width (``storage.paging.isoformat``).
- ``sensitivity``: ``public`` | ``internal`` | ``confidential``. A backend stores the name in a text
  column and/or the level (0..2) in an integer column; every physical column present is written.
- ``vector``: float32[dimensions] little-endian bytes as standard base64; left out of an export without
  vectors (``--no-vectors``).
- ``hidden``: read for ordering only (join order of participants...), never exported: an import assigns
  new values in export order, which keeps the order.

Each table has a ``selector`` saying how a namespace selection (``export --namespace``) reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["IGNORED_COLUMNS", "TABLES", "TABLE_NAMES", "Column", "Kind", "Selector", "Table", "table_spec"]

Kind = Literal["text", "int", "float", "json", "time", "sensitivity", "vector", "hidden"]
Selector = Literal["all", "namespace", "room", "alert", "identity"]


@dataclass(frozen=True)
class Column:
    """One exported column: its neutral ``name``, ``kind`` and the physical names it may have."""

    name: str
    kind: Kind = "text"
    physical: tuple[str, ...] = ()

    @property
    def candidates(self) -> tuple[str, ...]:
        """Physical names to look for, in order (the neutral name when none are given)."""
        return self.physical or (self.name,)


@dataclass(frozen=True)
class Table:
    """One table: its columns, key (neutral names; ordering and paging) and namespace selector."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    selector: Selector

    def column(self, name: str) -> Column:
        """The column named ``name`` (KeyError when absent)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


def _c(name: str, kind: Kind = "text", *physical: str) -> Column:
    return Column(name, kind, tuple(physical))


_SENS = _c("sensitivity", "sensitivity", "sensitivity", "sensitivity_level")
_CREATED = _c("created_at", "time")
_UPDATED = _c("updated_at", "time")

TABLES: tuple[Table, ...] = (
    Table("meta", (_c("key"), _c("value")), ("key",), "all"),
    Table(
        "identities",
        (_c("identity_id"), _c("display_name"), _c("metadata", "json"), _CREATED),
        ("identity_id",),
        "identity",
    ),
    Table(
        "addresses",
        (
            _c("seq", "hidden", "seq", "addr_seq"),
            _c("channel_type"),
            _c("address"),
            _c("identity_id"),
            _CREATED,
        ),
        ("seq",),
        "identity",
    ),
    Table(
        "rooms",
        (
            _c("room_id"),
            _c("namespace"),
            _c("name"),
            _c("status"),
            _c("metadata", "json"),
            _c("active_agent"),
            _c("phase"),
            _c("handoff_count", "int"),
            _c("state_version", "int"),
            _c("state_updated_at", "time"),
            _c("last_event_index", "int"),
            _c("created_by"),
            _CREATED,
            _c("closed_at", "time"),
        ),
        ("room_id",),
        "namespace",
    ),
    Table(
        "participants",
        (
            _c("seq", "hidden", "seq", "join_seq"),
            _c("room_id"),
            _c("participant_id"),
            _c("kind"),
            _c("role"),
            _c("joined_at", "time"),
            _c("left_at", "time"),
        ),
        ("seq",),
        "room",
    ),
    Table(
        "channel_bindings",
        (
            _c("seq", "hidden", "seq", "bind_seq"),
            _c("room_id"),
            _c("channel_id"),
            _c("channel_type"),
            _c("config", "json"),
            _CREATED,
            _UPDATED,
        ),
        ("seq",),
        "room",
    ),
    Table(
        "events",
        (
            _c("room_id"),
            _c("index", "int", "idx"),
            _c("event_id"),
            _c("type"),
            _c("content"),
            _c("visibility"),
            _SENS,
            _c("channel_type", "text", "channel_type", "source_channel_type"),
            _c("channel_id", "text", "channel_id", "source_channel_id"),
            _c("sender_identity_id"),
            _c("agent", "text", "agent", "source_agent"),
            _c("metadata", "json"),
            _c("idempotency_key"),
            _c("occurred_at", "time"),
            _CREATED,
        ),
        ("room_id", "index"),
        "room",
    ),
    Table(
        "memories",
        (
            _c("memory_id"),
            _c("namespace"),
            _c("content"),
            _c("kind"),
            _c("session_id"),
            _c("tags", "json"),
            _c("metadata", "json"),
            _SENS,
            _c("importance", "float"),
            _c("author"),
            _c("room_id"),
            _c("task_id"),
            _CREATED,
            _UPDATED,
        ),
        ("memory_id",),
        "namespace",
    ),
    Table(
        "sessions",
        (_c("session_id"), _c("namespace"), _c("metadata", "json"), _c("created_by"), _CREATED),
        ("session_id",),
        "namespace",
    ),
    Table(
        "tasks",
        (
            _c("task_id"),
            _c("title"),
            _c("description"),
            _c("status"),
            _c("priority", "int"),
            _c("assignee"),
            _c("room_id"),
            _c("metadata", "json"),
            _c("created_by"),
            _c("version", "int"),
            _CREATED,
            _UPDATED,
            _c("completed_at", "time"),
            _c("reopen_count", "int"),
            _c("claim_count", "int"),
            _c("namespace"),
        ),
        ("task_id",),
        "room",
    ),
    Table(
        "escalations",
        (
            _c("escalation_id"),
            _c("room_id"),
            _c("reason"),
            _c("queue"),
            _c("assignee"),
            _c("priority", "int"),
            _c("status"),
            _c("created_by"),
            _CREATED,
            _c("acknowledged_by"),
            _c("acknowledged_at", "time"),
            _c("resolved_by"),
            _c("resolved_at", "time"),
            _c("resolution"),
            _c("handoff", "json"),
        ),
        ("escalation_id",),
        "room",
    ),
    Table(
        "facts",
        (
            _c("namespace"),
            _c("key"),
            _c("value", "json"),
            _c("version", "int"),
            _SENS,
            _c("created_by"),
            _c("updated_by"),
            _CREATED,
            _UPDATED,
        ),
        ("namespace", "key"),
        "namespace",
    ),
    Table("namespace_heads", (_c("namespace"), _c("last_seq", "int")), ("namespace",), "namespace"),
    Table(
        "namespace_changes",
        (
            _c("namespace"),
            _c("seq", "int"),
            _c("item_type"),
            _c("item_key"),
            _c("op"),
            _c("version", "int"),
            _SENS,
            _c("before", "json"),
            _c("before_embedding", "vector"),
            _c("after", "json"),
            _c("actor"),
            _c("changed_at", "time"),
        ),
        ("namespace", "seq"),
        "namespace",
    ),
    Table(
        "snapshots",
        (_c("snapshot_id"), _c("namespace"), _c("label"), _c("seq", "int"), _c("created_by"), _CREATED),
        ("snapshot_id",),
        "namespace",
    ),
    Table(
        "branches",
        (
            _c("namespace"),
            _c("origin"),
            _c("snapshot_id"),
            _c("base_seq", "int"),
            _c("fork_seq", "int"),
            _c("created_by"),
            _CREATED,
            _c("merged_at", "time"),
        ),
        ("namespace",),
        "namespace",
    ),
    Table(
        "branch_memories",
        (_c("namespace"), _c("memory_id"), _c("origin_memory_id")),
        ("namespace", "memory_id"),
        "namespace",
    ),
    Table(
        "entities",
        (
            _c("entity_id"),
            _c("namespace"),
            _c("type"),
            _c("name"),
            _c("properties", "json"),
            _SENS,
            _c("created_by"),
            _CREATED,
            _UPDATED,
        ),
        ("entity_id",),
        "namespace",
    ),
    Table(
        "relations",
        (
            _c("relation_id"),
            _c("namespace"),
            _c("from_id"),
            _c("type"),
            _c("to_id"),
            _c("properties", "json"),
            _c("confidence", "float"),
            _c("discovered_by"),
            _CREATED,
            _UPDATED,
        ),
        ("relation_id",),
        "namespace",
    ),
    Table(
        "alerts",
        (
            _c("alert_id"),
            _c("sender"),
            _c("message"),
            _c("severity"),
            _c("room_id"),
            _c("metadata", "json"),
            _CREATED,
        ),
        ("alert_id",),
        "room",
    ),
    Table(
        "alert_recipients",
        (_c("agent"), _c("alert_id"), _CREATED, _c("acked_at", "time")),
        ("agent", "alert_id"),
        "alert",
    ),
    Table(
        "search_docs",
        (
            _c("item_type"),
            _c("item_id"),
            _c("namespace"),
            _c("session_id"),
            _c("room_id"),
            _c("kind"),
            _c("tags", "json"),
            _c("metadata", "json"),
            _c("sensitivity", "sensitivity", "sensitivity", "sensitivity_level"),
            _c("importance", "float"),
            _c("item_at", "time"),
            _c("text", "text", "body", "text"),
            _c("embedding", "vector"),
        ),
        ("item_type", "item_id"),
        "namespace",
    ),
)

#: Table names in import order (parents first).
TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in TABLES)

#: Physical columns deliberately not exported, per table: derived (full-text vectors, pgvector copies of
#: ``embedding``, SQLite's FTS rowid) or transient (vectors staged by an unfinished reindex).
IGNORED_COLUMNS: dict[str, frozenset[str]] = {
    "search_docs": frozenset({"doc_id", "tsv", "embedding_vec", "staged_embedding", "staged_embedding_vec"}),
}

_BY_NAME = {t.name: t for t in TABLES}


def table_spec(name: str) -> Table | None:
    """The table named ``name``, or ``None``."""
    return _BY_NAME.get(name)
