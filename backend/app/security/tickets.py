"""Single-use tickets: how a browser opens a WebSocket without a long-lived token in its URL.

A browser cannot set an ``Authorization`` header on a WebSocket, and a token in the URL ends up
in proxy logs, load-balancer logs and the browser's history. So the page asks
``POST /api/ws-tickets`` (with its session cookie, or a bearer token), and gets a ticket that
opens one connection: it is good once, for about 30 seconds, at the endpoint it was asked for,
from the page's own origin. A stolen ticket is worth little: it has usually been used already.

A ticket stands for the principal it was issued to (subject and roles): the endpoint that
redeems it checks the role it needs, as it would for any credential. It keeps the origin as the
allowlist entry that admitted the page (never the raw header), so each grant is small and
bounded. Tickets live in the process's memory (at most ``APP_MAX_TICKETS``), or in Redis when
``APP_REDIS_URL`` is set, so that one issued by one process opens a connection on any other.
Redis keeps only a hash of each ticket as the key, and the grant encrypted with a key derived
from the ticket itself: whoever reads Redis learns no subject and no credential.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection

from app.security.principal import Principal, known_roles
from app.security.rate_limits import KeyedRateLimit

# How long a used or expired ticket is still recognised as such (rather than as unknown).
REMEMBERED_FOR = 60.0


@dataclass(frozen=True, slots=True)
class TicketGrant:
    """What a ticket stands for."""

    principal: Principal
    # The WebSocket path it opens, e.g. "/items/foo/ws".
    endpoint: str
    # The allowlist entry that admitted the page that asked ("self" for the page's own
    # origin); None for a program that sent no Origin.
    origin: str | None
    # Seconds since the epoch.
    expires_at: float

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "subject": self.principal.subject,
                "roles": sorted(self.principal.roles),
                "endpoint": self.endpoint,
                "origin": self.origin,
                "expires_at": self.expires_at,
            }
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "TicketGrant":
        fields = json.loads(data)
        principal = Principal(str(fields["subject"]), known_roles(fields["roles"]))
        return cls(principal, fields["endpoint"], fields["origin"], float(fields["expires_at"]))


class TicketRefused(ValueError):
    """Why a ticket does not open this connection, fit for a close reason (never the ticket).
    Every reason starts with "ticket": a client that reads it asks for a fresh one."""


class TicketStoreDown(RuntimeError):
    """Redis cannot be reached: no ticket can be issued or checked for now."""


class TicketStoreFull(RuntimeError):
    """As many tickets are outstanding as the process keeps (APP_MAX_TICKETS)."""


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


def _sealing_key(ticket: str) -> Fernet:
    """A key only the ticket's holder can make: HMAC, not the digest above, which is stored."""
    key = hmac.new(ticket.encode(), b"ticket grant", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


class TicketStore(ABC):
    async def issue(self, grant: TicketGrant) -> str:
        ticket = secrets.token_urlsafe(32)
        await self._store(ticket, grant)
        return ticket

    async def redeem(self, ticket: str, endpoint: str, origin: str | None) -> TicketGrant:
        """The grant, once: the ticket is spent whether or not it fits this connection."""
        return check_grant(await self._take(ticket), endpoint, origin)

    @abstractmethod
    async def _store(self, ticket: str, grant: TicketGrant) -> None: ...

    @abstractmethod
    async def _take(self, ticket: str) -> TicketGrant | None:
        """Removes and returns the grant, atomically: two connections cannot both take it."""

    @abstractmethod
    async def close(self) -> None: ...


class InMemoryTickets(TicketStore):
    def __init__(self, max_tickets: int = 10_000) -> None:
        self.max_tickets = max_tickets
        self._grants: dict[str, TicketGrant] = {}

    async def _store(self, ticket: str, grant: TicketGrant) -> None:
        self._sweep()
        if len(self._grants) >= self.max_tickets:
            raise TicketStoreFull
        self._grants[_digest(ticket)] = grant

    async def _take(self, ticket: str) -> TicketGrant | None:
        return self._grants.pop(_digest(ticket), None)

    async def close(self) -> None:
        self._grants.clear()

    def __len__(self) -> int:
        return len(self._grants)

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

    async def _store(self, ticket: str, grant: TicketGrant) -> None:
        lifetime = max(1, int(grant.expires_at - time.time() + REMEMBERED_FOR))
        sealed = _sealing_key(ticket).encrypt(grant.to_json())
        try:
            await self._redis.set(self.PREFIX + _digest(ticket), sealed, ex=lifetime)
        except (RedisError, OSError) as exc:
            raise TicketStoreDown from exc

    async def _take(self, ticket: str) -> TicketGrant | None:
        try:
            sealed = await self._redis.getdel(self.PREFIX + _digest(ticket))
        except (RedisError, OSError) as exc:
            raise TicketStoreDown from exc
        if sealed is None:
            return None
        try:
            return TicketGrant.from_json(_sealing_key(ticket).decrypt(sealed))
        except (InvalidToken, ValueError, KeyError):
            return None  # not one of ours: as good as unknown

    async def close(self) -> None:
        await self._redis.aclose()


class IssuanceLimits:
    """How often tickets may be asked for: per client address, per subject, and for the whole
    process at the rate that keeps at most ``max_tickets`` outstanding (in Redis as in
    memory, since each lives ``ttl`` and is remembered a minute more)."""

    def __init__(self, per_second: float, max_tickets: int, ttl: float) -> None:
        burst = 4 * per_second
        self.by_address = KeyedRateLimit(per_second, burst)
        self.by_subject = KeyedRateLimit(per_second, burst)
        lifetime = ttl + REMEMBERED_FOR
        self.process = KeyedRateLimit(max_tickets / lifetime, max_tickets)

    def wait(self, address: str, subject: str) -> float:
        """0 when a ticket may be issued now (and it is counted), else the seconds to wait."""
        for limit, key in ((self.by_address, address), (self.by_subject, subject)):
            if wait := limit.take(key):
                return wait
        return self.process.take("")


async def tickets_of(connection: HTTPConnection) -> TicketStore:
    """The app's ticket store (``create_app`` keeps it on ``app.state``)."""
    tickets: TicketStore = connection.app.state.tickets
    return tickets
