"""The store's abstract parts, one per area; ``MemoryStore`` composes them all.

Services take the narrow contract they use (``FactStore``, ``TaskStore``...); a backend implements
``MemoryStore``. Guarantees are written on each contract with MUST / SHOULD (RFC 2119).
"""

from __future__ import annotations

from storage.contracts.alerts import AlertStore
from storage.contracts.audit import AuditStore
from storage.contracts.changes import (
    MAX_TOPIC_CHARS,
    RESYNC_TOPIC,
    ChangeFeedStore,
    TopicListener,
    check_topics,
)
from storage.contracts.escalations import EscalationStore
from storage.contracts.events import EventStore
from storage.contracts.facts import FactStore
from storage.contracts.graph import (
    MAX_EDGES,
    MAX_TRAVERSAL_DEPTH,
    MAX_TRAVERSAL_NODES,
    GraphStore,
    check_traversal,
    walk_row_cap,
)
from storage.contracts.identities import IdentityStore
from storage.contracts.memories import MemoryRecordStore
from storage.contracts.meta import MetaStore
from storage.contracts.portability import PortabilityStore, RowBatch
from storage.contracts.reindex import EMBEDDING_DIMENSIONS_KEY, EMBEDDING_MODEL_KEY, ReindexStore
from storage.contracts.retention import RetentionStore
from storage.contracts.rooms import RoomStore
from storage.contracts.sessions import SessionStore
from storage.contracts.store import MemoryStore
from storage.contracts.tasks import TaskStore
from storage.contracts.versions import VersionStore

__all__ = [
    "AlertStore",
    "AuditStore",
    "ChangeFeedStore",
    "EMBEDDING_DIMENSIONS_KEY",
    "EMBEDDING_MODEL_KEY",
    "EscalationStore",
    "EventStore",
    "FactStore",
    "GraphStore",
    "IdentityStore",
    "MAX_EDGES",
    "MAX_TOPIC_CHARS",
    "MAX_TRAVERSAL_DEPTH",
    "MAX_TRAVERSAL_NODES",
    "MemoryRecordStore",
    "MemoryStore",
    "MetaStore",
    "PortabilityStore",
    "RESYNC_TOPIC",
    "ReindexStore",
    "RetentionStore",
    "RoomStore",
    "RowBatch",
    "SessionStore",
    "TaskStore",
    "TopicListener",
    "VersionStore",
    "check_topics",
    "check_traversal",
    "walk_row_cap",
]
