"""The one path into the audit log: an audited call, opened once per call by whichever layer it enters first.

Every call into mcp-memory is audited exactly once:

- over MCP, the server's ``call_tool`` and ``read_resource`` (``mcp_memory.server.MemoryServer``) open the
  call, named after the tool (or the URI read);
- in process (``open_service`` used as a Python API), each public method of a service area opens it:
  ``AuditedArea`` audits every public coroutine method whose first parameter is ``principal``, named
  ``<area>.<method>`` (``tasks.claim_task``);
- pruning run by the CLI or the background task, which has no principal, opens it itself
  (``RetentionService.prune``, as ``prune_memories``).

A call opened while another is open in the same task (a tool calling a service method, a service method
calling another) joins the open one: it adds the ids it names and returns, and records nothing itself. The
open call is kept in a ``ContextVar``, so concurrent calls (tasks) never mix.

A record holds the agent, the kind (``tool`` or ``resource``), the name, the ids the call named (string
arguments named ``id`` or ``*_id``) then the ids found in its result (``ids_in``), the outcome with the
error class, the start time (UTC) and the duration. Writing it never raises: an audit failure is logged
at ERROR and never turns a committed write into a reported failure.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, ClassVar, Literal

import anyio
from pydantic import BaseModel

from mcp_memory import metrics
from mcp_memory.auth import Principal
from storage import AuditOutcome, AuditRecord, AuditStore, NewAuditRecord, StorageError
from storage.models import MAX_AUDIT_IDS, utc_now

__all__ = ["AuditLog", "AuditedArea", "AuditedCall", "CallKind", "RequestMark", "ids_in"]

logger = logging.getLogger("mcp_memory.audit")

CallKind = Literal["tool", "resource"]


class AuditedCall:
    """A call being audited: the ids it touched so far, in order (duplicates are dropped when recorded)."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self.ids: list[str] = [i for i in ids if i]
        self.closed = False

    def add_ids(self, ids: Iterable[str]) -> None:
        """Add ids the call touched (empty strings are skipped)."""
        self.ids.extend(i for i in ids if i)

    def add_result(self, value: Any) -> None:
        """Add the ids found in a result (see ``ids_in``)."""
        self.add_ids(ids_in(value))


_OPEN_CALL: ContextVar[AuditedCall | None] = ContextVar("mcp_memory_open_audited_call", default=None)


class RequestMark:
    """Whether an audited call was opened while one MCP request ran (``AuditLog.marking_request``)."""

    def __init__(self) -> None:
        self.audited = False


_REQUEST: ContextVar[RequestMark | None] = ContextVar("mcp_memory_request_mark", default=None)


def ids_in(value: Any, depth: int = 3) -> Iterator[str]:
    """Item ids inside a result: string fields named ``id`` or ``*_id`` of models, dicts and lists.

    Walks at most ``depth`` levels (a page, its items, their fields), so a handoff package's nested
    contents are not all listed.
    """
    if depth < 0:
        return
    if isinstance(value, BaseModel):
        value = {name: getattr(value, name, None) for name in type(value).model_fields}
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and (key == "id" or str(key).endswith("_id")):
                yield item
            elif isinstance(item, BaseModel | dict | list):
                yield from ids_in(item, depth - 1)
    elif isinstance(value, list):
        for item in value:
            yield from ids_in(item, depth - 1)


def named_ids(arguments: dict[str, Any]) -> list[str]:
    """The string arguments named ``id`` or ``*_id``, in argument order."""
    return [v for k, v in arguments.items() if isinstance(v, str) and (k == "id" or k.endswith("_id"))]


class AuditLog:
    """Opens audited calls and appends their records to the store's audit log."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store

    @asynccontextmanager
    async def call(
        self, agent: str, *, kind: CallKind, name: str, ids: Iterable[str] = ()
    ) -> AsyncIterator[AuditedCall]:
        """Audit the block as one call, unless a call is already open in this task (then join it).

        Args:
            agent: the calling principal's name.
            kind: ``tool`` or ``resource``.
            name: the tool's name, ``<area>.<method>`` for an in-process call, or the resource URI read.
            ids: ids the call names (arguments), recorded first.

        Yields:
            The open call; add the ids of the result with ``add_result`` or ``add_ids``.
        """
        mark = _REQUEST.get()
        if mark is not None:
            mark.audited = True
        joined = _OPEN_CALL.get()
        if joined is not None and not joined.closed:
            joined.add_ids(ids)
            yield joined
            return
        call = AuditedCall(ids)
        token = _OPEN_CALL.set(call)
        started, started_at = time.perf_counter(), utc_now()
        error: BaseException | None = None
        try:
            yield call
        except BaseException as exc:
            error = exc
            raise
        finally:
            call.closed = True
            _OPEN_CALL.reset(token)
            with anyio.CancelScope(shield=True):
                await self.record(
                    agent,
                    kind=kind,
                    name=name,
                    ids=call.ids,
                    error=error,
                    duration_ms=(time.perf_counter() - started) * 1000.0,
                    at=started_at,
                )

    @staticmethod
    @contextmanager
    def marking_request() -> Iterator[RequestMark]:
        """Run one MCP request and tell afterwards whether it opened an audited call (it was recorded).

        The server's refusal audit (``mcp_memory.refusals``) records a request refused before it reached
        the audited path (malformed parameters) only when the mark says nothing recorded it.
        """
        mark = RequestMark()
        token = _REQUEST.set(mark)
        try:
            yield mark
        finally:
            _REQUEST.reset(token)

    @contextmanager
    def unrecorded(self) -> Iterator[None]:
        """Run the block's service calls without recording them (they join a call that is never written).

        For reads the server makes on a subscriber's behalf to decide whether to notify it: the
        subscription itself is audited when it is made; re-reads at each change are not calls of the agent.
        """
        token = _OPEN_CALL.set(AuditedCall())
        try:
            yield
        finally:
            _OPEN_CALL.reset(token)

    async def record(
        self,
        agent: str,
        *,
        kind: CallKind,
        name: str,
        ids: Iterable[str],
        error: BaseException | None,
        duration_ms: float,
        at: datetime,
    ) -> AuditRecord | None:
        """Append one record of a finished call; never raises.

        Args:
            agent: the calling principal's name.
            kind, name: see ``call``.
            ids: ids of the items the call named or returned (deduplicated, the first 64 kept).
            error: the exception that ended the call, or ``None`` when it succeeded. An MCP error made from a
                domain error (``raise ToolError(...) from exc``) is recorded with the domain error's class.
            duration_ms: wall time of the call in milliseconds.
            at: when the call started (UTC).

        Returns:
            The stored record, or ``None`` when the store could not write it (logged at ERROR).
        """
        metrics.observe_call(kind, name, error, duration_ms / 1000.0)
        unique = list(dict.fromkeys(i for i in ids if i))[:MAX_AUDIT_IDS]
        cause = error.__cause__ if error is not None and error.__cause__ is not None else error
        new = NewAuditRecord(
            agent=agent[:128],
            kind=kind,
            name=name[:512],
            ids=[i[:128] for i in unique],
            outcome=AuditOutcome.OK if error is None else AuditOutcome.ERROR,
            error_type=None if cause is None else type(cause).__name__[:128],
            duration_ms=max(0.0, duration_ms),
            at=at,
        )
        try:
            return await self._store.append_audit(new)
        except StorageError:
            logger.exception("audit record of %s %s by %s was not written", kind, name, agent)
            return None


class AuditedArea:
    """Base of the service areas: every public coroutine method taking ``principal`` first is audited.

    A subclass names its area (``class TaskService(AuditedArea, area="tasks")``) and keeps its context in
    ``self._ctx`` (with an ``audit_log``). Its methods keep their signatures; each call runs inside
    ``AuditLog.call(principal.agent, kind="tool", name="<area>.<method>")``, which records it when it is
    the outermost call (in-process use) and joins the tool call or resource read that made it otherwise.
    """

    area: ClassVar[str]

    def __init_subclass__(cls, *, area: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.area = area
        for name, fn in list(vars(cls).items()):
            if name.startswith("_") or not inspect.iscoroutinefunction(fn):
                continue
            parameters = list(inspect.signature(fn).parameters)
            if parameters[1:2] == ["principal"]:
                setattr(cls, name, _audited(fn, f"{area}.{name}"))


def _audited(fn: Callable[..., Awaitable[Any]], name: str) -> Callable[..., Awaitable[Any]]:
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    async def audited(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        principal = bound.arguments["principal"]
        if not isinstance(principal, Principal):
            raise TypeError(f"{name}: principal must be a Principal, not {type(principal).__name__}")
        ids = named_ids(bound.arguments)
        log: AuditLog = self._ctx.audit_log
        async with log.call(principal.agent, kind="tool", name=name, ids=ids) as call:
            # Every result leaves the service opened: nothing sealed at rest reaches a caller (sealing.py).
            result = self._ctx.sealer.reveal(await fn(self, *args, **kwargs))
            call.add_result(result)
            return result

    audited.__audited__ = True  # type: ignore[attr-defined]  # checked by the service tests
    return audited
