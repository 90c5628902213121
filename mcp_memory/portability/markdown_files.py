"""The Markdown files of an export: one per memory, one per namespace's facts (YAML front matter).

A memory file, ``<namespace>/<memory_id>.md``::

    ---
    id: mem_...
    namespace: shared-support
    kind: observation
    tags: [vip]
    sensitivity: internal
    importance: 0.8
    author: triage
    session_id: null
    room_id: room_...
    task_id: null
    metadata: {source: chat}
    created_at: '2026-12-01T10:00:00.000000+00:00'
    updated_at: '2026-12-01T10:00:00.000000+00:00'
    ---
    The content, exactly (one final newline added).

A facts file, ``<namespace>/_facts.md``: the facts in the front matter (``key: {value, version,
sensitivity, updated_by, updated_at}``), and a table of them as the body for reading (the body is
regenerated, edits to it are ignored).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from storage.models import Fact, Memory, Sensitivity
from storage.paging import isoformat

__all__ = [
    "FACTS_FILE",
    "FactEntry",
    "MarkdownError",
    "MemoryFile",
    "facts_text",
    "memory_text",
    "read_facts",
    "read_memory",
]

#: Name of the facts file in each namespace folder.
FACTS_FILE = "_facts.md"
_FENCE = "---\n"


class MarkdownError(ValueError):
    """A file of a Markdown export cannot be read back (no front matter, bad YAML, bad field)."""


@dataclass(frozen=True)
class MemoryFile:
    """A memory as read from its file; ``memory_id`` is ``None`` for a new file without an id."""

    path: Path
    memory_id: str | None
    namespace: str
    content: str
    kind: str
    tags: list[str]
    sensitivity: Sensitivity
    importance: float
    metadata: dict[str, Any]
    session_id: str | None
    room_id: str | None
    task_id: str | None

    def differs_from(self, memory: Memory, content: str) -> bool:
        """True when an editable field differs from ``memory`` (whose content, opened, is ``content``)."""
        mine = (self.namespace, self.kind, self.tags, self.sensitivity, self.importance, self.metadata)
        theirs = (memory.namespace, memory.kind, memory.tags, memory.sensitivity, memory.importance)
        places = (self.session_id, self.room_id, self.task_id)
        return (
            mine != (*theirs, memory.metadata)
            or places != (memory.session_id, memory.room_id, memory.task_id)
            or self.content not in (content, memory.content)
        )


@dataclass(frozen=True)
class FactEntry:
    """One fact of a facts file: the version it was read at (``0``: a new key)."""

    key: str
    value: Any
    version: int
    sensitivity: Sensitivity


def memory_text(memory: Memory, content: str) -> str:
    """The file of ``memory`` with ``content`` as its body (the stored or the opened content)."""
    front = {
        "id": memory.memory_id,
        "namespace": memory.namespace,
        "kind": memory.kind,
        "tags": list(memory.tags),
        "sensitivity": memory.sensitivity.value,
        "importance": memory.importance,
        "author": memory.author,
        "session_id": memory.session_id,
        "room_id": memory.room_id,
        "task_id": memory.task_id,
        "metadata": memory.metadata,
        "created_at": isoformat(memory.created_at),
        "updated_at": isoformat(memory.updated_at),
    }
    return _FENCE + str(yaml.safe_dump(front, sort_keys=False, allow_unicode=True)) + _FENCE + content + "\n"


def facts_text(namespace: str, facts: list[Fact]) -> str:
    """The facts file of ``namespace``."""
    front = {
        "namespace": namespace,
        "facts": {
            f.key: {
                "value": f.value,
                "version": f.version,
                "sensitivity": f.sensitivity.value,
                "updated_by": f.updated_by,
                "updated_at": isoformat(f.updated_at),
            }
            for f in facts
        },
    }
    lines = [
        f"# Facts of {namespace}",
        "",
        "Edit the values above (front matter); this table is regenerated.",
        "",
    ]
    lines += ["| key | value | version | sensitivity |", "|---|---|---|---|"]
    lines += [
        f"| {f.key} | `{json.dumps(f.value, ensure_ascii=False)}` | {f.version} | {f.sensitivity.value} |"
        for f in facts
    ]
    header = str(yaml.safe_dump(front, sort_keys=False, allow_unicode=True))
    return _FENCE + header + _FENCE + "\n".join(lines) + "\n"


def _split(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    if not text.startswith(_FENCE):
        raise MarkdownError(f"{path}: no front matter (the file must start with a line '---')")
    end = text.find("\n" + _FENCE, len(_FENCE) - 1)
    if end < 0:
        raise MarkdownError(f"{path}: the front matter has no closing line '---'")
    try:
        front = yaml.safe_load(text[len(_FENCE) : end + 1]) or {}
    except yaml.YAMLError as exc:
        raise MarkdownError(f"{path}: the front matter is not valid YAML: {exc}") from None
    if not isinstance(front, dict):
        raise MarkdownError(f"{path}: the front matter is not a mapping of fields")
    body = text[end + 1 + len(_FENCE) :]
    return front, body[:-1] if body.endswith("\n") else body


def _optional_text(path: Path, front: dict[str, Any], name: str) -> str | None:
    value = front.get(name)
    if value is not None and not isinstance(value, str):
        raise MarkdownError(f"{path}: {name} must be text")
    return value


def read_memory(path: Path, folder_namespace: str) -> MemoryFile:
    """Read a memory file; a missing namespace is the folder's.

    Raises:
        MarkdownError: malformed front matter or field (the message names the file and field).
    """
    front, body = _split(path)
    tags = front.get("tags") or []
    metadata = front.get("metadata") or {}
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise MarkdownError(f"{path}: tags must be a list of text")
    if not isinstance(metadata, dict):
        raise MarkdownError(f"{path}: metadata must be a mapping")
    try:
        sensitivity = Sensitivity(front.get("sensitivity") or Sensitivity.INTERNAL.value)
        importance = float(front.get("importance", 0.5))
    except (ValueError, TypeError) as exc:
        raise MarkdownError(f"{path}: {exc}") from None
    if not body.strip():
        raise MarkdownError(f"{path}: the body (the memory's content) is empty")
    return MemoryFile(
        path=path,
        memory_id=_optional_text(path, front, "id"),
        namespace=_optional_text(path, front, "namespace") or folder_namespace,
        content=body,
        kind=_optional_text(path, front, "kind") or "note",
        tags=tags,
        sensitivity=sensitivity,
        importance=importance,
        metadata=metadata,
        session_id=_optional_text(path, front, "session_id"),
        room_id=_optional_text(path, front, "room_id"),
        task_id=_optional_text(path, front, "task_id"),
    )


def read_facts(path: Path, folder_namespace: str) -> tuple[str, list[FactEntry]]:
    """Read a facts file: its namespace and facts.

    Raises:
        MarkdownError: malformed front matter or fact.
    """
    front, _ = _split(path)
    namespace = _optional_text(path, front, "namespace") or folder_namespace
    facts = front.get("facts") or {}
    if not isinstance(facts, dict):
        raise MarkdownError(f"{path}: facts must be a mapping of key to {{value, version, sensitivity}}")
    entries: list[FactEntry] = []
    for key, item in facts.items():
        if not isinstance(item, dict) or "value" not in item:
            raise MarkdownError(f"{path}: fact {key!r} must be a mapping with a value")
        try:
            version = int(item.get("version") or 0)
            sensitivity = Sensitivity(item.get("sensitivity") or Sensitivity.INTERNAL.value)
        except (ValueError, TypeError) as exc:
            raise MarkdownError(f"{path}: fact {key!r}: {exc}") from None
        entries.append(FactEntry(key=str(key), value=item["value"], version=version, sensitivity=sensitivity))
    return namespace, entries
