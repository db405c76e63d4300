"""The in-memory ticket store: single use, and forgetting what nobody used."""

import time

import pytest

from app.security.principal import user
from app.security.tickets import (
    REMEMBERED_FOR,
    InMemoryTickets,
    TicketGrant,
    TicketRefused,
    TicketStoreFull,
)

ENDPOINT = "/items/foo/ws"
ORIGIN = "self"


def grant(expires_at: float) -> TicketGrant:
    return TicketGrant(user("alice"), ENDPOINT, ORIGIN, expires_at)


async def test_a_ticket_is_spent_by_its_first_use() -> None:
    store = InMemoryTickets()
    ticket = await store.issue(grant(time.time() + 30))
    assert (await store.redeem(ticket, ENDPOINT, ORIGIN)).principal == user("alice")
    with pytest.raises(TicketRefused, match="used already"):
        await store.redeem(ticket, ENDPOINT, ORIGIN)


async def test_tickets_nobody_used_are_forgotten_once_long_expired() -> None:
    store = InMemoryTickets()
    now = time.time()
    long_gone = await store.issue(grant(now - REMEMBERED_FOR - 1))
    just_expired = await store.issue(grant(now - 1))
    await store.issue(grant(now + 30))  # each issue sweeps
    with pytest.raises(TicketRefused, match="unknown"):
        await store.redeem(long_gone, ENDPOINT, ORIGIN)
    with pytest.raises(TicketRefused, match="expired"):
        await store.redeem(just_expired, ENDPOINT, ORIGIN)


async def test_the_store_keeps_at_most_its_limit_and_refuses_beyond_it() -> None:
    store = InMemoryTickets(max_tickets=3)
    tickets = [await store.issue(grant(time.time() + 30)) for _ in range(3)]
    with pytest.raises(TicketStoreFull):
        await store.issue(grant(time.time() + 30))
    assert len(store) == 3
    await store.redeem(tickets[0], ENDPOINT, ORIGIN)  # one used: room for one more
    await store.issue(grant(time.time() + 30))


def test_a_grant_survives_its_trip_through_json() -> None:
    original = TicketGrant(user("alice").with_role("operator"), ENDPOINT, None, 1234.5)
    assert TicketGrant.from_json(original.to_json()) == original
