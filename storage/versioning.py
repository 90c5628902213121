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

from storage.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from storage.models import (
    Fact,
    Memory,
    MergeConflict,
    Sensitivity,
    check_fact_write,
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
    "check_fact_delete",
    "check_fact_set",
    "check_snapshot_label",
    "first_changes",
    "item_keys",
    "merge_plan",
    "next_fact_version",
    "require",
    "rollback_plan",
    "visible_fact",
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


def require(allowed: bool, message: str) -> None:
    """Raise ``PermissionDeniedError(message)`` unless ``allowed``."""
    if not allowed:
        raise PermissionDeniedError(message)


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
    require(scope.can_write(namespace), f"namespace {namespace!r} is not writable by {scope.agent!r}")


def check_branch_names(namespace: str, new_namespace: str, scope: Scope) -> None:
    """Check a branch request (see ``VersionStore.branch``) before anything is read.

    Raises:
        InvalidInputError: ``new_namespace`` is not a valid namespace or equals ``namespace``.
        PermissionDeniedError: ``namespace`` not readable or ``new_namespace`` not writable.
    """
    validate_fact_address(new_namespace, "x")
    if new_namespace == namespace:
        raise InvalidInputError("a branch needs a new namespace, not the one it forks")
    require(scope.can_read(namespace), f"namespace {namespace!r} is not readable by {scope.agent!r}")
    require(scope.can_write(new_namespace), f"namespace {new_namespace!r} is not writable by {scope.agent!r}")


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


# --- facts: compare-and-set ----------------------------------------------------------------------------


def visible_fact(fact: Fact | None, scope: Scope) -> Fact | None:
    """``fact`` when its namespace is readable and its sensitivity within the clearance, else ``None``."""
    if fact is None or not scope.can_read(fact.namespace):
        return None
    return fact if fact.sensitivity.level <= scope.max_sensitivity.level else None


def check_fact_set(
    namespace: str, key: str, current: Fact | None, expected_version: int | None, scope: Scope
) -> None:
    """Refuse a ``set_fact`` over ``current`` (the live fact, read under the write lock) when stale.

    ``expected_version`` ``None`` or ``0`` means create-only (see ``FactStore.set_fact``).

    Raises:
        PermissionDeniedError: ``current`` is above the scope's clearance.
        ConflictError: ``current`` is at another version (``current_version`` 0 when it does not exist).
    """
    if current is not None and current.sensitivity.level > scope.max_sensitivity.level:
        raise PermissionDeniedError(
            f"fact {namespace}/{key} exists above the clearance of {scope.agent!r}; it cannot be written"
        )
    current_version = 0 if current is None else current.version
    expected = expected_version or 0
    if expected != current_version:
        raise ConflictError(
            f"fact {namespace}/{key} is at version {current_version}, not {expected}; nothing was changed",
            current_version=current_version,
            current=current,
        )


def check_fact_delete(
    namespace: str, key: str, current: Fact | None, expected_version: int | None, scope: Scope
) -> Fact:
    """Return the fact ``delete_fact`` may delete: ``current`` (the live fact) when visible and current.

    Raises:
        NotFoundError: no live fact, or one invisible in ``scope``.
        PermissionDeniedError: the namespace is not writable in ``scope``.
        ConflictError: ``expected_version`` is given and is not the fact's version.
    """
    fact = visible_fact(current, scope)
    if fact is None:
        raise NotFoundError("fact", f"{namespace}/{key}")
    check_fact_write(namespace, fact.sensitivity, scope)
    if expected_version is not None and expected_version != fact.version:
        raise ConflictError(
            f"fact {namespace}/{key} is at version {fact.version}, not {expected_version}; "
            "nothing was changed",
            current_version=fact.version,
            current=fact,
        )
    return fact


def next_fact_version(old: Fact | None, last_logged: int) -> int:
    """The version a write gives a fact: one above the live one, or above the last one logged for its key.

    ``last_logged`` is the highest version in the change log (0 when none), so the versions of a key that
    was deleted and written again never repeat.
    """
    return (old.version if old is not None else last_logged) + 1
