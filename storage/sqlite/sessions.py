"""Sessions on SQLite: one row each in ``sessions`` (migration 0015)."""

from __future__ import annotations

from typing import Any

import apsw

from storage.errors import ConflictError, NotFoundError
from storage.models import new_id, utc_now
from storage.models.sessions import NewSession, Session, check_session_creation
from storage.scope import Scope
from storage.sqlite.core import SQLiteCore
from storage.sqlite.filters import SQLiteParams
from storage.sqlite.rows import ROWS, fetch_one, to_json, ts

__all__ = ["SQLiteSessions"]


def _session_row(conn: apsw.Connection, session_id: str, scope: Scope | None) -> dict[str, Any]:
    readable, params = SQLiteParams.readable_clause("namespace", scope)
    row = fetch_one(
        conn, f"SELECT * FROM sessions WHERE session_id = ? AND {readable}", (session_id, *params)
    )
    if row is None:
        raise NotFoundError("session", session_id)
    return row


def create_session(conn: apsw.Connection, session: NewSession, scope: Scope | None) -> Session:
    """Insert a session. Raises: PermissionDeniedError, ConflictError (id taken)."""
    check_session_creation(session.namespace, scope)
    session_id = session.session_id or new_id("ses")
    if fetch_one(conn, "SELECT 1 FROM sessions WHERE session_id = ?", (session_id,)) is not None:
        raise ConflictError(f"session {session_id!r} already exists: choose another id or omit it")
    conn.execute(
        "INSERT INTO sessions (session_id, namespace, metadata, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
        (session_id, session.namespace, to_json(session.metadata), session.created_by, ts(utc_now())),
    )
    return ROWS.session(_session_row(conn, session_id, None))


def get_session(conn: apsw.Connection, session_id: str, scope: Scope | None) -> Session:
    """Return a session readable in ``scope``. Raises: NotFoundError."""
    return ROWS.session(_session_row(conn, session_id, scope))


class SQLiteSessions(SQLiteCore):
    """``SessionStore`` on SQLite."""

    async def create_session(self, session: NewSession, *, scope: Scope | None = None) -> Session:
        return await self._db.write(create_session, session, scope)

    async def get_session(self, session_id: str, *, scope: Scope | None = None) -> Session:
        return await self._db.read(get_session, session_id, scope)
