"""What a subscriber may hear: one subscription of one agent to one URI, under the read rules.

A subscription goes through the same scope decision as a read of its URI (``resources.read_as``):

- subscribing is refused with the error a read would get when the caller's *policy* refuses the URI (a
  namespace it may not read, another agent's inbox, a tool group it lacks, a URI no template matches);
- a missing item and a hidden one (another room's, above the caller's clearance) are accepted alike: the
  answer to a subscription never tells them apart, as a read's ``not found`` does not;
- a notification is sent only when what the subscriber can read at the URI changed since it last heard
  (a fingerprint of its own read, taken at subscription and after each notification). A change it cannot
  see (a confidential event appended to a room it reads, a hidden fact set, a write in a room it may not
  read) never reaches it, so notifications are no side door around the scope either.

Each check is a read in the subscriber's scope, unrecorded (``AuditLog.unrecorded``): the subscription is
audited once, when it is made (``audit_subscription``).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from mcp_memory.auth import Principal
from mcp_memory.resources import read_as, uri_ids
from mcp_memory.services import Service
from storage import NotFoundError

__all__ = ["Watch", "audit_subscription"]

#: The fingerprint of a URI the subscriber cannot see (missing or hidden: the same).
UNSEEN = ""


async def _fingerprint(service: Service, principal: Principal, uri: str) -> str:
    """SHA-256 of what ``principal`` reads at ``uri``, or ``UNSEEN`` when it reads as not found."""
    with service.context.audit_log.unrecorded():
        try:
            model = await read_as(service, principal, uri)
        except NotFoundError:
            return UNSEEN
    return hashlib.sha256(model.model_dump_json().encode()).hexdigest()


class Watch:
    """One agent's subscription to one URI, with the fingerprint of what it last could read there."""

    def __init__(self, principal: Principal, uri: str, seen: str) -> None:
        self.principal = principal
        self.uri = uri
        self._seen = seen
        self._lock = anyio.Lock()

    @classmethod
    async def start(cls, service: Service, principal: Principal, uri: str) -> Watch:
        """Subscribe ``principal`` to ``uri`` if a read of it would not be refused by policy.

        Raises:
            PermissionDeniedError: the caller's policy refuses reading ``uri``.
            InvalidInputError: no resource template matches ``uri``.
            StorageError: the store failed.
        """
        return cls(principal, uri, await _fingerprint(service, principal, uri))

    async def changed(self, service: Service) -> bool:
        """True (and remember it) when what the subscriber reads at the URI differs from what it last heard.

        A failure of the re-read (a policy changed, the store is down) counts as no change: nothing is told.
        """
        async with self._lock:
            try:
                now = await _fingerprint(service, self.principal, self.uri)
            except Exception:  # noqa: BLE001  (a notification is best effort; the read path reports errors)
                return False
            if now == self._seen:
                return False
            self._seen = now
            return True


@asynccontextmanager
async def audit_subscription(service: Service, principal: Principal, uri: str) -> AsyncIterator[None]:
    """Audit a subscription request as the caller (kind ``resource``, name ``subscribe <uri>``), refused or not."""
    async with service.context.audit_log.call(
        principal.agent, kind="resource", name=f"subscribe {uri}", ids=uri_ids(uri)
    ):
        yield
