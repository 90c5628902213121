"""Sessions on PostgreSQL: one row each in ``sessions`` (migration 0015)."""

from __future__ import annotations

from storage.errors import ConflictError, NotFoundError
from storage.models import new_id, utc_now
from storage.models.sessions import NewSession, Session, check_session_creation
from storage.postgres.core import PostgresCore
from storage.postgres.filters import PostgresParams
from storage.postgres.rows import ROWS
from storage.scope import Scope

__all__ = ["PostgresSessions"]


class PostgresSessions(PostgresCore):
    """``SessionStore`` on PostgreSQL."""

    async def create_session(self, session: NewSession, *, scope: Scope | None = None) -> Session:
        """Create a session. Raises: PermissionDeniedError (namespace), ConflictError (id taken)."""
        check_session_creation(session.namespace, scope)
        session_id = session.session_id or new_id("ses")
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "INSERT INTO sessions (session_id, namespace, metadata, created_by, created_at)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id) DO NOTHING RETURNING *",
                session_id,
                session.namespace,
                session.metadata,
                session.created_by,
                utc_now(),
            )
            if row is None:
                raise ConflictError(f"session {session_id!r} already exists: choose another id or omit it")
        return ROWS.session(row)

    async def get_session(self, session_id: str, *, scope: Scope | None = None) -> Session:
        """Return a session readable in ``scope``. Raises: NotFoundError."""
        p = PostgresParams(session_id)
        readable = p.readable("namespace", scope)
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT * FROM sessions WHERE session_id = $1 AND {readable}", *p.values
            )
        if row is None:
            raise NotFoundError("session", session_id)
        return ROWS.session(row)
