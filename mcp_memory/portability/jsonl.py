"""A tenant as JSON Lines: every table, full fidelity, from any backend to any backend.

The file is one JSON object per line::

    {"format": "mcp-memory-export", "format_version": 1, "exported_at": "...", "backend": "sqlite", ...}
    {"table": "rooms", "row": {"room_id": "room_...", "namespace": "shared-support", ...}}
    ...
    {"end": true, "rows": {"rooms": 1, ...}}

The header comes first: an import refuses a ``format_version`` newer than ``FORMAT_VERSION``. Rows come
table by table in ``storage.portability_tables.TABLE_NAMES`` order (parents first); their columns are
described there. The closing line tells a complete file from one cut short.

Import writes the rows as they are (ids, event indexes, idempotency keys, fact versions, change-log
sequence numbers, timestamps) in batches, one transaction each; rows already present are left alone,
so importing twice changes nothing and an interrupted import is finished by running it again.

Confidential content is exported as stored: sealed with the tenant's key (``mcp_memory.crypto``). With
``plain_cipher`` (the operator passed the key and asked for plain text) it is opened, and an import then
seals it again with the target's key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mcp_memory.crypto import CipherError, ContentCipher
from mcp_memory.portability.sealing import open_contents, seal_contents
from mcp_memory.services.sealing import KEY_CHECK_META
from storage import MemoryStore
from storage.contracts.reindex import EMBEDDING_DIMENSIONS_KEY, EMBEDDING_MODEL_KEY
from storage.models import utc_now
from storage.paging import isoformat
from storage.patterns import namespace_matches
from storage.portability_tables import TABLE_NAMES

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ExportReport",
    "FormatError",
    "ImportReport",
    "export_jsonl",
    "import_jsonl",
    "select_namespaces",
]

FORMAT = "mcp-memory-export"
#: Version of the line format this code writes; it reads every version up to this one.
FORMAT_VERSION = 1
#: Rows per store call (export page, import transaction).
DEFAULT_BATCH_ROWS = 500

#: Called with ``(table, rows done in that table)`` after every batch.
Progress = Callable[[str, int], None]


class FormatError(ValueError):
    """The input is not an export this code can import (newer version, wrong key, malformed line)."""


@dataclass
class ExportReport:
    """Rows written per table and the wall time in seconds."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class ImportReport:
    """Rows read and rows new to the store per table; whether the export carried vectors."""

    header: dict[str, Any] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)
    inserted: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def vectors(self) -> bool:
        """True when the export carried the embeddings (else they must be made again)."""
        return bool(self.header.get("vectors"))


async def select_namespaces(store: MemoryStore, patterns: Iterable[str] | None) -> list[str] | None:
    """The store's namespaces matching any of ``patterns`` (``*`` wildcards); ``None`` for no patterns."""
    wanted = [p for p in patterns or () if p]
    if not wanted:
        return None
    names = await store.export_namespaces()
    return [n for n in names if any(namespace_matches(p, n) for p in wanted)]


async def export_jsonl(
    store: MemoryStore,
    write: Callable[[str], object],
    *,
    patterns: Iterable[str] | None = None,
    vectors: bool = True,
    plain_cipher: ContentCipher | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
) -> ExportReport:
    """Write the tenant in ``store`` as JSON Lines through ``write`` (called once per line, with ``\\n``).

    Args:
        store: an open store.
        write: e.g. ``sys.stdout.write`` or a file's ``write``.
        patterns: namespace patterns (``shared-*``); none exports every namespace and the tenant-wide
            tables. With patterns, rooms' children, tasks, alerts and identities follow their rooms.
        vectors: include embeddings; without them an import re-embeds (``ImportReport.vectors``).
        plain_cipher: open sealed confidential content with this key (plain-text export).
        batch_rows: rows per store read.
        progress: called after each batch with ``(table, rows so far)``.

    Raises:
        CipherError: ``plain_cipher`` cannot open some sealed content (not the tenant's key).
        StorageError: the store failed.
    """
    started = time.monotonic()
    namespaces = await select_namespaces(store, patterns)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": isoformat(utc_now()),
        "backend": store.backend,
        "schema_version": await store.schema_version(),
        "namespaces": namespaces,
        "vectors": vectors,
        "sealed": plain_cipher is None,
        "embedding_model": await store.get_meta(EMBEDDING_MODEL_KEY) if vectors else None,
        "embedding_dimensions": await store.get_meta(EMBEDDING_DIMENSIONS_KEY) if vectors else None,
    }
    write(json.dumps(header, ensure_ascii=False) + "\n")
    report = ExportReport()
    for table in TABLE_NAMES:
        count = 0
        after: tuple[Any, ...] | None = None
        while True:
            batch = await store.export_rows(
                table, namespaces=namespaces, vectors=vectors, after=after, limit=batch_rows
            )
            for row in batch.rows:
                if plain_cipher is not None:
                    if table == "meta" and row.get("key") == KEY_CHECK_META:
                        continue  # plain content is sealed again with the target's key and check
                    row = open_contents(row, plain_cipher)
                write(json.dumps({"table": table, "row": row}, ensure_ascii=False) + "\n")
                count += 1
            if progress is not None:
                progress(table, count)
            if batch.after is None:
                break
            after = batch.after
        report.rows[table] = count
    write(json.dumps({"end": True, "rows": report.rows}) + "\n")
    report.seconds = time.monotonic() - started
    return report


def _parse(line: str, number: int) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FormatError(f"line {number} is not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise FormatError(f"line {number} is not a JSON object")
    return value


def check_header(header: dict[str, Any]) -> None:
    """Refuse what is not an export of a format version this code reads.

    Raises:
        FormatError: not an mcp-memory export, or a newer format version.
    """
    if header.get("format") != FORMAT:
        raise FormatError(f"the first line is not an {FORMAT} header: is this an mcp-memory export?")
    version = header.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise FormatError("the header's format_version is missing or not a positive integer")
    if version > FORMAT_VERSION:
        raise FormatError(
            f"this export has format version {version}, newer than the {FORMAT_VERSION} this mcp-memory "
            "reads: import it with a newer mcp-memory"
        )


async def import_jsonl(
    store: MemoryStore,
    lines: Iterable[str],
    *,
    cipher: ContentCipher | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
) -> ImportReport:
    """Import an export (its lines, header first) into ``store``; rows already present are kept.

    Args:
        store: the target store (usually empty; any backend).
        lines: the export's lines (a file object works).
        cipher: the target's encryption key: checks that sealed content was sealed with it, and seals the
            confidential content of a plain-text export.
        batch_rows: rows per transaction.
        progress: called after each batch with ``(table, rows so far)``.

    Raises:
        FormatError: not an export, a newer format version, a malformed line, another embedding size or
            encryption key than the target's, plain confidential content without ``cipher``, or a file
            cut short (rows before the cut are imported: run again with the whole file).
        StorageError: the store refused a batch (earlier batches stay; importing again is safe).
    """
    started = time.monotonic()
    report = ImportReport()
    numbered = enumerate((line for line in lines if line.strip()), start=1)
    first = next(numbered, None)
    if first is None:
        raise FormatError("the input is empty: no export header")
    report.header = header = _parse(first[1], 1)
    check_header(header)
    if header.get("sealed") is False and cipher is None:
        raise FormatError(
            "this export holds confidential content in plain text: configure the target's encryption_key "
            "(MCP_MEMORY_ENCRYPTION_KEY) so it is sealed again"
        )
    await _check_dimensions(store, header)
    pending: list[dict[str, Any]] = []
    table = ""
    ended = False

    async def flush() -> None:
        if pending:
            inserted = await store.import_rows(table, pending)
            report.inserted[table] = report.inserted.get(table, 0) + inserted
            report.read[table] = report.read.get(table, 0) + len(pending)
            pending.clear()
            if progress is not None:
                progress(table, report.read[table])

    for number, line in numbered:
        item = _parse(line, number)
        if ended:
            raise FormatError(f"line {number} follows the export's closing line")
        if item.get("end") is True:
            ended = True
            continue
        name, row = item.get("table"), item.get("row")
        if not isinstance(name, str) or not isinstance(row, dict):
            raise FormatError(f'line {number} is neither a {{"table", "row"}} line nor the closing line')
        if name != table or len(pending) >= batch_rows:
            await flush()
            table = name
        if name == "meta" and row.get("key") == KEY_CHECK_META and cipher is not None:
            _check_key(cipher, row.get("value"))
        try:
            pending.append(seal_contents(row, cipher) if header.get("sealed") is False else row)
        except CipherError as exc:
            raise FormatError(str(exc)) from None
    await flush()
    report.seconds = time.monotonic() - started
    if not ended:
        raise FormatError(
            "the export ends without its closing line: it was cut short (rows read so far are in)"
        )
    return report


async def _check_dimensions(store: MemoryStore, header: dict[str, Any]) -> None:
    exported = header.get("embedding_dimensions")
    if not header.get("vectors") or exported is None:
        return
    current = await store.get_meta(EMBEDDING_DIMENSIONS_KEY)
    if current is not None and str(current) != str(exported):
        raise FormatError(
            f"the export's vectors have {exported} dimensions but this store's have {current}: import into "
            "an empty store, or export again with --no-vectors and re-embed"
        )


def _check_key(cipher: ContentCipher, check: object) -> None:
    try:
        cipher.open(str(check), kind="key-check")
    except CipherError:
        raise FormatError(
            "the export's confidential content was sealed with another key than the target's encryption_key: "
            "import with the source's key, or export in plain text (--plain with the source's key)"
        ) from None
