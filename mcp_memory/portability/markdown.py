"""A tenant's memories and facts as Markdown folders, and edits made to them applied back.

``export_markdown`` writes ``<folder>/<namespace>/<memory_id>.md`` per memory and
``<folder>/<namespace>/_facts.md`` per namespace with facts (``markdown_files``): readable, diffable in
git. Confidential content stays sealed unless a key is given to open it (``plain_cipher``).

``import_markdown`` applies the folder back through the service's normal write path, as one principal
(its policy decides what it may write; every write goes to the change log; the run is audited as
``import_markdown`` with the ids it wrote):

- a file whose memory is unchanged is left alone;
- a file whose memory changed (content, kind, tags, sensitivity, importance, metadata, namespace, session,
  room, task) replaces it: the new version is remembered, then the old one forgotten (memories are
  immutable: the new version has a new id), and the file is rewritten under the new id;
- a file without an id, or whose id no longer exists, becomes a new memory (file rewritten with its id);
- a fact whose value or sensitivity changed is set at the version read from the file, so a fact changed
  in the store meanwhile is reported as a conflict and left as it is.

Files deleted from the folder delete nothing. Every file is read and checked before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mcp_memory.auth import Principal
from mcp_memory.crypto import SEALED_PREFIX, ContentCipher
from mcp_memory.portability.jsonl import select_namespaces
from mcp_memory.portability.markdown_files import (
    FACTS_FILE,
    FactEntry,
    MemoryFile,
    facts_text,
    memory_text,
    read_facts,
    read_memory,
)
from mcp_memory.services import Service
from storage import ConflictError, MemoryStore, NotFoundError, PermissionDeniedError
from storage.models import Fact, Memory, MemoryFilter
from storage.paging import MAX_PAGE_SIZE

__all__ = ["MarkdownExportReport", "MarkdownImportReport", "export_markdown", "import_markdown"]

#: Called with ``(path, files done)`` after each file.
Progress = Callable[[str, int], None]


@dataclass
class MarkdownExportReport:
    """Files written."""

    memories: int = 0
    fact_files: int = 0


@dataclass
class MarkdownImportReport:
    """What an import changed: ids of new memories, old id -> new id of replaced ones, facts set
    (``namespace/key``), facts left because they changed meanwhile, and files left as they were."""

    created: list[str] = field(default_factory=list)
    replaced: dict[str, str] = field(default_factory=dict)
    facts_set: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unchanged: int = 0


def _markdown_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.md"))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _remove(path: Path) -> None:
    path.unlink()


def _open(memory: Memory, cipher: ContentCipher | None) -> str:
    if cipher is None or not memory.content.startswith(SEALED_PREFIX):
        return memory.content
    return cipher.open(memory.content, kind="memory")


async def export_markdown(
    store: MemoryStore,
    folder: Path,
    *,
    patterns: Iterable[str] | None = None,
    plain_cipher: ContentCipher | None = None,
    progress: Progress | None = None,
) -> MarkdownExportReport:
    """Write the memories and facts of the namespaces matching ``patterns`` (all without) under ``folder``.

    Raises:
        CipherError: ``plain_cipher`` cannot open a sealed content.
        OSError: the folder cannot be written.
        StorageError: the store failed.
    """
    report = MarkdownExportReport()
    namespaces = await select_namespaces(store, patterns)
    for namespace in namespaces if namespaces is not None else await store.export_namespaces():
        target = folder / namespace
        cursor: str | None = None
        while True:
            page = await store.list_memories(
                MemoryFilter(namespaces=[namespace]), limit=MAX_PAGE_SIZE, cursor=cursor
            )
            for memory in page.items:
                path = target / f"{memory.memory_id}.md"
                _write(path, memory_text(memory, _open(memory, plain_cipher)))
                report.memories += 1
                if progress is not None:
                    progress(str(path), report.memories)
            if (cursor := page.next_cursor) is None:
                break
        facts = await _facts(store, namespace)
        if facts:
            _write(target / FACTS_FILE, facts_text(namespace, facts))
            report.fact_files += 1
    return report


async def _facts(store: MemoryStore, namespace: str) -> list[Fact]:
    facts: list[Fact] = []
    cursor: str | None = None
    while True:
        page = await store.list_facts(namespace, limit=MAX_PAGE_SIZE, cursor=cursor)
        facts.extend(page.items)
        if (cursor := page.next_cursor) is None:
            return facts


async def import_markdown(
    service: Service, principal: Principal, folder: Path, *, progress: Progress | None = None
) -> MarkdownImportReport:
    """Apply the Markdown folder ``folder`` as ``principal`` (see the module docstring).

    Raises:
        MarkdownError: a file cannot be read back (nothing was written).
        PermissionDeniedError, InvalidInputError, NotFoundError: the service refused a write (files
            applied before it stay applied; importing again is safe).
    """
    memories: list[MemoryFile] = []
    facts: list[tuple[Path, str, list[FactEntry]]] = []
    for path in _markdown_files(folder):
        folder_namespace = path.parent.name
        if path.name == FACTS_FILE:
            facts.append((path, *read_facts(path, folder_namespace)))
        else:
            memories.append(read_memory(path, folder_namespace))
    report = MarkdownImportReport()
    # One audit record for the run: the service calls made inside it join it instead of adding their own.
    async with service.context.audit_log.call(principal.agent, kind="tool", name="import_markdown") as call:
        try:
            for done, item in enumerate(memories, start=1):
                await _apply_memory(service, principal, item, report)
                if progress is not None:
                    progress(str(item.path), done)
            for path, namespace, entries in facts:
                await _apply_facts(service, principal, path, namespace, entries, report)
        finally:
            call.add_ids([*report.created, *report.replaced, *report.replaced.values(), *report.facts_set])
    return report


async def _apply_memory(
    service: Service, principal: Principal, item: MemoryFile, report: MarkdownImportReport
) -> None:
    sealer = service.context.sealer
    current: Memory | None = None
    if item.memory_id is not None:
        try:
            current = await service.store.get_memory(item.memory_id, scope=principal.scope())
        except NotFoundError:
            current = None
    content = item.content
    if current is not None:
        try:
            opened = sealer.reveal(current).content
        except PermissionDeniedError:
            opened = current.content
        if not item.differs_from(current, opened):
            report.unchanged += 1
            return
        if item.content == current.content:
            content = opened  # still the sealed text: the edit was elsewhere
    if content.startswith(SEALED_PREFIX):
        raise PermissionDeniedError(
            f"{item.path}: the content is sealed and this server cannot open it: configure the tenant's "
            "encryption_key, or export with --plain to edit confidential memories"
        )
    new = await service.memories.remember(
        principal,
        content,
        namespace=item.namespace,
        kind=item.kind,
        tags=item.tags,
        metadata=item.metadata,
        sensitivity=item.sensitivity,
        importance=item.importance,
        session_id=item.session_id,
        room_id=item.room_id,
        task_id=item.task_id,
    )
    if current is not None:
        await service.memories.forget(principal, current.memory_id)
        report.replaced[current.memory_id] = new.memory_id
    else:
        report.created.append(new.memory_id)
    written = item.path.with_name(f"{new.memory_id}.md")
    stored = await service.store.get_memory(new.memory_id)
    # Written back in the form it was read: sealed text stays sealed, plain text stays plain.
    _write(
        written, memory_text(stored, stored.content if item.content.startswith(SEALED_PREFIX) else content)
    )
    if written != item.path:
        _remove(item.path)


async def _apply_facts(
    service: Service,
    principal: Principal,
    path: Path,
    namespace: str,
    entries: list[FactEntry],
    report: MarkdownImportReport,
) -> None:
    for entry in entries:
        try:
            current = await service.store.get_fact(namespace, entry.key, scope=principal.scope())
        except NotFoundError:
            current = None
        if current is not None and (current.value, current.sensitivity) == (entry.value, entry.sensitivity):
            continue
        try:
            await service.facts.set_fact(
                principal,
                namespace,
                entry.key,
                entry.value,
                expected_version=entry.version,
                sensitivity=entry.sensitivity,
            )
        except ConflictError:
            report.conflicts.append(f"{namespace}/{entry.key}")
            continue
        report.facts_set.append(f"{namespace}/{entry.key}")
    _write(path, facts_text(namespace, await _facts(service.store, namespace)))
