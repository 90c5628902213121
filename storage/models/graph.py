"""Records of the knowledge graph: entities (type, name, properties) and typed relations between them.

Entities live in a namespace, like memories, and obey the same read/write policy; an entity is unique by
``(namespace, type, name)``. A relation joins two entities of its own namespace with a type such as
``relates_to``, ``works_at``, ``part_of``, ``depends_on`` or any custom snake_case type, and carries who
discovered it and how confident they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from storage.models.common import Namespace, Sensitivity

__all__ = [
    "AddedRelation",
    "Entity",
    "EntityRef",
    "GraphNode",
    "GraphTraversal",
    "NewEntity",
    "NewRelation",
    "RELATION_TYPE_PATTERN",
    "Relation",
    "STANDARD_RELATION_TYPES",
    "TraversalDirection",
]

#: Relation types are snake_case words: the standard ones below or a custom one (``reports_to``).
RELATION_TYPE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
#: Relation types every team shares (custom types are allowed too).
STANDARD_RELATION_TYPES = ("depends_on", "part_of", "relates_to", "works_at")
#: Entity types: lowercase words (``person``, ``company``, ``customer``, ``service``...).
ENTITY_TYPE_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"

#: ``out`` follows relations from their source, ``in`` from their target, ``both`` either way.
TraversalDirection = Literal["out", "in", "both"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EntityRef(_Record):
    """Names an entity inside a namespace: ``type`` and ``name`` (unique together)."""

    type: str = Field(min_length=1, max_length=64, pattern=ENTITY_TYPE_PATTERN)
    name: str = Field(min_length=1, max_length=200)


class NewEntity(EntityRef):
    """An entity to create or update (by ``namespace``, ``type``, ``name``).

    ``properties`` are merged into an existing entity's (a key set to ``None`` is removed).
    ``sensitivity``: ``None`` keeps an existing entity's and gives a new one ``internal``.
    """

    namespace: Namespace
    properties: dict[str, Any] = Field(default_factory=dict)
    sensitivity: Sensitivity | None = None
    created_by: str | None = Field(default=None, max_length=128)


class Entity(_Record):
    """A node of the knowledge graph."""

    entity_id: str
    namespace: str
    type: str
    name: str
    properties: dict[str, Any]
    sensitivity: Sensitivity
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class NewRelation(_Record):
    """A typed relation to add between two entities of ``namespace`` (missing entities are created).

    Adding the same ``(source, type, target)`` again updates its confidence, discoverer and properties.
    ``confidence`` is in [0, 1].
    """

    namespace: Namespace
    source: EntityRef
    type: str = Field(min_length=1, max_length=64, pattern=RELATION_TYPE_PATTERN)
    target: EntityRef
    properties: dict[str, Any] = Field(default_factory=dict)
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    discovered_by: str | None = Field(default=None, max_length=128)


class Relation(_Record):
    """A directed, typed edge ``source_id -[type]-> target_id`` with its metadata."""

    relation_id: str
    namespace: str
    source_id: str
    type: str
    target_id: str
    properties: dict[str, Any]
    confidence: float
    discovered_by: str | None
    created_at: datetime
    updated_at: datetime


class AddedRelation(_Record):
    """Outcome of ``add_relation``: the relation (its ``source_id`` / ``target_id`` name both entities)
    and the ids of the entities this call created."""

    relation: Relation
    created_entity_ids: list[str]


class GraphNode(_Record):
    """An entity reached by a traversal at ``depth`` hops (its shortest distance) from the start."""

    entity: Entity
    depth: int


class GraphTraversal(_Record):
    """The part of the graph within ``max_depth`` hops of a start entity.

    ``nodes``: the start (depth 0) then every reached entity, by depth then id. ``edges``: the relations
    of the allowed types joining two nodes. ``truncated``: a row or node cap cut the walk short.
    """

    start_id: str
    nodes: list[GraphNode]
    edges: list[Relation]
    truncated: bool
