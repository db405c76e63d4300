"""Single-use tickets: how a browser opens a WebSocket without a long-lived token in its URL.

A browser cannot set an ``Authorization`` header on a WebSocket, and a token in the URL ends up
in proxy logs, load-balancer logs and the browser's history. So the page asks
``POST /api/ws-tickets`` (with its session cookie, or a bearer token), and gets a ticket that
opens one connection: it is good once, for about 30 seconds, at the endpoint it was asked for,
from the page's own origin. A stolen ticket is worth little: it has usually been used already.

Tickets live in the process's memory, or in Redis when ``APP_REDIS_URL`` is set, so that one
issued by one process opens a connection on any other. Redis keeps only a hash of each ticket.
"""

import hashlib
import json
import secrets
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

# How long a used or expired ticket is still recognised as such (rather than as unknown).
REMEMBERED_FOR = 60.0


@dataclass(frozen=True)
class TicketGrant:
    """What a ticket stands for."""

    # The credential it was issued on (with signed tokens on, the verified subject).
    credential: str
    # The WebSocket path it opens, e.g. "/items/foo/ws".
    endpoint: str
    # The Origin of the page that asked for it; None for a program that sent none.
    origin: str | None
    # Seconds since the epoch.
    expires_at: float


class TicketRefused(ValueError):
    """Why a ticket does not open this connection, fit for a close reason (never the ticket)."""


def check_grant(grant: TicketGrant | None, endpoint: str, origin: str | None) -> TicketGrant:
    if grant is None:
        raise TicketRefused("ticket not valid: unknown, or used already (it opens one connection)")
    if grant.expires_at <= time.time():
        raise TicketRefused("ticket expired: ask for a new one")
    if grant.endpoint != endpoint:
        raise TicketRefused(f"ticket is for another endpoint ({grant.endpoint[:60]})")
    if grant.origin != origin:
        raise TicketRefused("ticket was issued to a page of another origin")
    return grant


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


class TicketStore(ABC):
    async def issue(self, grant: TicketGrant) -> str:
        ticket = secrets.token_urlsafe(32)
        await self._store(_digest(ticket), grant)
        return ticket

    async def redeem(self, ticket: str, endpoint: str, origin: str | None) -> TicketGrant:
        """The grant, once: the ticket is spent whether or not it fits this connection."""
        return check_grant(await self._take(_digest(ticket)), endpoint, origin)

    @abstractmethod
    async def _store(self, digest: str, grant: TicketGrant) -> None: ...

    @abstractmethod
    async def _take(self, digest: str) -> TicketGrant | None:
        """Removes and returns the grant, atomically: two connections cannot both take it."""

    @abstractmethod
    async def close(self) -> None: ...


class InMemoryTickets(TicketStore):
    def __init__(self) -> None:
        self._grants: dict[str, TicketGrant] = {}

    async def _store(self, digest: str, grant: TicketGrant) -> None:
        self._sweep()
        self._grants[digest] = grant

    async def _take(self, digest: str) -> TicketGrant | None:
        return self._grants.pop(digest, None)

    async def close(self) -> None:
        self._grants.clear()

    def _sweep(self) -> None:
        """Forgets tickets nobody used, so that the dict stays as small as the traffic. Every
        ticket lives as long, so the oldest come first: only the stale ones are looked at."""
        cutoff = time.time() - REMEMBERED_FOR
        stale: list[str] = []
        for digest, grant in self._grants.items():
            if grant.expires_at >= cutoff:
                break
            stale.append(digest)
        for digest in stale:
            del self._grants[digest]


class RedisTickets(TicketStore):
    """A key per ticket, with a lifetime; GETDEL takes it atomically (Redis 6.2+)."""

    PREFIX = "ws-ticket:"

    def __init__(self, url: str) -> None:
        self._redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    async def _store(self, digest: str, grant: TicketGrant) -> None:
        lifetime = max(1, int(grant.expires_at - time.time() + REMEMBERED_FOR))
        try:
            await self._redis.set(self.PREFIX + digest, json.dumps(asdict(grant)), ex=lifetime)
        except (RedisError, OSError) as exc:
            raise TicketStoreDown from exc

    async def _take(self, digest: str) -> TicketGrant | None:
        try:
            stored = await self._redis.getdel(self.PREFIX + digest)
        except (RedisError, OSError) as exc:
            raise TicketStoreDown from exc
        return None if stored is None else TicketGrant(**json.loads(stored))

    async def close(self) -> None:
        await self._redis.aclose()


class TicketStoreDown(RuntimeError):
    """Redis cannot be reached: no ticket can be issued or checked for now."""
