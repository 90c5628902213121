"""The session's PostgreSQL working database is really emptied between uses, and replaced when a test
changed its schema (``tests/conftest.py``)."""

from __future__ import annotations

import asyncpg
import pytest

from storage import AuditOutcome, NewAuditRecord, open_store
from storage.models import NewRoom
from tests.conftest import PostgresDatabases

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

RECORD = NewAuditRecord(
    agent="triage", kind="tool", name="create_room", outcome=AuditOutcome.OK, duration_ms=1
)


async def test_the_working_database_is_emptied_and_its_sequences_restart(
    pg_databases: PostgresDatabases,
) -> None:
    url = await pg_databases.new_url()
    store = await open_store(url)
    try:
        await store.create_room(NewRoom(name="left behind"))
        assert (await store.append_audit(RECORD)).seq == 1
        assert (await store.append_audit(RECORD)).seq == 2
    finally:
        await store.close()

    again = await pg_databases.renew_url()
    assert again == url
    store = await open_store(again)
    try:
        assert (await store.list_rooms()).items == []
        assert (await store.append_audit(RECORD)).seq == 1  # the append-only log too, its sequence restarted
    finally:
        await store.close()


async def test_a_second_database_of_one_test_is_another_database(pg_databases: PostgresDatabases) -> None:
    first, second = await pg_databases.new_url(), await pg_databases.new_url()
    assert first != second
    store = await open_store(second)
    try:
        assert await store.schema_version() >= 1  # a migrated copy of the template
    finally:
        await store.close()


async def test_a_test_that_changes_the_schema_leaves_a_database_that_is_replaced(
    pg_databases: PostgresDatabases,
) -> None:
    url = await pg_databases.new_url()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("ALTER TABLE rooms ADD COLUMN stray integer")
    finally:
        await conn.close()

    fresh = await pg_databases.renew_url()
    conn = await asyncpg.connect(fresh)
    try:
        columns = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'rooms'"
        )
    finally:
        await conn.close()
    assert "stray" not in {c["column_name"] for c in columns}
