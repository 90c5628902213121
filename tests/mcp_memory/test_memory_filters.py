"""Memories by filters alone and search filters through real client sessions, on both backends, with the
lexical-only embedder (``provider = "none"``)."""

from __future__ import annotations

import pytest

from mcp_memory.config import Settings
from tests.mcp_memory.test_tools import call, call_error
from tests.mcp_memory.transports import Connect

pytestmark = pytest.mark.anyio


async def test_list_memories_by_filters_alone_without_an_embedder(
    connect: Connect, backend_settings: Settings
) -> None:
    assert backend_settings.embedder.provider == "none"
    async with connect(backend_settings, "triage") as triage, connect(backend_settings, "billing") as billing:
        ns = "shared-learnings"
        await call(
            triage,
            "remember",
            content="refunds over 500 need a supervisor",
            namespace=ns,
            kind="learning",
            tags=["refund"],
            task_id="task_7",
            metadata={"channel": "sms"},
        )
        theirs = await call(
            billing,
            "remember",
            content="card refunds take 5 days",
            namespace=ns,
            kind="learning",
            tags=["refund"],
            task_id="task_7",
        )
        await call(billing, "remember", content="unrelated note", namespace=ns)
        others = await call(
            triage, "list_memories", kinds=["learning"], task_id="task_7", exclude_authors=["triage"]
        )
        assert [m["memory_id"] for m in others["memories"]] == [theirs["memory_id"]]
        tagged = await call(
            triage, "list_memories", namespaces=["shared-*"], tags=["refund"], metadata={"channel": "sms"}
        )
        assert [m["content"] for m in tagged["memories"]] == ["refunds over 500 need a supervisor"]
        by_author = await call(triage, "list_memories", authors=["billing"], limit=1)
        assert len(by_author["memories"]) == 1
        rest = await call(triage, "list_memories", authors=["billing"], cursor=by_author["next_cursor"])
        assert {m["content"] for m in by_author["memories"] + rest["memories"]} == {
            "card refunds take 5 days",
            "unrelated note",
        }
        assert rest["next_cursor"] is None
        unknown = await call_error(triage, "list_memories", kinds=["gossip"])
        assert unknown.startswith("InvalidInput")


async def test_search_filters_by_task_and_excludes_authors_and_weighs_importance(
    connect: Connect, backend_settings: Settings
) -> None:
    async with connect(backend_settings, "triage") as triage, connect(backend_settings, "billing") as billing:
        ns = "shared-obs"
        await call(
            triage,
            "remember",
            content="customer angry about refund",
            namespace=ns,
            task_id="t1",
            importance=0.1,
        )
        mine = await call(
            triage, "remember", content="refund refund promised refund", namespace=ns, importance=0.1
        )
        other = await call(
            billing, "remember", content="refund approved", namespace=ns, task_id="t1", importance=1.0
        )
        found = await call(triage, "search_memory", query="refund", task_id="t1", exclude_authors=["triage"])
        assert [r["id"] for r in found["results"]] == [other["memory_id"]]
        plain = await call(triage, "search_memory", query="refund")
        weighted = await call(triage, "search_memory", query="refund", importance_weight=10)
        before = {r["id"]: r["score"] for r in plain["results"]}
        after = {r["id"]: r["score"] for r in weighted["results"]}
        assert after[other["memory_id"]] == pytest.approx(before[other["memory_id"]] * 11, rel=1e-3)
        assert after[mine["memory_id"]] == pytest.approx(before[mine["memory_id"]] * 2, rel=1e-3)
