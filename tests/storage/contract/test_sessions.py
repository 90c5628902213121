"""Sessions: created in a namespace with metadata, read back within the scope, on every backend."""

from __future__ import annotations

import pytest

from storage import ConflictError, MemoryStore, NotFoundError, PermissionDeniedError, Scope
from storage.models import NewSession
from tests.storage.contract.support import is_utc

pytestmark = pytest.mark.anyio

SUPPORT = Scope(agent="triage", read_namespaces=("shared-*",), write_namespaces=("shared-*",))


async def test_a_session_is_created_with_namespace_and_metadata_and_read_back(store: MemoryStore) -> None:
    made = await store.create_session(
        NewSession(namespace="shared-cases", metadata={"ticket": 42, "channel": "sms"}, created_by="triage"),
        scope=SUPPORT,
    )
    assert made.session_id.startswith("ses_")
    assert (made.namespace, made.metadata, made.created_by) == (
        "shared-cases",
        {"ticket": 42, "channel": "sms"},
        "triage",
    )
    assert is_utc(made.created_at)
    assert await store.get_session(made.session_id, scope=SUPPORT) == made


async def test_sessions_keep_to_the_scope_and_their_ids_are_unique(store: MemoryStore) -> None:
    with pytest.raises(PermissionDeniedError):
        await store.create_session(NewSession(namespace="agent-billing"), scope=SUPPORT)
    private = await store.create_session(NewSession(session_id="s-1", namespace="agent-billing"))
    with pytest.raises(NotFoundError):
        await store.get_session(private.session_id, scope=SUPPORT)
    with pytest.raises(ConflictError):
        await store.create_session(NewSession(session_id="s-1", namespace="shared-cases"))
    with pytest.raises(NotFoundError):
        await store.get_session("s-missing")
