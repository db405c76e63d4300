"""The in-memory ticket store: single use, and forgetting what nobody used."""

import asyncio
import time

import pytest

from app.security.tickets import REMEMBERED_FOR, InMemoryTickets, TicketGrant, TicketRefused

ENDPOINT = "/items/foo/ws"
ORIGIN = "http://127.0.0.1:8000"


def grant(expires_at: float) -> TicketGrant:
    return TicketGrant("alice", ENDPOINT, ORIGIN, expires_at)


def test_a_ticket_is_spent_by_its_first_use() -> None:
    async def scenario() -> None:
        store = InMemoryTickets()
        ticket = await store.issue(grant(time.time() + 30))
        assert (await store.redeem(ticket, ENDPOINT, ORIGIN)).credential == "alice"
        with pytest.raises(TicketRefused, match="used already"):
            await store.redeem(ticket, ENDPOINT, ORIGIN)

    asyncio.run(scenario())


def test_tickets_nobody_used_are_forgotten_once_long_expired() -> None:
    async def scenario() -> None:
        store = InMemoryTickets()
        now = time.time()
        long_gone = await store.issue(grant(now - REMEMBERED_FOR - 1))
        just_expired = await store.issue(grant(now - 1))
        await store.issue(grant(now + 30))  # each issue sweeps
        with pytest.raises(TicketRefused, match="unknown"):
            await store.redeem(long_gone, ENDPOINT, ORIGIN)
        with pytest.raises(TicketRefused, match="expired"):
            await store.redeem(just_expired, ENDPOINT, ORIGIN)

    asyncio.run(scenario())
