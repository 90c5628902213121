"""Alerts between agents: delivery to each recipient's inbox, paging, and acknowledgement."""

from __future__ import annotations

import pytest

from storage import MemoryStore, NotFoundError
from storage.models import AlertSeverity, NewAlert
from tests.storage.contract.support import collect_pages

pytestmark = pytest.mark.anyio


async def test_an_alert_reaches_every_recipient_once(store: MemoryStore) -> None:
    alert = await store.send_alert(
        NewAlert(
            sender="sales-lead",
            to_agents=["billing", "triage", "billing"],
            message="Client budget cut: all deals on hold",
            severity=AlertSeverity.CRITICAL,
            metadata={"client": "acme"},
        )
    )
    assert alert.recipients == ["billing", "triage"]
    for agent in ("billing", "triage"):
        inbox = await store.list_inbox(agent)
        assert [(i.alert_id, i.severity, i.metadata) for i in inbox.items] == [
            (alert.alert_id, AlertSeverity.CRITICAL, {"client": "acme"})
        ]
        assert inbox.items[0].created_at == alert.created_at
    assert (await store.list_inbox("sales-lead")).items == []


async def test_ack_alert_is_per_recipient_and_idempotent(store: MemoryStore) -> None:
    alert = await store.send_alert(NewAlert(sender="lead", to_agents=["a", "b"], message="hold"))
    acked = await store.ack_alert(alert.alert_id, "a")
    assert acked.acked_at is not None
    assert (await store.ack_alert(alert.alert_id, "a")).acked_at == acked.acked_at
    assert (await store.list_inbox("a")).items == []
    assert [i.acked_at for i in (await store.list_inbox("a", unacked_only=False)).items] == [acked.acked_at]
    assert [i.alert_id for i in (await store.list_inbox("b")).items] == [alert.alert_id]
    with pytest.raises(NotFoundError):
        await store.ack_alert(alert.alert_id, "c")
    with pytest.raises(NotFoundError):
        await store.ack_alert("alr_missing", "a")


async def test_inbox_pages_newest_first_without_gaps(store: MemoryStore) -> None:
    sent = [
        (await store.send_alert(NewAlert(sender="lead", to_agents=["a"], message=f"m{n}"))).alert_id
        for n in range(7)
    ]
    items = await collect_pages(lambda c: store.list_inbox("a", limit=3, cursor=c), limit=3)
    assert [i.alert_id for i in items] == list(reversed(sent))
