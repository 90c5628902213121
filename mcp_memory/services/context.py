"""What every service area shares: the store, the embedder gate, the settings, the audit log, and
authorization checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from mcp_memory.auth import Principal
from mcp_memory.config import Settings
from mcp_memory.services.auditing import AuditLog
from mcp_memory.services.changes import ChangeBus
from mcp_memory.services.embedding import EmbeddingGate
from mcp_memory.services.sealing import ContentSealer
from storage import MemoryStore, PermissionDeniedError
from storage.models import Sensitivity

__all__ = ["ServiceContext"]


@dataclass
class ServiceContext:
    """Dependencies of the service areas (one per server process)."""

    store: MemoryStore
    embeddings: EmbeddingGate
    settings: Settings
    changes: ChangeBus
    sealer: ContentSealer = field(default_factory=lambda: ContentSealer(None))
    audit_log: AuditLog = field(init=False)

    def __post_init__(self) -> None:
        self.audit_log = AuditLog(self.store)

    def page_size(self, limit: int) -> int:
        """Bound a requested page size to ``1..limits.max_items_per_response``."""
        return max(1, min(limit, self.settings.limits.max_items_per_response))

    def require_group(self, principal: Principal, group: str) -> None:
        """Raise ``PermissionDeniedError`` unless the principal's policy allows tool group ``group``."""
        if not principal.may_use(group):
            raise PermissionDeniedError(
                f"agent {principal.agent!r} may not use {group} tools (policy tool_groups: "
                f"{', '.join(principal.policy.tool_groups) or 'none'})"
            )

    def require_directory(self, principal: Principal, *, write: bool) -> None:
        """Raise ``PermissionDeniedError`` unless the principal reads (and with ``write``, writes) the identity
        directory's namespace (``identities.directory_namespace``): identities are personal data."""
        namespace = self.settings.identities.directory_namespace
        scope = principal.scope()
        if not scope.can_read(namespace) or (write and not scope.can_write(namespace)):
            raise PermissionDeniedError(
                f"agent {principal.agent!r} may not {'change' if write else 'read'} identities: they are "
                f"personal data in namespace {namespace!r}, which its policy does not "
                f"{'write' if write else 'read'}"
            )

    def may_read_directory(self, principal: Principal) -> bool:
        """Whether the principal reads the identity directory (see ``require_directory``)."""
        return principal.scope().can_read(self.settings.identities.directory_namespace)

    def require_clearance(self, principal: Principal, sensitivity: Sensitivity) -> None:
        """Raise ``PermissionDeniedError`` when ``sensitivity`` is above the principal's clearance."""
        if sensitivity.level > principal.policy.clearance.level:
            raise PermissionDeniedError(
                f"agent {principal.agent!r} has clearance {principal.policy.clearance.value} and cannot "
                f"write {sensitivity.value} content"
            )
