"""The ``store`` fixture: every contract test runs once per backend (``sqlite``, ``postgres``).

Each test gets a fresh database: a new SQLite file under ``tmp_path``, or a new PostgreSQL database
(``mcpmem_t_<hex>``) dropped after the test. PostgreSQL databases are copied from a template migrated once
per session (``mcpmem_tpl_<hex>``): measured ~0.53 s per test against ~0.61 s for create + migrate, a gap
that grows with every migration. ``store_factory`` opens more stores when a test needs them
(a second handle on the same database, or a fresh store per hypothesis example).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage import MemoryStore, open_store
from tests.conftest import PostgresServer

#: Store-level tests use small hand-written vectors (see ``tests/storage/contract/support.py``).
EMBEDDING_DIMENSIONS = 8


class StoreFactory:
    """Makes fresh databases for one backend and opens stores on them; closes and drops all at the end."""

    def __init__(
        self, backend: str, tmp_path: Path, postgres: PostgresServer | None, template: str | None
    ) -> None:
        self.backend = backend
        self._tmp_path = tmp_path
        self._postgres = postgres
        self._template = template
        self._stores: list[MemoryStore] = []
        self._databases: list[str] = []
        self._files = 0

    async def new_url(self) -> str:
        """Return the URL of a new, empty database."""
        self._files += 1
        if self.backend == "sqlite":
            return f"sqlite:///{self._tmp_path}/memory-{self._files}.db"
        assert self._postgres is not None
        name = await self._postgres.create_database(template=self._template)
        self._databases.append(name)
        return self._postgres.dsn(name)

    async def open(self, url: str, **options: Any) -> MemoryStore:
        """Open (and migrate) a store on ``url`` (``options`` of ``open_store``); closed at teardown."""
        store = await open_store(url, embedding_dimensions=EMBEDDING_DIMENSIONS, **options)
        self._stores.append(store)
        return store

    async def new_store(self) -> MemoryStore:
        """Open a store on a new, empty database."""
        return await self.open(await self.new_url())

    async def aclose(self) -> None:
        for store in reversed(self._stores):
            await store.close()
        if self._postgres is not None:
            for name in self._databases:
                await self._postgres.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test."""
    return str(request.param)


@pytest.fixture(scope="session")
async def postgres_template(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A database migrated by ``PostgresStore`` once per session, copied for every test."""
    name = await postgres_server.create_database(prefix="mcpmem_tpl_")
    try:
        store = await open_store(postgres_server.dsn(name), embedding_dimensions=EMBEDDING_DIMENSIONS)
        await store.close()
        yield name
    finally:
        await postgres_server.drop_database(name)


@pytest.fixture
def backend_server(backend: str, request: pytest.FixtureRequest) -> tuple[PostgresServer, str] | None:
    """The PostgreSQL server and template when the backend needs them (skip or fail when unreachable)."""
    if backend != "postgres":
        return None
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    assert isinstance(server, PostgresServer)
    return server, str(template)


@pytest.fixture
async def store_factory(
    backend: str, tmp_path: Path, backend_server: tuple[PostgresServer, str] | None
) -> AsyncIterator[StoreFactory]:
    postgres, template = backend_server if backend_server else (None, None)
    factory = StoreFactory(backend, tmp_path, postgres, template)
    try:
        yield factory
    finally:
        await factory.aclose()


@pytest.fixture
async def store(store_factory: StoreFactory) -> MemoryStore:
    """A migrated store on a fresh database of the backend under test."""
    return await store_factory.new_store()
