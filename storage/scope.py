"""``Scope``: what one caller may read and write, built by the service and applied by the store in SQL."""

from __future__ import annotations

from dataclasses import dataclass

from storage.models.common import Sensitivity
from storage.patterns import namespace_matches

__all__ = ["Scope"]


@dataclass(frozen=True)
class Scope:
    """What one caller (an agent) may read and write; built by the service, applied by the store in SQL.

    Attributes:
        agent: the principal's name, recorded as author/actor.
        read_namespaces: namespace patterns the caller may read; ``*`` matches any run of characters
            (``shared-*``). ``("*",)`` means every namespace.
        write_namespaces: namespace patterns the caller may write.
        max_sensitivity: clearance; items above it are invisible to the caller.
    """

    agent: str
    read_namespaces: tuple[str, ...] = ("*",)
    write_namespaces: tuple[str, ...] = ("*",)
    max_sensitivity: Sensitivity = Sensitivity.CONFIDENTIAL

    @classmethod
    def unrestricted(cls, agent: str = "system") -> Scope:
        """A scope that reads and writes everything (operators, migrations, tests)."""
        return cls(agent=agent)

    def can_write(self, namespace: str) -> bool:
        """True when ``namespace`` matches one of ``write_namespaces``."""
        return any(namespace_matches(p, namespace) for p in self.write_namespaces)

    def can_read(self, namespace: str) -> bool:
        """True when ``namespace`` matches one of ``read_namespaces``."""
        return any(namespace_matches(p, namespace) for p in self.read_namespaces)
