"""The SessionStore contract. Sessions: a named working session in a namespace, with metadata.

Guarantees use MUST / SHOULD (RFC 2119); the general ones are on ``storage.contracts.store.MemoryStore``.
"""

from __future__ import annotations

import abc

from storage.models.sessions import NewSession, Session
from storage.scope import Scope

__all__ = ["SessionStore"]


class SessionStore(abc.ABC):
    """Sessions: created in a namespace, read back by id within the scope."""

    @abc.abstractmethod
    async def create_session(self, session: NewSession, *, scope: Scope | None = None) -> Session:
        """Create a session in ``session.namespace``.

        Raises:
            PermissionDeniedError: the namespace is not writable in ``scope``.
            ConflictError: ``session.session_id`` is taken.
        """

    @abc.abstractmethod
    async def get_session(self, session_id: str, *, scope: Scope | None = None) -> Session:
        """Return a session. Raises: NotFoundError (also when its namespace is not readable in ``scope``)."""
