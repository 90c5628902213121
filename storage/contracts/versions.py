"""The storage contract of namespace governance: ``VersionStore`` (mixed into ``MemoryStore``).

"Git for agent memory" over a namespace's memories and facts. Every memory add/delete and every fact
set/delete MUST append to its namespace's change log in the same transaction, with a per-namespace
sequence number that is gapless and in commit order. A snapshot is such a number (nothing is copied),
so taking one is O(1); a rollback is O(changes since the snapshot); a branch copies the state at the
snapshot (O(size of the namespace)); a merge is O(changes since the fork or last merge). Full semantics
(embeddings, concurrent writers, rooms and events, permissions) are in ``docs/versioning.md``.
"""

from __future__ import annotations

import abc

from storage.models import BranchResult, MergeResult, Page, RollbackResult, Snapshot
from storage.scope import Scope

__all__ = ["VersionStore"]


class VersionStore(abc.ABC):
    """Snapshots, rollback, branches and merges of a namespace's memories and facts."""

    @abc.abstractmethod
    async def create_snapshot(self, namespace: str, label: str, *, scope: Scope | None = None) -> Snapshot:
        """Record the namespace's current state (its change-log position); an empty namespace is fine.

        Writes committed before the call are in the snapshot; writes committed after it are not.

        Raises:
            PermissionDeniedError: the namespace is not writable in the scope.
        """

    @abc.abstractmethod
    async def list_snapshots(
        self, namespace: str, *, limit: int = 50, cursor: str | None = None, scope: Scope | None = None
    ) -> Page[Snapshot]:
        """List a namespace's snapshots, newest first. An unreadable namespace lists nothing.

        Raises:
            InvalidInputError: bad cursor.
        """

    @abc.abstractmethod
    async def rollback(
        self, namespace: str, snapshot_id: str, *, scope: Scope | None = None
    ) -> RollbackResult:
        """Return the namespace's memories and facts to the snapshot's state, in one transaction.

        Memories added after the snapshot MUST be deleted (with their search entries); memories deleted
        after it MUST come back with their ids, content, metadata, timestamps and embeddings (without one
        when the store was re-embedded with another model since: ``ReindexStore.finish_reindex``); facts MUST
        get their value and sensitivity back (at a new version, so stale writers still conflict) or be
        deleted when they did not exist. The rollback is itself written to the change log (it can be
        rolled back). Concurrent writers to the namespace wait for it and are applied after it.

        Raises:
            NotFoundError: no such snapshot of this namespace.
            PermissionDeniedError: the namespace is not writable, or an item it would change is above the
                scope's clearance (nothing changed).
        """

    @abc.abstractmethod
    async def branch(
        self, namespace: str, snapshot_id: str, new_namespace: str, *, scope: Scope | None = None
    ) -> BranchResult:
        """Fork ``namespace`` as of a snapshot into the empty namespace ``new_namespace``.

        Memories are copied with new ids (same content, metadata, timestamps, embeddings); facts with
        their values (version 1, or the next version of a key the new namespace used before).

        Raises:
            NotFoundError: no such snapshot of ``namespace``.
            ConflictError: ``new_namespace`` holds memories or facts, or is already a branch.
            PermissionDeniedError: ``namespace`` not readable, ``new_namespace`` not writable, or an item
                to copy is above the scope's clearance.
            InvalidInputError: ``new_namespace`` is not a valid namespace or equals ``namespace``.
        """

    @abc.abstractmethod
    async def merge(self, branch: str, into: str, *, scope: Scope | None = None) -> MergeResult:
        """Apply the branch's changes since its fork (or last merge) to its origin ``into``.

        Memories added on the branch are copied into ``into``; memories deleted on the branch are deleted
        from ``into``. A fact changed on the branch is written to ``into`` unless ``into`` changed it
        too (to another value): that is a ``MergeConflict``, reported and left unchanged. Afterwards the
        branch's base is ``into``'s current state, so a second merge applies only newer branch changes.

        Raises:
            NotFoundError: ``branch`` is not a branch.
            InvalidInputError: ``into`` is not the branch's origin.
            PermissionDeniedError: ``branch`` not readable, ``into`` not writable, or an item to change is
                above the scope's clearance.
        """
