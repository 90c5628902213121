"""Retention and decay per namespace, from the team config's ``[retention."<pattern>"]`` tables.

- Decay: ``decay_rules()`` turns each table with a ``decay`` into a ``DecayRule`` that search applies to
  memories of matching namespaces (formulas in ``storage/ranking.py``; both backends rank alike).
- Pruning: ``prune()`` visits every namespace holding memories, takes the first matching table, and asks
  the store to remove what it no longer keeps: memories older than ``ttl_days``, then those beyond
  ``max_memories`` (least important, then oldest, first). One transaction per namespace. It runs on a
  schedule in the server (``pruning.interval_seconds``), on ``mcp-memory prune [--dry-run]``, or on the
  ``prune_memories`` tool (only in namespaces the caller may write). Every run is logged (logger
  ``mcp_memory.retention``) with the ids it removed, and returned as a ``PruneReport``. Runs that delete
  (not dry runs) are audited with the ids they removed: within the ``prune_memories`` tool call (or the
  in-process ``prune_memories``), or, for the CLI and the background task, as a ``prune_memories`` call of
  their own whose agent is who ran it (``cli``, ``retention (background)``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

import anyio
from pydantic import BaseModel, ConfigDict

from mcp_memory.auth import Principal
from mcp_memory.config import RetentionSettings, Settings
from mcp_memory.services.auditing import AuditedArea
from mcp_memory.services.changes import memory_uri
from mcp_memory.services.context import ServiceContext
from storage import RetentionStore, StorageError
from storage.models import DecayRule, utc_now
from storage.patterns import namespace_matches

__all__ = ["NamespacePruned", "PruneReport", "RetentionService", "decay_rules"]

GROUP = "retention"
logger = logging.getLogger("mcp_memory.retention")

#: Most pruned ids a report lists per namespace (the counts are always complete).
MAX_IDS_PER_NAMESPACE = 100

#: ``progress(namespace, done, total)`` after each namespace.
Progress = Callable[[str, int, int], None]


class NamespacePruned(BaseModel):
    """What pruning removed (or would remove, in a dry run) from one namespace.

    ``rule``: the matching ``[retention]`` pattern. ``memory_ids``: the first ``MAX_IDS_PER_NAMESPACE``.
    """

    model_config = ConfigDict(frozen=True)

    namespace: str
    rule: str
    memories_before: int
    expired: int
    over_limit: int
    memory_ids: list[str]


class PruneReport(BaseModel):
    """One pruning run: when, by whom, whether it was a dry run, and what each namespace lost."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    by: str
    dry_run: bool
    pruned: int
    namespaces: list[NamespacePruned]


def decay_rules(settings: Settings) -> list[DecayRule]:
    """The ``DecayRule`` of every ``[retention]`` table with a ``decay``, in config order."""
    rules: list[DecayRule] = []
    for pattern, rule in settings.retention.items():
        if rule.decay != "none" and rule.half_life_hours is not None:
            strategy: Literal["exponential", "logarithmic"] = rule.decay
            rules.append(
                DecayRule(namespace_pattern=pattern, strategy=strategy, half_life_hours=rule.half_life_hours)
            )
    return rules


class RetentionService(AuditedArea, area="retention"):
    """Retention rules of the team config: decay in search, pruning on demand and on a schedule."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        self._store: RetentionStore = ctx.store

    def rule_for(self, namespace: str) -> tuple[str, RetentionSettings] | None:
        """The first ``[retention."<pattern>"]`` table matching ``namespace`` (config order), or ``None``."""
        for pattern, rule in self._ctx.settings.retention.items():
            if namespace_matches(pattern, namespace):
                return pattern, rule
        return None

    async def prune_memories(self, principal: Principal, *, dry_run: bool = True) -> PruneReport:
        """Apply the retention rules to the namespaces the caller may write (tool group ``retention``).

        Raises:
            PermissionDeniedError: the policy lacks the ``retention`` tool group.
        """
        self._ctx.require_group(principal, GROUP)
        return await self.prune(dry_run=dry_run, by=principal.agent, only_writable_by=principal)

    async def prune(
        self,
        *,
        dry_run: bool = False,
        by: str = "retention",
        only_writable_by: Principal | None = None,
        now: datetime | None = None,
        progress: Progress | None = None,
    ) -> PruneReport:
        """Apply the retention rules to every namespace (operators, the CLI and the background task).

        Args:
            dry_run: report what would go, delete nothing.
            by: who runs it, for the log and the report.
            only_writable_by: restrict to the namespaces this principal may write.
            now: the reference time of ``ttl_days`` (default: now).
            progress: called after each namespace with ``(namespace, done, total)``.

        Raises:
            StorageError: the store failed; namespaces pruned before the failure stay pruned.
        """
        at = now or utc_now()
        if dry_run:
            return await self._prune(at, by, only_writable_by, progress, dry_run=True)
        # A run that deletes is audited: within a tool call or an in-process ``prune_memories`` it joins
        # that call; a CLI or background run is a call of its own, made by ``by``.
        async with self._ctx.audit_log.call(by, kind="tool", name="prune_memories") as call:
            report = await self._prune(at, by, only_writable_by, progress, dry_run=False)
            call.add_ids(memory_id for r in report.namespaces for memory_id in r.memory_ids)
            return report

    async def _prune(
        self,
        at: datetime,
        by: str,
        only_writable_by: Principal | None,
        progress: Progress | None,
        *,
        dry_run: bool,
    ) -> PruneReport:
        scope = only_writable_by.scope() if only_writable_by is not None else None
        plan: list[tuple[str, int, str, RetentionSettings]] = []
        for count in await self._store.namespace_counts():
            match = self.rule_for(count.namespace)
            if match is None or (match[1].max_memories is None and match[1].ttl_days is None):
                continue
            if scope is not None and not scope.can_write(count.namespace):
                continue
            plan.append((count.namespace, count.memories, *match))
        results: list[NamespacePruned] = []
        for done, (namespace, before, pattern, rule) in enumerate(plan, start=1):
            expires = at - timedelta(days=rule.ttl_days) if rule.ttl_days is not None else None
            pruned = await self._store.prune_namespace(
                namespace, max_memories=rule.max_memories, expires_before=expires, dry_run=dry_run
            )
            if pruned:
                results.append(
                    NamespacePruned(
                        namespace=namespace,
                        rule=pattern,
                        memories_before=before,
                        expired=sum(p.reason == "expired" for p in pruned),
                        over_limit=sum(p.reason == "over_limit" for p in pruned),
                        memory_ids=[p.memory_id for p in pruned[:MAX_IDS_PER_NAMESPACE]],
                    )
                )
                if not dry_run:
                    await self._ctx.changes.publish(*(memory_uri(p.memory_id) for p in pruned))
                    logger.info(
                        "pruned %d memories of %s (rule %s, by %s): %s",
                        len(pruned),
                        namespace,
                        pattern,
                        by,
                        " ".join(p.memory_id for p in pruned),
                    )
            if progress is not None:
                progress(namespace, done, len(plan))
        report = PruneReport(
            at=at,
            by=by,
            dry_run=dry_run,
            pruned=sum(r.expired + r.over_limit for r in results),
            namespaces=results,
        )
        return report

    async def run_periodically(self, interval_seconds: float) -> None:
        """Prune every ``interval_seconds`` until cancelled (the server's background task).

        The first run is one interval after start. A failed run is logged and the schedule goes on.
        """
        while True:
            await anyio.sleep(interval_seconds)
            try:
                report = await self.prune(by="retention (background)")
            except StorageError as exc:
                logger.error("background pruning failed: %s", exc.message)
                continue
            if report.pruned:
                logger.info("background pruning removed %d memories", report.pruned)
