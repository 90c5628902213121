"""Knowledge-graph rules both backends share: access checks, property merges, shaping a walk.

The backends run the SQL (an upsert, a recursive CTE walking ``relations``); what a caller may write,
how properties merge, which walk rows become nodes and when a traversal counts as truncated is decided
here once (semantics: ``storage.contracts.graph``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from storage.contracts.graph import MAX_EDGES
from storage.errors import NotFoundError, PermissionDeniedError
from storage.models import Entity, GraphNode, GraphTraversal, Relation, Sensitivity
from storage.scope import Scope

__all__ = [
    "build_traversal",
    "check_clearance",
    "check_writable",
    "clearance_level",
    "edge_limit",
    "entity_not_found",
    "merge_properties",
    "new_properties",
    "shape_walk",
]


def check_writable(scope: Scope | None, namespace: str) -> None:
    """Refuse a graph write to a namespace the scope does not write. Raises: PermissionDeniedError."""
    if scope is not None and not scope.can_write(namespace):
        raise PermissionDeniedError(
            f"namespace {namespace!r} is not writable by {scope.agent!r}: write to one of "
            f"{', '.join(scope.write_namespaces) or 'no namespace'}"
        )


def check_clearance(scope: Scope | None, level: int, what: str) -> None:
    """Refuse to write ``what`` at sensitivity ``level`` above the clearance. Raises: PermissionDeniedError."""
    if scope is not None and level > scope.max_sensitivity.level:
        raise PermissionDeniedError(
            f"{what} is above the clearance of {scope.agent!r} ({scope.max_sensitivity.value})"
        )


def clearance_level(scope: Scope | None) -> int:
    """The highest sensitivity level (0..2) a walk may step on: the scope's clearance, or all."""
    return scope.max_sensitivity.level if scope is not None else Sensitivity.CONFIDENTIAL.level


def edge_limit(limit: int) -> int:
    """A relation listing's ``limit`` clamped to 1..``MAX_EDGES``."""
    return max(1, min(limit, MAX_EDGES))


def entity_not_found(namespace: str, name: str, type_: str | None) -> NotFoundError:
    """The error of a ``find_entity`` that found nothing (``namespace/type/name``)."""
    return NotFoundError("entity", f"{namespace}/{type_ + '/' if type_ else ''}{name}")


def new_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """A new entity's properties: ``None`` values (meaning "remove") are dropped."""
    return {k: v for k, v in properties.items() if v is not None}


def merge_properties(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``current`` updated by ``changes``; a ``None`` value removes its key."""
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def shape_walk(
    rows: Iterable[tuple[str, int]], cap: int, max_nodes: int
) -> tuple[list[tuple[str, int]], bool]:
    """The nodes of a walk from its ``(entity_id, depth)`` rows (at most ``cap + 1`` of them).

    Returns:
        ``(entity_id, shallowest depth)`` pairs ordered by depth then id, at most ``max_nodes``; and
        whether the walk was cut (more than ``cap`` rows, or more than ``max_nodes`` nodes).
    """
    listed = list(rows)
    truncated = len(listed) > cap
    depth_of: dict[str, int] = {}
    for entity_id, depth in listed[:cap]:
        known = depth_of.get(entity_id)
        if known is None or depth < known:
            depth_of[entity_id] = depth
    ordered = sorted(depth_of.items(), key=lambda kv: (kv[1], kv[0]))
    if len(ordered) > max_nodes:
        ordered, truncated = ordered[:max_nodes], True
    return ordered, truncated


def build_traversal(
    start: Entity,
    ordered: Sequence[tuple[str, int]],
    entities: Mapping[str, Entity],
    edges: Sequence[Relation],
    truncated: bool,
) -> GraphTraversal:
    """The ``GraphTraversal`` of ``shape_walk``'s nodes and the relations between them.

    Args:
        edges: relations between the nodes, oldest first, at most ``MAX_EDGES + 1`` (more means cut).
    """
    if len(edges) > MAX_EDGES:
        edges, truncated = edges[:MAX_EDGES], True
    return GraphTraversal(
        start_id=start.entity_id,
        nodes=[GraphNode(entity=entities[entity_id], depth=depth) for entity_id, depth in ordered],
        edges=list(edges),
        truncated=truncated,
    )
