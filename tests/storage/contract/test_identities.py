"""Identities: one person across channels; every address belongs to exactly one identity."""

from __future__ import annotations

import pytest

from storage import ConflictError, MemoryStore, NotFoundError
from tests.storage.contract.support import is_utc

pytestmark = pytest.mark.anyio


async def test_resolve_identity_creates_an_identity_once(store: MemoryStore) -> None:
    identity, created = await store.resolve_identity("sms", "+15551234", display_name="Ada")
    again, created_again = await store.resolve_identity("sms", "+15551234")

    assert created is True
    assert created_again is False
    assert again == identity
    assert identity.display_name == "Ada"
    assert is_utc(identity.created_at)
    assert [(a.channel_type, a.address, a.identity_id) for a in identity.addresses] == [
        ("sms", "+15551234", identity.identity_id)
    ]


async def test_addresses_are_compared_exactly(store: MemoryStore) -> None:
    sms, _ = await store.resolve_identity("sms", "+15551234")
    whatsapp, created_other_channel = await store.resolve_identity("whatsapp", "+15551234")
    upper, created_other_case = await store.resolve_identity("email", "Ada@Example.com")
    lower, created_lower = await store.resolve_identity("email", "ada@example.com")

    assert created_other_channel is True
    assert created_other_case is True
    assert created_lower is True
    assert len({sms.identity_id, whatsapp.identity_id, upper.identity_id, lower.identity_id}) == 4


async def test_get_identity_returns_it_with_every_address_oldest_first(store: MemoryStore) -> None:
    identity, _ = await store.resolve_identity("sms", "+15551234")
    await store.link_address(identity.identity_id, "email", "ada@example.com")
    await store.link_address(identity.identity_id, "webchat", "visitor-9")

    fetched = await store.get_identity(identity.identity_id)

    assert fetched.identity_id == identity.identity_id
    assert [(a.channel_type, a.address) for a in fetched.addresses] == [
        ("sms", "+15551234"),
        ("email", "ada@example.com"),
        ("webchat", "visitor-9"),
    ]


async def test_link_address_makes_the_address_resolve_to_the_identity(store: MemoryStore) -> None:
    identity, _ = await store.resolve_identity("sms", "+15551234")

    linked = await store.link_address(identity.identity_id, "email", "ada@example.com")
    resolved, created = await store.resolve_identity("email", "ada@example.com")

    assert {a.address for a in linked.addresses} == {"+15551234", "ada@example.com"}
    assert created is False
    assert resolved.identity_id == identity.identity_id
    assert (await store.find_identity("email", "ada@example.com")).identity_id == identity.identity_id


async def test_link_address_is_idempotent_for_the_owner(store: MemoryStore) -> None:
    identity, _ = await store.resolve_identity("sms", "+15551234")

    linked = await store.link_address(identity.identity_id, "sms", "+15551234")

    assert len(linked.addresses) == 1
    assert await store.get_identity(identity.identity_id) == identity


async def test_linking_another_identitys_address_is_a_conflict(store: MemoryStore) -> None:
    ada, _ = await store.resolve_identity("sms", "+15551234")
    bob, _ = await store.resolve_identity("sms", "+15559999")

    with pytest.raises(ConflictError) as refused:
        await store.link_address(bob.identity_id, "sms", "+15551234")
    assert refused.value.current == ada.identity_id  # the owner, to resolve the conflict with

    assert (await store.find_identity("sms", "+15551234")).identity_id == ada.identity_id
    assert await store.get_identity(bob.identity_id) == bob


async def test_link_address_to_an_unknown_identity_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.link_address("idn_missing", "sms", "+15551234")
    with pytest.raises(NotFoundError):
        await store.find_identity("sms", "+15551234")


async def test_unlink_address_frees_it_for_another_identity(store: MemoryStore) -> None:
    ada, _ = await store.resolve_identity("sms", "+15551234")
    await store.link_address(ada.identity_id, "email", "shared@example.com")
    bob, _ = await store.resolve_identity("sms", "+15559999")

    unlinked_from = await store.unlink_address("email", "shared@example.com")
    relinked = await store.link_address(bob.identity_id, "email", "shared@example.com")

    assert unlinked_from.identity_id == ada.identity_id
    assert [a.address for a in unlinked_from.addresses] == ["+15551234"]
    assert {a.address for a in relinked.addresses} == {"+15559999", "shared@example.com"}
    assert (await store.find_identity("email", "shared@example.com")).identity_id == bob.identity_id


async def test_unlink_of_an_unknown_address_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.unlink_address("sms", "+15550000")


async def test_find_identity_never_creates_one(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.find_identity("sms", "+15551234")

    _, created = await store.resolve_identity("sms", "+15551234")

    assert created is True


async def test_get_identity_of_an_unknown_id_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        await store.get_identity("idn_missing")
