"""Markdown export of memories and facts, edited by hand and imported back through the service."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mcp_memory.portability.markdown import export_markdown, import_markdown
from mcp_memory.portability.markdown_files import FACTS_FILE, MarkdownError
from mcp_memory.services import open_service
from storage import AuditFilter
from storage.models import MemoryFilter
from tests.mcp_memory.conftest import make_settings

pytestmark = pytest.mark.anyio

NAMESPACE = "shared-notes"


def _front(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    return dict(yaml.safe_load(text.split("---\n")[1]))


async def test_an_edited_file_changes_exactly_its_memory_and_a_second_import_changes_nothing(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "export"
    async with open_service(make_settings(tmp_path / "data")) as service:
        me = service.principal("triage")
        written = [
            await service.memories.remember(me, f"note number {i}", namespace=NAMESPACE, tags=["t"])
            for i in range(3)
        ]
        await service.facts.set_fact(me, NAMESPACE, "plan", "gold")
        await service.memories.remember(me, "elsewhere", namespace="shared-other")

        report = await export_markdown(service.store, folder, patterns=["shared-notes"])
        assert (report.memories, report.fact_files) == (3, 1)
        assert not (folder / "shared-other").exists()

        edited = folder / NAMESPACE / f"{written[1].memory_id}.md"
        assert _front(edited)["tags"] == ["t"]
        edited.write_text(
            edited.read_text(encoding="utf-8").replace("note number 1", "note number one, revised")
        )
        (folder / NAMESPACE / "new.md").write_text("---\nkind: decision\n---\nA brand new memory\n")
        facts = folder / NAMESPACE / FACTS_FILE
        facts.write_text(facts.read_text(encoding="utf-8").replace("value: gold", "value: platinum"))

        result = await import_markdown(service, me, folder)

        assert result.unchanged == 2
        assert list(result.replaced) == [written[1].memory_id]
        assert len(result.created) == 1
        assert result.facts_set == [f"{NAMESPACE}/plan"]
        page = await service.memories.list_memories(me, MemoryFilter(namespaces=[NAMESPACE]), limit=10)
        contents = sorted(m.content for m in page.memories)
        assert contents == [
            "A brand new memory",
            "note number 0",
            "note number 2",
            "note number one, revised",
        ]
        ids = {m.memory_id for m in page.memories}
        assert {written[0].memory_id, written[2].memory_id} <= ids
        assert written[1].memory_id not in ids
        assert (await service.facts.get_fact(me, NAMESPACE, "plan")).value == "platinum"
        # The files now name the new memories, so importing again changes nothing.
        new_id = result.replaced[written[1].memory_id]
        assert not edited.exists()
        assert _front(folder / NAMESPACE / f"{new_id}.md")["id"] == new_id
        again = await import_markdown(service, me, folder)
        assert (again.unchanged, again.replaced, again.created, again.facts_set) == (4, {}, [], [])
        audit = await service.store.list_audit(AuditFilter(name="import_markdown"))
        # Each run is one record (its service calls join it); the run that changed nothing names no ids.
        assert sorted(len(r.ids) == 0 for r in audit.items) == [False, True]
        assert any(new_id in r.ids for r in audit.items)


async def test_a_fact_changed_in_the_store_meanwhile_is_reported_not_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    async with open_service(make_settings(tmp_path / "data")) as service:
        me = service.principal("triage")
        await service.facts.set_fact(me, NAMESPACE, "plan", "gold")
        await export_markdown(service.store, folder)
        await service.facts.set_fact(me, NAMESPACE, "plan", "silver", expected_version=1)
        facts = folder / NAMESPACE / FACTS_FILE
        facts.write_text(facts.read_text(encoding="utf-8").replace("value: gold", "value: platinum"))

        result = await import_markdown(service, me, folder)

        assert result.conflicts == [f"{NAMESPACE}/plan"]
        assert (await service.facts.get_fact(me, NAMESPACE, "plan")).value == "silver"


async def test_a_broken_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "export" / NAMESPACE
    folder.mkdir(parents=True)
    (folder / "a.md").write_text("---\nkind: note\n---\nfine\n")
    (folder / "b.md").write_text("no front matter here\n")
    async with open_service(make_settings(tmp_path / "data")) as service:
        with pytest.raises(MarkdownError, match="b.md"):
            await import_markdown(service, service.principal("triage"), folder.parent)
        page = await service.store.list_memories(MemoryFilter())
        assert page.items == []
