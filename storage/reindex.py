"""Re-embedding, the rules both backends share: the target's checks, batches, the completeness check.

See ``storage.contracts.reindex`` for the protocol. The target of an unfinished reindex is kept in
``meta`` (``TARGET_MODEL_KEY``, ``TARGET_DIMENSIONS_KEY``); staged vectors sit in
``search_docs.staged_embedding`` beside the live ones. A backend keeps its transactions, its vector
encoding and index handling; the statements here read columns both schemas name alike, so only their
placeholders differ (``storage.filters.Params``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from storage.errors import ConflictError, InvalidInputError
from storage.filters import Params
from storage.indexing import sender_label
from storage.models import Event, Memory, ReindexItem, ReindexProgress

__all__ = [
    "PROGRESS_SQL",
    "TARGET_DIMENSIONS_KEY",
    "TARGET_MODEL_KEY",
    "batch_keys_sql",
    "check_batch_limit",
    "check_complete",
    "check_staged_size",
    "check_target",
    "events_with_sender_sql",
    "progress",
    "reindex_items",
    "require_target",
    "sender_of",
    "target_of",
    "unembedded_keys_sql",
]

#: ``meta`` keys of the unfinished reindex's target model and size.
TARGET_MODEL_KEY = "reindex_model"
TARGET_DIMENSIONS_KEY = "reindex_dimensions"

#: Counts every search document and those holding a staged vector (read with ``progress``).
PROGRESS_SQL = "SELECT COUNT(*) AS items, COUNT(staged_embedding) AS staged FROM search_docs"


def check_target(model: str, dimensions: int) -> None:
    """Raise ``InvalidInputError`` for an empty ``model`` or ``dimensions`` outside 1..16000."""
    if not model or not 1 <= dimensions <= 16_000:
        raise InvalidInputError("reindex needs a model name and dimensions in 1..16000")


def target_of(values: Mapping[str, str | None]) -> tuple[str, int] | None:
    """The ``(model, dimensions)`` target recorded in ``values`` (meta key -> value), or ``None``."""
    model, dims = values.get(TARGET_MODEL_KEY), values.get(TARGET_DIMENSIONS_KEY)
    return None if model is None or dims is None else (str(model), int(dims))


def require_target(target: tuple[str, int] | None) -> tuple[str, int]:
    """``target``, or ``InvalidInputError`` when no reindex is in progress."""
    if target is None:
        raise InvalidInputError("no reindex is in progress: begin one first")
    return target


def check_batch_limit(limit: int) -> None:
    """Raise ``InvalidInputError`` unless ``limit`` is in 1..1000."""
    if not 1 <= limit <= 1000:
        raise InvalidInputError(f"limit must be in 1..1000, got {limit}")


def check_staged_size(item_type: str, item_id: str, size: int, dimensions: int) -> None:
    """Raise ``InvalidInputError`` when a staged vector's ``size`` is not the target's ``dimensions``."""
    if size != dimensions:
        raise InvalidInputError(
            f"the staged embedding of {item_type} {item_id} has {size} dimensions; "
            f"the reindex target has {dimensions}"
        )


def progress(model: str, dimensions: int, row: Mapping[str, Any] | None) -> ReindexProgress:
    """The progress of the target from the row of ``PROGRESS_SQL``."""
    assert row is not None  # an aggregate returns one row
    return ReindexProgress(model=model, dimensions=dimensions, items=row["items"], staged=row["staged"])


def check_complete(done: ReindexProgress) -> None:
    """Raise ``ConflictError`` while some item has no staged vector (added during the reindex)."""
    if done.staged < done.items:
        raise ConflictError(
            f"{done.items - done.staged} items have no staged vector yet (added during the "
            "reindex): stage them, then finish again"
        )


def batch_keys_sql(p: Params, after: tuple[str, str] | None, limit: int) -> str:
    """SQL: up to ``limit`` ``(item_type, item_id)`` without a staged vector, in key order after ``after``."""
    conds = ["staged_embedding IS NULL"]
    if after is not None:
        conds.append(f"(item_type, item_id) > ({p.add(after[0])}, {p.add(after[1])})")
    return (
        f"SELECT item_type, item_id FROM search_docs WHERE {' AND '.join(conds)}"
        f" ORDER BY item_type, item_id LIMIT {p.add(limit)}"
    )


def unembedded_keys_sql(p: Params, limit: int) -> str:
    """SQL: up to ``limit`` ``(item_type, item_id)`` whose document has no live vector, oldest first."""
    return (
        "SELECT item_type, item_id FROM search_docs WHERE embedding IS NULL"
        f" ORDER BY doc_id LIMIT {p.add(limit)}"
    )


def events_with_sender_sql(p: Params, event_ids: Sequence[str]) -> str | None:
    """SQL: the events of ``event_ids`` with ``sender_display_name`` and ``sender_address`` (the sender
    identity's first address), read by ``sender_of``; ``None`` when there is none."""
    if not event_ids:
        return None
    return (
        "SELECT e.*, i.display_name AS sender_display_name, (SELECT a.address FROM addresses AS a"
        " WHERE a.identity_id = e.sender_identity_id ORDER BY a.addr_seq LIMIT 1) AS sender_address"
        " FROM events AS e LEFT JOIN identities AS i ON i.identity_id = e.sender_identity_id"
        f" WHERE {p.equals_any('e.event_id', list(event_ids))}"
    )


def sender_of(row: Mapping[str, Any]) -> str | None:
    """The sender label of a row of ``events_with_sender_sql`` (``storage.indexing.sender_label``)."""
    return sender_label(row["sender_display_name"], row["sender_address"], row["agent"])


def reindex_items(
    keys: Sequence[Mapping[str, Any]],
    memories: Mapping[str, Memory],
    events: Mapping[str, tuple[Event, str | None]],
) -> list[ReindexItem]:
    """The batch in key order: each key's memory, or event with its sender; keys whose item is gone are
    skipped."""
    items: list[ReindexItem] = []
    for key in keys:
        item_id = key["item_id"]
        if key["item_type"] == "memory" and item_id in memories:
            items.append(ReindexItem(item_type="memory", item_id=item_id, memory=memories[item_id]))
        elif key["item_type"] == "event" and item_id in events:
            event, sender = events[item_id]
            items.append(ReindexItem(item_type="event", item_id=item_id, event=event, sender=sender))
    return items
