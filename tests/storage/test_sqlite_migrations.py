"""SQLite migration 0009: facts, change log and entities written before it read the same after it."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from storage import Scope, Sensitivity, open_store
from storage.migrate import load_migrations
from storage.sqlite.connection import Database

pytestmark = pytest.mark.anyio

_NOW = "2026-11-30T10:00:00.000000+00:00"


def _write_before_0009(conn: apsw.Connection) -> None:
    """Rows as the code before migration 0009 wrote them (text + level sensitivity columns)."""
    execute = conn.execute
    execute(
        "INSERT INTO facts (namespace, key, value, version, sensitivity, sensitivity_level, created_by,"
        " updated_by, created_at, updated_at) VALUES ('shared-x', 'plan', '\"gold\"', 1, 'confidential', 2,"
        " 'a', 'a', ?, ?)",
        (_NOW, _NOW),
    )
    execute("INSERT INTO namespace_heads (namespace, last_seq) VALUES ('shared-x', 1)")
    execute(
        "INSERT INTO namespace_changes (namespace, seq, item_type, item_key, op, version, sensitivity_level,"
        " before, after, actor, changed_at) VALUES ('shared-x', 1, 'fact', 'plan', 'set', 1, 2, NULL,"
        ' \'{"value":"gold","sensitivity":"confidential","version":1}\', \'a\', ?)',
        (_NOW,),
    )
    execute(
        "INSERT INTO entities (entity_id, namespace, type, name, properties, sensitivity_level, created_by,"
        " created_at, updated_at) VALUES ('ent_1', 'shared-x', 'customer', 'Ada', '{}', 0, 'a', ?, ?)",
        (_NOW, _NOW),
    )


async def test_rows_written_before_migration_0009_read_the_same_after_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Database(path, busy_timeout_seconds=5)
    await old.open([m for m in load_migrations("storage.sqlite") if m.version < 9])
    await old.write(_write_before_0009)
    await old.close()

    store = await open_store(f"sqlite:///{path}")
    try:
        fact = await store.get_fact("shared-x", "plan")
        assert (fact.value, fact.version, fact.sensitivity) == ("gold", 1, Sensitivity.CONFIDENTIAL)
        internal = Scope(agent="b", read_namespaces=("shared-*",), max_sensitivity=Sensitivity.INTERNAL)
        assert await store.fact_history("shared-x", "plan", scope=internal) == []
        history = await store.fact_history("shared-x", "plan")
        assert [(c.version, c.value) for c in history] == [(1, "gold")]
        entity = await store.get_entity("ent_1", scope=internal)
        assert (entity.name, entity.sensitivity) == ("Ada", Sensitivity.PUBLIC)
        updated = await store.set_fact("shared-x", "plan", "platinum", expected_version=1)
        assert updated.version == 2
    finally:
        await store.close()
