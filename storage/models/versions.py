"""Records of namespace governance: snapshots, rollbacks, branches and merges ("git for agent memory").

Semantics in ``docs/versioning.md``: a snapshot is a point in its namespace's change log (nothing is
copied); a rollback writes the inverse of the changes since; a branch copies the namespace's state at a
snapshot into a new namespace; a merge applies the branch's changes since the fork (or its last merge)
to the origin and reports facts changed on both sides instead of overwriting them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.models.common import _Record

__all__ = ["BranchResult", "MergeConflict", "MergeResult", "RollbackResult", "Snapshot"]


class Snapshot(_Record):
    """A recorded state of a namespace (``seq``: its change-log position)."""

    snapshot_id: str
    namespace: str
    label: str
    seq: int
    created_by: str | None
    created_at: datetime


class RollbackResult(_Record):
    """Counts of what a rollback undid; restored facts get a new version. ``seq``: the log position after."""

    namespace: str
    snapshot_id: str
    memories_removed: int
    memories_restored: int
    facts_restored: int
    facts_removed: int
    seq: int


class BranchResult(_Record):
    """A new namespace ``branch`` holding ``origin``'s memories and facts as of ``snapshot_id``."""

    branch: str
    origin: str
    snapshot_id: str
    memories_copied: int
    facts_copied: int


class MergeConflict(_Record):
    """A fact changed on both sides, left unchanged in the target (null/0: absent); settle it with set_fact."""

    key: str
    base: Any = None
    branch: Any = None
    target: Any = None
    target_version: int


class MergeResult(_Record):
    """What a merge applied, and the conflicts it left alone."""

    branch: str
    into: str
    memories_added: int
    memories_removed: int
    facts_set: int
    facts_removed: int
    conflicts: list[MergeConflict]
