"""Export and import of whole tables (``PortabilityStore``) on every backend."""

from __future__ import annotations

import pytest

from storage import InvalidInputError, MemoryStore
from storage.models import SearchRequest
from storage.portability_tables import IGNORED_COLUMNS, TABLES
from tests.storage.contract.conftest import StoreFactory
from tests.storage.contract.portable_data import copy, dump, seed_every_area
from tests.storage.contract.support import axis

pytestmark = pytest.mark.anyio


async def test_every_physical_column_is_exported_or_deliberately_ignored(store: MemoryStore) -> None:
    for table in TABLES:
        physical = await store._port_columns(table.name)  # type: ignore[attr-defined]
        covered = {name for column in table.columns for name in column.candidates}
        missing = set(physical) - covered - IGNORED_COLUMNS.get(table.name, frozenset())
        assert not missing, f"{table.name}: columns {sorted(missing)} are neither exported nor ignored"
        for column in table.columns:
            assert any(name in physical for name in column.candidates), f"{table.name}.{column.name}"


async def test_export_then_import_into_an_empty_store_gives_the_same_rows(
    store: MemoryStore, store_factory: StoreFactory
) -> None:
    ids = await seed_every_area(store)
    target = await store_factory.new_store()

    inserted = await copy(store, target)

    assert await dump(target) == await dump(store)
    assert inserted["events"] == 3
    assert inserted["namespace_changes"] >= 6
    # The copy works as a store: ids, indexes and versions carry on where they were.
    assert (await target.get_event(ids["event_id"])).index == 1
    assert (await target.get_room(ids["room_id"])).state.handoff_count == 1
    hits = await target.search(SearchRequest(query="prefers email", namespaces=["shared-support"]), axis(2))
    assert hits
    assert hits[0].memory is not None
    assert hits[0].memory.memory_id == ids["memory_id"]
    fact = await target.set_fact("shared-support", "plan", {"tier": "x"}, expected_version=2)
    assert fact.version == 3
    history = await target.fact_history("shared-support", "region")
    assert [(c.version, c.deleted, c.value) for c in history] == [(2, True, None), (1, False, "eu")]


async def test_importing_twice_changes_nothing(store: MemoryStore, store_factory: StoreFactory) -> None:
    await seed_every_area(store)
    target = await store_factory.new_store()
    await copy(store, target)
    before = await dump(target)

    again = await copy(store, target)

    assert sum(again.values()) == 0
    assert await dump(target) == before


async def test_namespace_selection_keeps_only_that_namespace_and_what_hangs_on_it(
    store: MemoryStore,
) -> None:
    await seed_every_area(store)

    data = await dump(store, namespaces=["agent-billing"])

    assert [m["content"] for m in data["memories"]] == ["refund policy v2"]
    assert data["rooms"] == data["events"] == data["tasks"] == data["alerts"] == data["identities"] == []
    full = await dump(store, namespaces=["shared-support"])
    assert len(full["events"]) == 3
    assert len(full["identities"]) == 1
    assert len(full["addresses"]) == 2
    assert "agent-billing" in await store.export_namespaces()


async def test_an_export_without_vectors_leaves_embeddings_out(store: MemoryStore) -> None:
    await seed_every_area(store)

    data = await dump(store, vectors=False)

    assert all("embedding" not in row for row in data["search_docs"])
    assert all("before_embedding" not in row for row in data["namespace_changes"])
    assert not {row["key"] for row in data["meta"]} & {"embedding_model", "embedding_dimensions"}


async def test_bad_rows_are_refused_and_nothing_is_written(store: MemoryStore) -> None:
    good = {
        "identity_id": "idn_1",
        "display_name": None,
        "metadata": {},
        "created_at": "2026-01-01T00:00:00.000000+00:00",
    }
    with pytest.raises(InvalidInputError):
        await store.import_rows(
            "identities", [good, {**good, "identity_id": "idn_2", "created_at": "yesterday"}]
        )
    with pytest.raises(InvalidInputError):
        await store.import_rows("no_such_table", [good])
    with pytest.raises(InvalidInputError):
        await store.import_rows("identities", [{"identity_id": "idn_3"}])
    assert (await dump(store))["identities"] == []
