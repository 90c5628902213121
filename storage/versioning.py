"""Backend-independent planning of rollbacks, branches and merges from a namespace's change log.

Each backend reads change-log entries (``Change``) and the current state of the items they touch, asks
this module what to do, and applies the resulting operations in its own transaction. Keeping the
rules here means SQLite and PostgreSQL cannot disagree about them.

The rule behind every plan: the state of an item at sequence number ``s`` is the ``before`` of its first
change after ``s`` (or its current state when it has none), because every change records the state it
replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from storage.errors import InvalidInputError, PermissionDeniedError
from storage.models import (
    Memory,
    MergeConflict,
    MergeResult,
    RollbackResult,
    Sensitivity,
    validate_fact_address,
)
from storage.scope import Scope

__all__ = [
    "Change",
    "FactState",
    "MergePlan",
    "RollbackPlan",
    "branch_state",
    "check_branch_names",
    "check_clearance",
    "check_merge",
    "check_snapshot_label",
    "first_changes",
    "item_keys",
    "merge_levels",
    "merge_plan",
    "merge_result",
    "require_read",
    "require_write",
    "rollback_plan",
    "rollback_result",
    "state_levels",
]

ItemType = Literal["memory", "fact"]


@dataclass(frozen=True)
class FactState:
    """What a rollback or merge compares and restores of a fact: its value and sensitivity."""

    value: Any
    sensitivity: Sensitivity

    @classmethod
    def from_json(cls, state: Mapping[str, Any] | None) -> FactState | None:
        """The state stored in a change's ``before``/``after`` (``None`` when the fact was absent)."""
        if state is None:
            return None
        return cls(value=state["value"], sensitivity=Sensitivity(state["sensitivity"]))


@dataclass(frozen=True)
class Change:
    """One change-log entry.

    ``before``: the item's state before the change (memory: its record as JSON; fact: ``fact_state_json``),
    ``None`` when it did not exist. ``before_embedding``: float32 bytes of a deleted memory's embedding.
    ``level``: the highest sensitivity level the change involves (0 public .. 2 confidential).
    """

    seq: int
    item_type: ItemType
    item_key: str
    level: int = 0
    before: dict[str, Any] | None = None
    before_embedding: bytes | None = None


def first_changes(changes: Iterable[Change]) -> dict[tuple[ItemType, str], Change]:
    """The earliest change of each item among ``changes`` (any order)."""
    first: dict[tuple[ItemType, str], Change] = {}
    for change in changes:
        key = (change.item_type, change.item_key)
        if key not in first or change.seq < first[key].seq:
            first[key] = change
    return first


@dataclass
class RollbackPlan:
    """Operations returning a namespace to an earlier state.

    ``restore_memories``: (memory record JSON, embedding bytes or ``None``) of memories to bring back;
    ``remove_memories``: ids to delete; ``put_facts``: key -> state to write; ``remove_facts``: keys to
    delete. ``touched_levels``: sensitivity levels of every item the plan changes (for clearance checks).
    """

    restore_memories: list[tuple[dict[str, Any], bytes | None]] = field(default_factory=list)
    remove_memories: list[str] = field(default_factory=list)
    put_facts: dict[str, FactState] = field(default_factory=dict)
    remove_facts: list[str] = field(default_factory=list)
    touched_levels: list[int] = field(default_factory=list)


def rollback_plan(
    changes: Iterable[Change],
    existing_memories: Mapping[str, int],
    current_facts: Mapping[str, FactState],
) -> RollbackPlan:
    """Plan the return to the state before ``changes`` (every change after the target point).

    Args:
        changes: the namespace's change-log entries after the target sequence number.
        existing_memories: id -> sensitivity level of the touched memories that exist now.
        current_facts: key -> state of the touched facts that exist now.
    """
    plan = RollbackPlan()
    for (item_type, key), first in sorted(first_changes(changes).items(), key=lambda kv: kv[1].seq):
        if item_type == "memory":
            if first.before is None and key in existing_memories:
                plan.remove_memories.append(key)
                plan.touched_levels.append(existing_memories[key])
            elif first.before is not None and key not in existing_memories:
                plan.restore_memories.append((first.before, first.before_embedding))
                plan.touched_levels.append(Sensitivity(first.before["sensitivity"]).level)
            continue
        target = FactState.from_json(first.before)
        current = current_facts.get(key)
        if target == current:
            continue
        if current is not None:
            plan.touched_levels.append(current.sensitivity.level)
        if target is None:
            plan.remove_facts.append(key)
        else:
            plan.put_facts[key] = target
            plan.touched_levels.append(target.sensitivity.level)
    return plan


@dataclass
class MergePlan:
    """Operations applying a branch's changes to its origin, and the conflicts left alone.

    ``add_memories``: branch memory ids to copy into the origin; ``remove_memories``: origin memory ids to
    delete; ``put_facts`` / ``remove_facts``: fact writes in the origin.
    """

    add_memories: list[str] = field(default_factory=list)
    remove_memories: list[str] = field(default_factory=list)
    put_facts: dict[str, FactState] = field(default_factory=dict)
    remove_facts: list[str] = field(default_factory=list)
    conflicts: list[MergeConflict] = field(default_factory=list)


def merge_plan(
    branch_changes: Iterable[Change],
    branch_memories: set[str],
    branch_facts: Mapping[str, FactState],
    origin_of: Mapping[str, str],
    target_changes: Iterable[Change],
    target_memories: set[str],
    target_facts: Mapping[str, tuple[FactState, int]],
) -> MergePlan:
    """Plan a merge of a branch into its origin (the target).

    Args:
        branch_changes: the branch's change-log entries since its fork (or last merge).
        branch_memories: ids of the touched branch memories that exist now.
        branch_facts: key -> current state of the touched branch facts that exist now.
        origin_of: branch memory id -> the origin memory it stands for.
        target_changes: the target's change-log entries since the branch's base.
        target_memories: ids among ``origin_of.values()`` that exist in the target now.
        target_facts: key -> (current state, version) of the target's facts the branch touched.

    A branch memory that existed at the base and is gone now is removed from the target (when its origin
    memory still exists there); one that did not exist at the base and exists now is copied. A fact whose
    branch state differs from its base state is written, unless the target's state also differs from
    the base and from the branch's (a conflict).
    """
    plan = MergePlan()
    target_first = first_changes(target_changes)
    for (item_type, key), first in sorted(first_changes(branch_changes).items(), key=lambda kv: kv[1].seq):
        if item_type == "memory":
            if first.before is None and key in branch_memories:
                plan.add_memories.append(key)
            elif first.before is not None and key not in branch_memories:
                origin_id = origin_of.get(key)
                if origin_id is not None and origin_id in target_memories:
                    plan.remove_memories.append(origin_id)
            continue
        base = FactState.from_json(first.before)
        mine = branch_facts.get(key)
        if mine == base:
            continue
        current = target_facts.get(key)
        theirs = current[0] if current is not None else None
        target_change = target_first.get(("fact", key))
        theirs_at_base = FactState.from_json(target_change.before) if target_change else theirs
        if theirs == mine:
            continue
        if theirs != theirs_at_base or theirs != base:
            plan.conflicts.append(
                MergeConflict(
                    key=key,
                    base=None if base is None else base.value,
                    branch=None if mine is None else mine.value,
                    target=None if theirs is None else theirs.value,
                    target_version=0 if current is None else current[1],
                )
            )
        elif mine is None:
            plan.remove_facts.append(key)
        else:
            plan.put_facts[key] = mine
    return plan


# --- rules of the operations around the plans ------------------------------------------------------------


def require_read(scope: Scope, namespace: str) -> None:
    """Raise ``PermissionDeniedError`` unless ``scope`` reads ``namespace``."""
    if not scope.can_read(namespace):
        raise PermissionDeniedError(f"namespace {namespace!r} is not readable by {scope.agent!r}")


def require_write(scope: Scope, namespace: str) -> None:
    """Raise ``PermissionDeniedError`` unless ``scope`` writes ``namespace``."""
    if not scope.can_write(namespace):
        raise PermissionDeniedError(f"namespace {namespace!r} is not writable by {scope.agent!r}")


def check_clearance(levels: Sequence[int], scope: Scope, what: str) -> None:
    """Refuse an operation that would change an item above the scope's clearance (nothing changed).

    Args:
        levels: sensitivity levels (0..2) of every item the operation changes.
        what: the operation, for the message (``"rolling 'shared-x' back"``).

    Raises:
        PermissionDeniedError: one level is above ``scope.max_sensitivity``.
    """
    if levels and max(levels) > scope.max_sensitivity.level:
        raise PermissionDeniedError(
            f"{what} would change items above the clearance of {scope.agent!r} "
            f"({scope.max_sensitivity.value}); nothing was changed"
        )


def item_keys(changes: Sequence[Change], item_type: ItemType) -> list[str]:
    """The distinct keys (memory ids or fact keys) of ``item_type`` among ``changes``, sorted."""
    return sorted({c.item_key for c in changes if c.item_type == item_type})


def check_snapshot_label(namespace: str, label: str, scope: Scope) -> None:
    """Check a snapshot request (see ``VersionStore.create_snapshot``).

    Raises:
        InvalidInputError: bad namespace, or a label outside 1-200 characters.
        PermissionDeniedError: the namespace is not writable in ``scope``.
    """
    validate_fact_address(namespace, "x")
    if not 1 <= len(label) <= 200:
        raise InvalidInputError("a snapshot label has 1-200 characters")
    require_write(scope, namespace)


def check_branch_names(namespace: str, new_namespace: str, scope: Scope) -> None:
    """Check a branch request (see ``VersionStore.branch``) before anything is read.

    Raises:
        InvalidInputError: ``new_namespace`` is not a valid namespace or equals ``namespace``.
        PermissionDeniedError: ``namespace`` not readable or ``new_namespace`` not writable.
    """
    validate_fact_address(new_namespace, "x")
    if new_namespace == namespace:
        raise InvalidInputError("a branch needs a new namespace, not the one it forks")
    require_read(scope, namespace)
    require_write(scope, new_namespace)


def branch_state(
    plan: RollbackPlan,
    memories: Mapping[str, tuple[Memory, bytes | None]],
    facts: Mapping[str, FactState],
) -> tuple[list[tuple[Memory, bytes | None]], dict[str, FactState]]:
    """A namespace's state at a snapshot: its state now with the rollback ``plan`` to it applied.

    Args:
        plan: ``rollback_plan`` of the namespace's changes since the snapshot.
        memories: id -> (memory, embedding bytes) of every memory of the namespace now.
        facts: key -> state of every live fact of the namespace now.

    Returns:
        The memories (with embeddings) oldest first by ``(created_at, memory_id)``, and key -> fact state.
    """
    kept = {i: pair for i, pair in memories.items() if i not in set(plan.remove_memories)}
    for before, embedding in plan.restore_memories:
        restored = Memory.model_validate(before)
        kept[restored.memory_id] = (restored, embedding)
    state = dict(facts)
    state.update(plan.put_facts)
    for key in plan.remove_facts:
        state.pop(key, None)
    ordered = sorted(kept.values(), key=lambda pair: (pair[0].created_at, pair[0].memory_id))
    return ordered, state


def check_merge(origin: str, branch: str, into: str, scope: Scope) -> None:
    """Check a merge of ``branch`` (forked from ``origin``) into ``into`` (see ``VersionStore.merge``).

    Raises:
        InvalidInputError: ``into`` is not the branch's origin.
        PermissionDeniedError: ``branch`` not readable or ``into`` not writable.
    """
    if origin != into:
        raise InvalidInputError(f"{branch!r} branches from {origin!r}: merge it into that namespace")
    require_read(scope, branch)
    require_write(scope, into)


def merge_levels(
    branch_changes: Sequence[Change], target_facts: Mapping[str, tuple[FactState, int]]
) -> list[int]:
    """Sensitivity levels a merge touches: every branch change and the target facts it may overwrite."""
    return [c.level for c in branch_changes] + [s.sensitivity.level for s, _ in target_facts.values()]


def state_levels(
    memories: Sequence[tuple[Memory, bytes | None]], facts: Mapping[str, FactState]
) -> list[int]:
    """Sensitivity levels of a namespace state (``branch_state``): what a branch copies."""
    return [m.sensitivity.level for m, _ in memories] + [s.sensitivity.level for s in facts.values()]


def rollback_result(namespace: str, snapshot_id: str, plan: RollbackPlan, seq: int) -> RollbackResult:
    """The result of applying ``plan``; ``seq`` is the namespace's head after it."""
    return RollbackResult(
        namespace=namespace,
        snapshot_id=snapshot_id,
        memories_removed=len(plan.remove_memories),
        memories_restored=len(plan.restore_memories),
        facts_restored=len(plan.put_facts),
        facts_removed=len(plan.remove_facts),
        seq=seq,
    )


def merge_result(branch: str, into: str, plan: MergePlan) -> MergeResult:
    """The result of applying a merge ``plan``, with its conflicts."""
    return MergeResult(
        branch=branch,
        into=into,
        memories_added=len(plan.add_memories),
        memories_removed=len(plan.remove_memories),
        facts_set=len(plan.put_facts),
        facts_removed=len(plan.remove_facts),
        conflicts=plan.conflicts,
    )
