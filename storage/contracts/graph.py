"""The knowledge-graph part of the storage contract: ``GraphStore`` (mixed into ``MemoryStore``).

Entities and relations live in namespaces and obey the caller's ``Scope`` like memories do: an entity is
visible when its namespace is readable and its sensitivity is within the clearance; writes need a
writable namespace. A relation and both of its entities share one namespace, so a traversal never leaves
the namespace of its start. Guarantees use MUST / SHOULD (RFC 2119).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from storage.errors import InvalidInputError
from storage.models import AddedRelation, Entity, GraphTraversal, NewEntity, NewRelation, Relation
from storage.scope import Scope

__all__ = [
    "MAX_EDGES",
    "MAX_TRAVERSAL_DEPTH",
    "MAX_TRAVERSAL_NODES",
    "GraphStore",
    "check_traversal",
    "walk_row_cap",
]

#: Deepest traversal allowed (hops from the start).
MAX_TRAVERSAL_DEPTH = 6
#: Most nodes one traversal returns.
MAX_TRAVERSAL_NODES = 500
#: Most relations one traversal or relation listing returns.
MAX_EDGES = 1_000


def walk_row_cap(max_nodes: int) -> int:
    """Rows the recursive walk may produce (``(entity, depth)`` pairs): ``10 * max_nodes``.

    Each entity appears at most once per depth, so an uncut walk of ``n`` nodes makes at most
    ``n * (max_depth + 1)`` rows; the cap bounds the work on dense graphs.
    """
    return 10 * max_nodes


def check_traversal(max_depth: int, direction: str, max_nodes: int) -> None:
    """Validate traversal bounds. Raises: InvalidInputError."""
    if not 1 <= max_depth <= MAX_TRAVERSAL_DEPTH:
        raise InvalidInputError(f"max_depth must be in 1..{MAX_TRAVERSAL_DEPTH}, got {max_depth}")
    if not 1 <= max_nodes <= MAX_TRAVERSAL_NODES:
        raise InvalidInputError(f"max_nodes must be in 1..{MAX_TRAVERSAL_NODES}, got {max_nodes}")
    if direction not in ("out", "in", "both"):
        raise InvalidInputError(f"direction must be out, in or both, got {direction!r}")


class GraphStore(abc.ABC):
    """Entities, typed relations, and bounded traversal implemented in SQL (recursive CTE)."""

    @abc.abstractmethod
    async def upsert_entity(self, entity: NewEntity, *, scope: Scope | None = None) -> Entity:
        """Create the entity ``(namespace, type, name)`` or update it (properties merged).

        Raises:
            PermissionDeniedError: the namespace is not writable, the sensitivity is above the clearance,
                or the existing entity is above the clearance.
        """

    @abc.abstractmethod
    async def get_entity(self, entity_id: str, *, scope: Scope | None = None) -> Entity:
        """Return an entity. Raises: NotFoundError (also when outside the scope)."""

    @abc.abstractmethod
    async def find_entity(
        self, namespace: str, name: str, *, type: str | None = None, scope: Scope | None = None
    ) -> Entity:
        """Return the entity named ``name`` in ``namespace`` (of ``type`` when given).

        Without ``type`` and with several matches, the oldest (then lowest id) is returned.

        Raises:
            NotFoundError: none visible in the scope.
        """

    @abc.abstractmethod
    async def add_relation(self, relation: NewRelation, *, scope: Scope | None = None) -> AddedRelation:
        """Add (or update) ``source -[type]-> target`` in one transaction, creating missing entities.

        Created entities get sensitivity ``internal`` and ``created_by = relation.discovered_by``.

        Raises:
            PermissionDeniedError: the namespace is not writable, or an existing entity is above the
                clearance.
        """

    @abc.abstractmethod
    async def list_relations(
        self, entity_id: str, *, limit: int = 50, scope: Scope | None = None
    ) -> list[Relation]:
        """Relations from or to an entity whose two ends are visible, newest first (then by id).

        Raises:
            NotFoundError: the entity is not visible in the scope.
        """

    @abc.abstractmethod
    async def traverse_graph(
        self,
        start_id: str,
        *,
        max_depth: int = 2,
        relation_types: Sequence[str] = (),
        direction: str = "both",
        max_nodes: int = 100,
        scope: Scope | None = None,
    ) -> GraphTraversal:
        """Walk the graph from ``start_id`` breadth first, in SQL (a recursive CTE), and return the subgraph.

        The walk MUST terminate on cyclic graphs: rows are ``(entity, depth)`` pairs joined by ``UNION``
        (each pair at most once) and ``depth <= max_depth``; the walk is further cut at
        ``walk_row_cap(max_nodes)`` rows. Entities above the clearance are not entered. Nodes carry their
        shortest depth; at most ``max_nodes`` are returned, shallowest first then by id, and
        ``truncated`` says when a cap cut something. ``relation_types`` (empty: all) restricts the
        relations followed and returned.

        Raises:
            NotFoundError: the start entity is not visible in the scope.
            InvalidInputError: ``max_depth`` outside 1..6, ``max_nodes`` outside 1..500, or a bad direction.
        """
