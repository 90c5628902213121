"""Process metrics for operators, in the Prometheus text format (``GET /metrics``, ``prometheus-client``).

Series (one registry per process; several servers in one process share it):

- ``mcp_memory_tool_calls_total{tool, outcome}``: finished tool calls, ``outcome`` ``ok`` or ``error``.
- ``mcp_memory_tool_call_duration_seconds{tool}``: histogram of tool call wall time.
- ``mcp_memory_resource_reads_total{outcome}``: resource reads (no URI label: URIs carry ids).
- ``mcp_memory_store_errors_total{error_type}``: calls that ended in a storage error, by its class
  (``BackendUnavailableError`` is the one to alert on; ``NotFoundError`` and the like are callers' mistakes).
- ``mcp_memory_open_subscriptions``: open ``subscriptions/listen`` streams plus legacy subscribed URIs.
- ``mcp_memory_embedding_backlog``: texts handed to the embedder and not yet embedded.
- ``mcp_memory_tool_calls_in_flight``: tool calls running now.
- ``process_*`` (CPU, memory, open files) from prometheus-client's process collector.

``observe_call`` is the one hook: the audit service calls it once per finished call, so every audited
call is counted. ``watch`` points the gauges at the running server's live counters.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

__all__ = ["CONTENT_TYPE", "REGISTRY", "observe_call", "render", "watch"]

#: Media type of ``render()``'s output (the Prometheus text format 0.0.4).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

#: Latency buckets in seconds: tool calls run from about 1 ms (a fact read) to seconds (a first embedding).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

TOOL_CALLS = Counter(
    "mcp_memory_tool_calls",
    "Finished tool calls by tool and outcome.",
    ["tool", "outcome"],
    registry=REGISTRY,
)
TOOL_SECONDS = Histogram(
    "mcp_memory_tool_call_duration_seconds",
    "Wall time of tool calls in seconds.",
    ["tool"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
RESOURCE_READS = Counter(
    "mcp_memory_resource_reads", "Finished resource reads by outcome.", ["outcome"], registry=REGISTRY
)
STORE_ERRORS = Counter(
    "mcp_memory_store_errors",
    "Calls that ended in a storage error, by error class.",
    ["error_type"],
    registry=REGISTRY,
)
OPEN_SUBSCRIPTIONS = Gauge(
    "mcp_memory_open_subscriptions",
    "Open resource subscriptions (listen streams and legacy URIs).",
    registry=REGISTRY,
)
EMBEDDING_BACKLOG = Gauge(
    "mcp_memory_embedding_backlog", "Texts handed to the embedder and not yet embedded.", registry=REGISTRY
)
IN_FLIGHT = Gauge("mcp_memory_tool_calls_in_flight", "Tool calls running now.", registry=REGISTRY)


def observe_call(kind: str, name: str, error: BaseException | None, duration_seconds: float) -> None:
    """Count one finished call.

    Args:
        kind: ``tool`` or ``resource``.
        name: the tool's name (resource URIs are not used as labels: they carry ids).
        error: what ended the call, or ``None``. A ``ToolError`` made from a storage error counts that
            error (its ``__cause__``) as a store error.
        duration_seconds: wall time of the call.
    """
    from storage import StorageError  # storage is imported by every caller already; keep this module light

    outcome = "ok" if error is None else "error"
    if kind == "tool":
        TOOL_CALLS.labels(tool=name, outcome=outcome).inc()
        TOOL_SECONDS.labels(tool=name).observe(max(0.0, duration_seconds))
    else:
        RESOURCE_READS.labels(outcome=outcome).inc()
    cause = error.__cause__ if error is not None and error.__cause__ is not None else error
    if isinstance(cause, StorageError):
        STORE_ERRORS.labels(error_type=type(cause).__name__).inc()


def watch(
    *,
    open_subscriptions: Callable[[], float],
    embedding_backlog: Callable[[], float],
    in_flight: Callable[[], float],
) -> None:
    """Read the gauges from these functions at every scrape (the last server built in a process wins)."""
    OPEN_SUBSCRIPTIONS.set_function(open_subscriptions)
    EMBEDDING_BACKLOG.set_function(embedding_backlog)
    IN_FLIGHT.set_function(in_flight)


def render() -> bytes:
    """Every series in the Prometheus text format (``CONTENT_TYPE``)."""
    return generate_latest(REGISTRY)
