"""Backend-independent planning of rollbacks, branches and merges from a namespace's change log.

Each backend reads change-log entries (``Change``) and the current state of the items they touch, asks
this module what to do, and applies the resulting operations in its own transaction. Keeping the
rules here means SQLite and PostgreSQL cannot disagree about them.

The rule behind every plan: the state of an item at sequence number ``s`` is the ``before`` of its first
change after ``s`` (or its current state when it has none), because every change records the state it
replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from storage.models import MergeConflict, Sensitivity

__all__ = [
    "Change",
    "FactState",
    "MergePlan",
    "RollbackPlan",
    "fact_state_json",
    "first_changes",
    "merge_plan",
    "rollback_plan",
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


def fact_state_json(value: Any, sensitivity: Sensitivity, version: int) -> dict[str, Any]:
    """The JSON state of a fact written to the change log."""
    return {"value": value, "sensitivity": sensitivity.value, "version": version}


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
