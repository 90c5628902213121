"""Session records: a named working session in a namespace, with metadata, that memories point to."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field

from storage.errors import PermissionDeniedError
from storage.models.common import Id, Namespace, _Record

if TYPE_CHECKING:
    from storage.scope import Scope

__all__ = ["NewSession", "Session", "check_session_creation"]


class NewSession(_Record):
    """A session to create. ``session_id`` is generated (``ses_…``) when omitted.

    ``namespace``: where the session lives: who may read it, and the default namespace of the memories
    remembered in it.
    """

    session_id: Id | None = None
    namespace: Namespace
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_by: str | None = Field(default=None, max_length=128)


class Session(_Record):
    """A working session; memories carry its id (``Memory.session_id``)."""

    session_id: str
    namespace: str
    metadata: dict[str, Any]
    created_by: str | None
    created_at: datetime


def check_session_creation(namespace: str, scope: Scope | None) -> None:
    """Raises: PermissionDeniedError: ``scope`` may not write ``namespace``, so may not open sessions there."""
    if scope is not None and not scope.can_write(namespace):
        raise PermissionDeniedError(
            f"agent {scope.agent!r} may not open sessions in namespace {namespace!r}; writable: "
            f"{', '.join(scope.write_namespaces) or 'none'}"
        )
