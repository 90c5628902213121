"""The ``store`` fixture: every contract test runs once per backend (``sqlite``, ``postgres``).

Each test gets an empty database: a new SQLite file under ``tmp_path``, or the session's migrated
PostgreSQL database emptied for it (``pg_databases`` in ``tests/conftest.py``). ``store_factory`` opens
more stores when a test needs them: a second handle on the same database (``open(url)``), another empty
database at the same time (``new_url()``), or an empty store per hypothesis example (``fresh_store()``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage import MemoryStore, open_store
from tests.conftest import PostgresDatabases

#: Store-level tests use small hand-written vectors (see ``tests/storage/contract/support.py``).
EMBEDDING_DIMENSIONS = 8


class StoreFactory:
    """Hands out empty databases of one backend and opens stores on them; closes them all at the end."""

    def __init__(self, backend: str, tmp_path: Path, postgres: PostgresDatabases | None) -> None:
        self.backend = backend
        self._tmp_path = tmp_path
        self._postgres = postgres
        self._stores: list[MemoryStore] = []
        self._files = 0

    async def new_url(self) -> str:
        """Return the URL of an empty database that no earlier URL of this test names."""
        self._files += 1
        if self.backend == "sqlite":
            return f"sqlite:///{self._tmp_path}/memory-{self._files}.db"
        assert self._postgres is not None
        return await self._postgres.new_url()

    async def open(self, url: str, **options: Any) -> MemoryStore:
        """Open (and migrate) a store on ``url`` (``options`` of ``open_store``); closed at teardown."""
        store = await open_store(url, embedding_dimensions=EMBEDDING_DIMENSIONS, **options)
        self._stores.append(store)
        return store

    async def new_store(self) -> MemoryStore:
        """Open a store on a new, empty database."""
        return await self.open(await self.new_url())

    async def fresh_store(self) -> MemoryStore:
        """Close the stores opened so far and open one on an empty database (one per hypothesis example).

        On PostgreSQL this empties the session's working database again instead of copying a new one.
        """
        await self._close_stores()
        if self.backend == "sqlite":
            return await self.new_store()
        assert self._postgres is not None
        return await self.open(await self._postgres.renew_url())

    async def _close_stores(self) -> None:
        stores, self._stores = self._stores, []
        for store in reversed(stores):
            await store.close()

    async def aclose(self) -> None:
        await self._close_stores()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test."""
    return str(request.param)


@pytest.fixture
def backend_databases(backend: str, request: pytest.FixtureRequest) -> PostgresDatabases | None:
    """This test's PostgreSQL databases when the backend needs them (skip or fail when unreachable)."""
    if backend != "postgres":
        return None
    databases = request.getfixturevalue("pg_databases")
    assert isinstance(databases, PostgresDatabases)
    return databases


@pytest.fixture
async def store_factory(
    backend: str, tmp_path: Path, backend_databases: PostgresDatabases | None
) -> AsyncIterator[StoreFactory]:
    factory = StoreFactory(backend, tmp_path, backend_databases)
    try:
        yield factory
    finally:
        await factory.aclose()


@pytest.fixture
async def store(store_factory: StoreFactory) -> MemoryStore:
    """A migrated store on an empty database of the backend under test."""
    return await store_factory.new_store()
