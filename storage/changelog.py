"""What a namespace's change log records for each write, written once for both backends.

Every memory add/delete and fact set/delete appends one ``LogEntry`` to the ``namespace_changes`` table in
its write transaction (``storage.contracts.versions``); the backends' ``changelog`` modules only store it
(SQL text, the head row that numbers it). The entries built here are what ``storage.versioning`` reads
back as ``Change`` when it plans a rollback or merge, and what ``fact_history`` shows.

Shapes: ``before``/``after`` are JSON values (a memory's record as ``Memory.model_dump(mode="json")``; a
fact's ``fact_state_json``), ``None`` when the item was absent; ``level`` is the highest sensitivity
level (0 public .. 2 confidential) the change touches, so a reader below it never sees the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from storage.models import Fact, FactChange, Memory, Sensitivity
from storage.versioning import Change

__all__ = [
    "CHANGE_COLUMNS",
    "LOG_COLUMNS",
    "LogEntry",
    "change_from_row",
    "fact_change",
    "fact_deleted",
    "fact_set",
    "fact_state_json",
    "memory_added",
    "memory_deleted",
]

ItemType = Literal["memory", "fact"]
Op = Literal["add", "delete", "set"]


def fact_state_json(value: Any, sensitivity: Sensitivity, version: int) -> dict[str, Any]:
    """The JSON state of a fact written to the change log (``before``/``after`` of a fact entry)."""
    return {"value": value, "sensitivity": sensitivity.value, "version": version}


@dataclass(frozen=True)
class LogEntry:
    """One row of ``namespace_changes`` before it gets its sequence number.

    ``version``: a fact's version after the change (a delete takes one too); ``None`` for memories.
    ``before_embedding``: float32 bytes of a deleted memory's embedding (so a rollback restores it).
    """

    namespace: str
    item_type: ItemType
    item_key: str
    op: Op
    level: int
    actor: str | None
    version: int | None = None
    before: Any = None
    before_embedding: bytes | None = None
    after: Any = None

    def row(self, seq: int, dump_json: Callable[[Any], Any], changed_at: Any) -> tuple[Any, ...]:
        """The values of ``LOG_COLUMNS`` for this entry at ``seq``.

        Args:
            dump_json: the dialect's Python -> stored JSON (applied to ``before`` and ``after`` when set).
            changed_at: the time as the dialect stores it.
        """
        return (
            self.namespace,
            seq,
            self.item_type,
            self.item_key,
            self.op,
            self.version,
            self.level,
            None if self.before is None else dump_json(self.before),
            self.before_embedding,
            None if self.after is None else dump_json(self.after),
            self.actor,
            changed_at,
        )


#: The columns of ``namespace_changes`` an entry fills, in the order of ``LogEntry.row``.
LOG_COLUMNS = (
    "namespace, seq, item_type, item_key, op, version, sensitivity, before, before_embedding, after,"
    " actor, changed_at"
)
#: The columns ``change_from_row`` reads.
CHANGE_COLUMNS = "seq, item_type, item_key, sensitivity, before, before_embedding"


def change_from_row(row: Mapping[str, Any], load_json: Callable[[Any], Any]) -> Change:
    """A ``namespace_changes`` row (``CHANGE_COLUMNS``) as the ``Change`` the plans read.

    Args:
        load_json: the dialect's stored JSON -> Python (``storage.rows.Rows.load_json``).
    """
    before = row["before"]
    return Change(
        seq=row["seq"],
        item_type=row["item_type"],
        item_key=row["item_key"],
        level=row["sensitivity"],
        before=None if before is None else load_json(before),
        before_embedding=row["before_embedding"],
    )


def memory_added(memory: Memory, actor: str | None) -> LogEntry:
    """The entry of an added memory: its id only (the row itself is the state)."""
    return LogEntry(memory.namespace, "memory", memory.memory_id, "add", memory.sensitivity.level, actor)


def memory_deleted(memory: Memory, embedding: bytes | None, actor: str | None) -> LogEntry:
    """The entry of a deleted memory: its whole record and embedding (so a rollback can restore it)."""
    return LogEntry(
        memory.namespace,
        "memory",
        memory.memory_id,
        "delete",
        memory.sensitivity.level,
        actor,
        before=memory.model_dump(mode="json"),
        before_embedding=embedding,
    )


def fact_set(
    namespace: str,
    key: str,
    value: Any,
    sensitivity: Sensitivity,
    version: int,
    old: Fact | None,
    actor: str | None,
) -> LogEntry:
    """The entry of a fact written at ``version`` over ``old`` (``None`` when it did not exist)."""
    level = sensitivity.level if old is None else max(sensitivity.level, old.sensitivity.level)
    return LogEntry(
        namespace,
        "fact",
        key,
        "set",
        level,
        actor,
        version=version,
        before=None if old is None else fact_state_json(old.value, old.sensitivity, old.version),
        after=fact_state_json(value, sensitivity, version),
    )


def fact_deleted(old: Fact, actor: str | None) -> LogEntry:
    """The entry of a deleted fact: it takes the next version, its state goes to ``before``."""
    return LogEntry(
        old.namespace,
        "fact",
        old.key,
        "delete",
        old.sensitivity.level,
        actor,
        version=old.version + 1,
        before=fact_state_json(old.value, old.sensitivity, old.version),
    )


def fact_change(
    namespace: str, key: str, version: int, after: Any, actor: str | None, changed_at: datetime
) -> FactChange:
    """A fact entry read back for ``fact_history`` (``after`` ``None``: the fact was deleted)."""
    return FactChange(
        namespace=namespace,
        key=key,
        version=version,
        value=None if after is None else after["value"],
        sensitivity=None if after is None else after["sensitivity"],
        deleted=after is None,
        changed_by=actor,
        changed_at=changed_at,
    )
