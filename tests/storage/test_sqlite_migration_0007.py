"""SQLite migration 0007 (PostgreSQL's column names for the rooms area) keeps the rows written before it."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from storage import open_store
from storage.migrate import load_migrations
from storage.models import Sensitivity
from storage.sqlite.connection import Database

pytestmark = pytest.mark.anyio

_AT = "2026-01-02T03:04:05.000000+00:00"


def _write_before_0007(conn: apsw.Connection) -> None:
    """Rows as the code before migration 0007 wrote them (its column names)."""
    conn.execute(
        "INSERT INTO rooms (room_id, namespace, name, status, metadata, state_updated_at, last_event_index,"
        " created_at) VALUES ('room_1', 'shared-rooms', 'case', 'open', '{}', ?, 1, ?)",
        (_AT, _AT),
    )
    conn.execute(
        "INSERT INTO events (event_id, room_id, idx, type, content, visibility, sensitivity, sensitivity_level,"
        " source_channel_type, source_channel_id, sender_identity_id, source_agent, metadata, occurred_at,"
        " created_at) VALUES ('evt_1', 'room_1', 1, 'message', 'hello', 'all', 'confidential', 2, 'sms',"
        " 'chan_1', 'idn_1', 'triage', '{}', ?, ?)",
        (_AT, _AT),
    )
    conn.execute("INSERT INTO identities (identity_id, created_at) VALUES ('idn_1', ?)", (_AT,))
    for address in ("+15550002", "+15550001"):
        conn.execute(
            "INSERT INTO addresses (channel_type, address, identity_id, created_at) VALUES ('sms', ?, 'idn_1', ?)",
            (address, _AT),
        )
    for participant in ("b", "a"):
        conn.execute(
            "INSERT INTO participants (room_id, participant_id, kind, joined_at) VALUES ('room_1', ?, 'agent', ?)",
            (participant, _AT),
        )
    for channel in ("chan_2", "chan_1"):
        conn.execute(
            "INSERT INTO channel_bindings (room_id, channel_id, channel_type, config, created_at, updated_at)"
            " VALUES ('room_1', ?, 'sms', '{}', ?, ?)",
            (channel, _AT, _AT),
        )


async def test_rows_written_before_migration_0007_read_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Database(path, 5.0)
    await old.open([m for m in load_migrations("storage.sqlite") if m.version < 7])
    await old.write(_write_before_0007)
    await old.close()

    store = await open_store(f"sqlite:///{path}")
    try:
        [event] = await store.list_events("room_1")
        identity = await store.get_identity("idn_1")
        participants = await store.list_participants("room_1")
        bindings = await store.list_channel_bindings("room_1")
    finally:
        await store.close()

    assert event.sensitivity is Sensitivity.CONFIDENTIAL
    assert (event.source.channel_type, event.source.channel_id, event.source.agent) == (
        "sms",
        "chan_1",
        "triage",
    )
    assert event.source.sender_identity_id == "idn_1"
    assert [a.address for a in identity.addresses] == ["+15550002", "+15550001"]  # linking order kept
    assert [p.participant_id for p in participants] == ["b", "a"]
    assert [b.channel_id for b in bindings] == ["chan_2", "chan_1"]
