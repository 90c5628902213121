"""Vector search of the PostgreSQL backend: pgvector + HNSW when the database has it, exact otherwise.

Every search document keeps its embedding as ``bytea`` (float32[dimensions], little-endian), so exact
search works on any PostgreSQL. When ``CREATE EXTENSION vector`` succeeds, documents also get an
``embedding_vec vector`` column and an HNSW index on ``embedding_vec::vector(dimensions)`` with cosine
distance (created once the store's dimensions are known).

Modes (``describe()["vector_mode"]``):

- ``pgvector-hnsw``: approximate nearest neighbours through the index. Filters stay correct: with
  pgvector >= 0.8 the scan is iterative (``hnsw.iterative_scan = relaxed_order``, re-sorted here by
  exact distance); with older pgvector a filtered query runs exactly (index scans disabled), and so does
  a filter that leaves few documents (``storage.postgres.search.EXACT_BELOW_ROWS``).
- ``exact-fallback``: the filtered ``(id, embedding)`` rows are fetched and ranked exactly by cosine
  similarity with NumPy (a matrix-vector product); linear in the number of filtered rows.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import asyncpg
import numpy as np

from storage.errors import InvalidInputError
from storage.postgres.pool import quote_ident
from storage.postgres.rows import ROWS
from storage.postgres.schema import lock_key
from storage.ranking import Candidate
from storage.search import CANDIDATE_COLUMNS, candidate

__all__ = [
    "HNSW_INDEX",
    "VectorMode",
    "VectorSupport",
    "detect_vector_support",
    "encode_embedding",
    "ensure_hnsw_index",
    "exact_candidates",
    "hnsw_candidates",
    "row_candidate",
    "vector_literal",
]

logger = logging.getLogger("storage.postgres")

VectorMode = Literal["pgvector-hnsw", "exact-fallback"]

#: HNSW build parameters: pgvector defaults (m = 16, ef_construction = 64; pgvector README).
_HNSW_OPTIONS = "m = 16, ef_construction = 64"
HNSW_INDEX = "search_docs_embedding_hnsw"

_COLUMNS = ", ".join(CANDIDATE_COLUMNS)


@dataclass(frozen=True)
class VectorSupport:
    """What the database offers: ``pgvector_version`` and the schema holding its types, when installed."""

    pgvector_version: str | None = None
    extension_schema: str | None = None

    @property
    def mode(self) -> VectorMode:
        """``pgvector-hnsw`` when the extension is installed, else ``exact-fallback``."""
        return "pgvector-hnsw" if self.pgvector_version else "exact-fallback"

    @property
    def iterative_scan(self) -> bool:
        """True with pgvector >= 0.8 (``hnsw.iterative_scan`` keeps filtered results complete)."""
        if not self.pgvector_version:
            return False
        parts = [int(p) if p.isdigit() else 0 for p in self.pgvector_version.split(".")[:2]]
        return tuple(parts) >= (0, 8)


async def detect_vector_support(conn: asyncpg.Connection, schema: str | None) -> VectorSupport:
    """Install pgvector when available and add the ``embedding_vec`` column; return what is there.

    A failed ``CREATE EXTENSION`` (not shipped, not permitted) is logged and leaves exact search.
    """
    query = (
        "SELECT e.extversion, n.nspname FROM pg_extension e"
        " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'"
    )
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", lock_key(None, "extension"))
        row = await conn.fetchrow(query)
        if row is None and await conn.fetchval("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"):
            try:
                async with conn.transaction():
                    await conn.execute("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public")
            except asyncpg.PostgresError as exc:
                logger.warning(
                    "pgvector is available but CREATE EXTENSION failed (SQLSTATE %s)", exc.sqlstate
                )
            row = await conn.fetchrow(query)
    if row is None:
        logger.info("vector mode: exact-fallback (the database has no pgvector extension)")
        return VectorSupport()
    support = VectorSupport(pgvector_version=row["extversion"], extension_schema=row["nspname"])
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", lock_key(schema))
        vector_type = f"{quote_ident(row['nspname'])}.vector"
        await conn.execute(f"ALTER TABLE search_docs ADD COLUMN IF NOT EXISTS embedding_vec {vector_type}")
    logger.info("vector mode: pgvector-hnsw (pgvector %s)", support.pgvector_version)
    return support


async def ensure_hnsw_index(conn: asyncpg.Connection, schema: str | None, dimensions: int) -> None:
    """Create the HNSW cosine index on ``embedding_vec::vector(dimensions)`` unless it exists."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", lock_key(schema))
        await conn.execute(
            f"CREATE INDEX IF NOT EXISTS {HNSW_INDEX} ON search_docs USING hnsw"
            f" ((embedding_vec::vector({int(dimensions)})) vector_cosine_ops) WITH ({_HNSW_OPTIONS})"
        )


def encode_embedding(values: Sequence[float], dimensions: int) -> bytes:
    """float32[dimensions] little-endian bytes of ``values``.

    Raises:
        InvalidInputError: wrong size, or a value is not finite.
    """
    if len(values) != dimensions:
        raise InvalidInputError(
            f"the embedding has {len(values)} dimensions but this store uses {dimensions}: "
            "use the store's embedding model"
        )
    array = np.asarray(values, dtype="<f4")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError("the embedding contains NaN or infinite values")
    return array.tobytes()


def vector_literal(blob: bytes) -> str:
    """pgvector text form (``[0.1,0.2,...]``) of an encoded embedding."""
    return "[" + ",".join(repr(float(x)) for x in np.frombuffer(blob, dtype="<f4")) + "]"


async def exact_candidates(
    conn: asyncpg.Connection, where: str, params: list[object], query: bytes, k: int
) -> list[Candidate]:
    """Top ``k`` documents by exact cosine similarity among the rows selected by ``where``.

    Ties break by ``(item_type, item_id)``.
    """
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, embedding FROM search_docs WHERE embedding IS NOT NULL AND {where}",
        *params,
    )
    if not rows:
        return []
    q = np.frombuffer(query, dtype="<f4").astype(np.float32)
    matrix = np.frombuffer(b"".join(r["embedding"] for r in rows), dtype="<f4").reshape(len(rows), q.shape[0])
    norms = np.linalg.norm(matrix, axis=1) * (float(np.linalg.norm(q)) or 1.0)
    sims = (matrix @ q) / np.where(norms == 0, 1.0, norms)
    keep = min(k, len(rows))
    top = np.argpartition(-sims, keep - 1)[:keep] if keep < len(rows) else np.arange(len(rows))
    # Widen to every row tied with the k-th score, so the id tie-break is exact.
    threshold = float(sims[top].min())
    chosen = np.nonzero(sims >= threshold)[0]
    ordered = sorted(
        chosen.tolist(), key=lambda i: (-float(sims[i]), rows[i]["item_type"], rows[i]["item_id"])
    )
    return [row_candidate(rows[i]) for i in ordered[:k]]


async def hnsw_candidates(
    conn: asyncpg.Connection,
    where: str,
    params: list[object],
    query: bytes,
    k: int,
    *,
    dimensions: int,
    support: VectorSupport,
    filtered: bool,
    exact: bool = False,
) -> list[Candidate]:
    """Top ``k`` documents through the HNSW index, filters applied during the scan (see module doc).

    With ``exact`` (a selective filter) the index is not used: pgvector ranks the filtered rows exactly.
    """
    dims = int(dimensions)
    async with conn.transaction():
        await conn.execute(f"SET LOCAL hnsw.ef_search = {max(40, min(1000, 2 * k))}")
        if exact or (filtered and not support.iterative_scan):
            await conn.execute("SET LOCAL enable_indexscan = off")
        elif support.iterative_scan:
            await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        placeholder = f"${len(params) + 1}"
        rows = await conn.fetch(
            f"SELECT {_COLUMNS},"
            f" (embedding_vec::vector({dims})) <=> {placeholder}::text::vector({dims}) AS distance"
            f" FROM search_docs WHERE embedding_vec IS NOT NULL AND {where}"
            f" ORDER BY (embedding_vec::vector({dims})) <=> {placeholder}::text::vector({dims})"
            f" LIMIT {int(k)}",
            *params,
            vector_literal(query),
        )
    ordered = sorted(rows, key=lambda r: (_distance(r["distance"]), r["item_type"], r["item_id"]))
    return [row_candidate(r) for r in ordered]


def _distance(value: float | None) -> float:
    return math.inf if value is None or math.isnan(value) else float(value)


def row_candidate(row: asyncpg.Record) -> Candidate:
    """A candidate from a row holding ``storage.search.CANDIDATE_COLUMNS``."""
    return candidate(row, ROWS.load_time)
