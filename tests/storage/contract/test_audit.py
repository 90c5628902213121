"""Audit log: append-only records of tool calls and resource reads, listed newest first with filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import AuditFilter, AuditOutcome, InvalidInputError, MemoryStore, NewAuditRecord
from tests.storage.contract.conftest import StoreFactory
from tests.storage.contract.support import at, collect_pages, is_utc

pytestmark = pytest.mark.anyio


def _record(agent: str = "triage", name: str = "store_event", **fields: object) -> NewAuditRecord:
    values: dict[str, object] = {
        "agent": agent,
        "kind": "tool",
        "name": name,
        "ids": [],
        "outcome": AuditOutcome.OK,
        "duration_ms": 1.5,
    }
    values.update(fields)
    return NewAuditRecord.model_validate(values)


async def test_append_audit_returns_the_record_with_a_growing_seq(store: MemoryStore) -> None:
    first = await store.append_audit(_record(ids=["room_1", "evt_1"]))
    second = await store.append_audit(
        _record(
            agent="billing",
            kind="resource",
            name="memory://rooms/room_1",
            outcome=AuditOutcome.ERROR,
            error_type="NotFoundError",
        )
    )

    assert second.seq > first.seq
    assert first.ids == ["room_1", "evt_1"]
    assert first.outcome is AuditOutcome.OK
    assert first.error_type is None
    assert first.duration_ms == 1.5
    assert is_utc(first.at)
    assert second.kind == "resource"
    assert second.error_type == "NotFoundError"
    page = await store.list_audit(AuditFilter())
    assert page.items == [second, first]


async def test_list_audit_filters_by_agent_name_outcome_item_and_time(store: MemoryStore) -> None:
    await store.append_audit(_record("triage", "store_event", ids=["room_a"], at=at("2026-01-01T10:00")))
    await store.append_audit(
        _record(
            "billing",
            "search_memory",
            outcome=AuditOutcome.ERROR,
            error_type="PermissionDeniedError",
            at=at("2026-01-01T11:00"),
        )
    )
    await store.append_audit(_record("triage", "list_events", ids=["room_b"], at=at("2026-01-01T12:00")))

    async def names(**filters: object) -> list[str]:
        page = await store.list_audit(AuditFilter.model_validate(filters))
        return [r.name for r in page.items]

    assert await names(agent="triage") == ["list_events", "store_event"]
    assert await names(name="search_memory") == ["search_memory"]
    assert await names(outcome="error") == ["search_memory"]
    assert await names(item_id="room_a") == ["store_event"]
    assert await names(since=at("2026-01-01T11:00")) == ["list_events", "search_memory"]
    assert await names(until=at("2026-01-01T11:00")) == ["store_event"]
    assert await names(kind="resource") == []


async def test_list_audit_pages_newest_first_without_gaps(store: MemoryStore) -> None:
    written = [await store.append_audit(_record(name=f"tool_{i}")) for i in range(7)]

    seen = await collect_pages(lambda c: store.list_audit(AuditFilter(), limit=3, cursor=c), limit=3)

    assert [r.seq for r in seen] == [r.seq for r in reversed(written)]


async def test_list_audit_refuses_a_foreign_cursor(store: MemoryStore) -> None:
    with pytest.raises(InvalidInputError):
        await store.list_audit(AuditFilter(), cursor="not-a-cursor")


async def test_the_database_refuses_to_change_or_delete_audit_records(
    store: MemoryStore, store_factory: StoreFactory
) -> None:
    """Append-only is enforced below the API: raw UPDATE/DELETE on the table fail in the database."""
    await store.append_audit(_record())
    if store_factory.backend == "sqlite":
        import apsw

        path = (await store.describe())["path"]
        conn = apsw.Connection(str(path))
        try:
            for sql in ("UPDATE audit_log SET agent = 'mallory'", "DELETE FROM audit_log"):
                with pytest.raises(apsw.ConstraintError, match="append-only"):
                    conn.execute(sql)
        finally:
            conn.close()
    else:
        import asyncpg

        conn = await asyncpg.connect(store._dsn)  # type: ignore[attr-defined]
        try:
            for sql in (
                "UPDATE audit_log SET agent = 'mallory'",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log",
            ):
                with pytest.raises(asyncpg.PostgresError, match="append-only"):
                    await conn.execute(sql)
        finally:
            await conn.close()
    page = await store.list_audit(AuditFilter())
    assert [r.agent for r in page.items] == ["triage"]


def test_the_audit_api_has_no_update_or_delete_path() -> None:
    names = [n for n in dir(MemoryStore) if "audit" in n]
    assert sorted(names) == ["append_audit", "list_audit"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    agents=st.lists(st.sampled_from(["triage", "billing", "technical"]), min_size=1, max_size=8),
    wanted=st.sampled_from(["triage", "billing", "technical"]),
    limit=st.integers(min_value=1, max_value=4),
)
async def test_audit_listing_is_exactly_the_matching_records_newest_first(
    store_factory: StoreFactory, agents: list[str], wanted: str, limit: int
) -> None:
    store = await store_factory.fresh_store()
    base = at("2026-03-01T00:00")
    written = [
        await store.append_audit(_record(agent, at=base + timedelta(seconds=i)))
        for i, agent in enumerate(agents)
    ]

    seen = await collect_pages(
        lambda c: store.list_audit(AuditFilter(agent=wanted), limit=limit, cursor=c), limit=limit
    )

    assert seen == [r for r in reversed(written) if r.agent == wanted]
