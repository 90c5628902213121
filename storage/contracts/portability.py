"""The portability part of the storage contract: ``PortabilityStore`` (mixed into ``MemoryStore``).

Export reads every table of a tenant as backend-neutral rows; import writes such rows back as they are
(ids, per-room event indexes, idempotency keys, fact versions, change-log sequence numbers, timestamps),
so ``export | import`` moves a tenant from one backend to another without changing it. The tables, their
neutral columns and the row encoding are defined once in ``storage.portability``; both backends
implement this contract through ``storage.portability.PortableRows`` and only supply SQL execution.

Guarantees use MUST / SHOULD (RFC 2119).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["PortabilityStore", "RowBatch"]


@dataclass(frozen=True)
class RowBatch:
    """One page of exported rows.

    ``rows``: neutral rows (``storage.portability``: JSON values only, column names of the export);
    ``after``: pass it back to read the next page, ``None`` when the table is done.
    """

    rows: list[dict[str, Any]]
    after: tuple[Any, ...] | None


class PortabilityStore(abc.ABC):
    """Reading and writing whole tables as neutral rows (``mcp-memory export`` / ``import``)."""

    @abc.abstractmethod
    async def export_namespaces(self) -> list[str]:
        """Every namespace holding a room, memory, fact, change, snapshot, branch or entity, sorted."""

    @abc.abstractmethod
    async def export_rows(
        self,
        table: str,
        *,
        namespaces: Sequence[str] | None = None,
        vectors: bool = True,
        after: tuple[Any, ...] | None = None,
        limit: int = 500,
    ) -> RowBatch:
        """Up to ``limit`` rows of ``table`` in key order, after the page ending at ``after``.

        Args:
            table: one of ``storage.portability.TABLE_NAMES``.
            namespaces: only rows of these namespaces (rooms' children by their room, identities by the
                events that name them, tasks and alerts by their room); ``None``: every row.
            vectors: include embeddings (else their columns are left out of the rows).
            after: ``RowBatch.after`` of the previous page; ``None`` for the first.
            limit: 1..5000 rows.

        Raises:
            InvalidInputError: unknown table or bad limit.
        """

    @abc.abstractmethod
    async def import_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> int:
        """Insert neutral rows of ``table`` as they are, in ONE transaction; return how many were new.

        A row whose key (or another unique column) is already present MUST be left unchanged and not
        counted, so importing the same rows twice changes nothing. Rows MUST come in the order
        ``export_rows`` gives (parents before children: ``storage.portability.TABLE_NAMES``).

        Raises:
            InvalidInputError: unknown table, a missing or malformed column (nothing written).
            StorageError: the database refused a row, e.g. one naming a parent that does not exist
                (nothing of the batch written).
        """
