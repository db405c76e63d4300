"""The one access road: who a connection is (a ``Principal``), and what a route requires.

Typed on ``HTTPConnection``, so the same dependency guards HTTP and WebSocket routes: a
WebSocket is refused with 1008 and a reason, an HTTP request with 401 (no valid credential) or
403 (a credential without the role the route needs). FastAPI's own security utilities
(``HTTPBearer``, ``OAuth2PasswordBearer``) take a ``Request`` and do not work on WebSockets.

Where a credential may come from, in this order:

1. ``?ticket=``: a single-use ticket from ``POST /api/ws-tickets`` (WebSockets only): what the
   SPA uses, because a browser cannot set headers on a WebSocket;
2. ``Authorization: Bearer <token>``: for programs (scripts, apps, other services); the
   operator's token (``APP_METRICS_TOKEN``) is one;
3. the ``session`` cookie;
4. ``?token=``: the guide's query token, which still works as the guide writes it.

A credential the client chose to send (a ticket, a header, a query token) must be valid, or
the connection is refused. The cookie is different: the browser sends it by itself, to every
page, so a stale one is passed over (the guide's chat, which takes no credential, stays open
to its owner) and only reported when nothing else stands in for it. The guide's own rule
holds: the cookie wins over the query token.

A route says what it needs with ``UserDep`` or ``OperatorDep`` (or ``RequireRole``), and
``POST /api/ws-tickets`` finds that requirement on the WebSocket route itself
(``role_required_by``), so a ticket is only issued to whom the endpoint would admit.
"""

import hmac
import ipaddress
from collections.abc import Iterator
from typing import Annotated, NoReturn

from fastapi import Cookie, Depends, Header, HTTPException, Query, status
from fastapi.dependencies.models import Dependant
from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute

from app.security.origins import OriginPolicy
from app.security.principal import LOOPBACK_OPERATOR, OPERATOR, Principal, Role, user
from app.security.tickets import TicketRefused, TicketStore, TicketStoreDown, tickets_of
from app.security.tokens import InvalidToken, verify_token
from app.settings import Settings, settings_of
from app.vocabulary.refusals import CredentialRefused

SettingsDep = Annotated[Settings, Depends(settings_of)]
TicketsDep = Annotated[TicketStore, Depends(tickets_of)]

MISSING_CREDENTIALS = "missing credentials: set the session cookie or the token query parameter"
MISSING_HTTP_CREDENTIALS = (
    "missing credentials: set the session cookie or send Authorization: Bearer <token>"
)
# Headers a proxy adds: a request that carries one came through a proxy, whatever its address.
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def refuse(connection: HTTPConnection, reason: str) -> NoReturn:
    """No valid credential: 401 (or 1008 on a WebSocket)."""
    if connection.scope["type"] == "websocket":
        raise CredentialRefused(code=status.WS_1008_POLICY_VIOLATION, reason=reason)
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"}
    )


def forbid(connection: HTTPConnection, reason: str) -> NoReturn:
    """A valid credential without the role needed: 403 (or 1008 on a WebSocket)."""
    if connection.scope["type"] == "websocket":
        raise CredentialRefused(code=status.WS_1008_POLICY_VIOLATION, reason=reason)
    raise HTTPException(status.HTTP_403_FORBIDDEN, reason)


def bearer_token(connection: HTTPConnection, authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        refuse(connection, "Authorization header: only Bearer tokens are accepted")
    if not token.strip():
        refuse(connection, "Authorization header: no token after Bearer")
    return token.strip()


def is_operator_token(settings: Settings, token: str) -> bool:
    if settings.metrics_token is None:
        return False
    # Bytes: a header may hold any Latin-1 character, and compare_digest takes ASCII str only.
    expected = settings.metrics_token.get_secret_value().encode()
    return hmac.compare_digest(token.encode("utf-8", "surrogateescape"), expected)


class CredentialInvalid(ValueError):
    """Why a credential was not taken, in words fit for a close reason."""


def principal_of(settings: Settings, credential: str) -> Principal:
    """The principal a token or cookie stands for; raises ``CredentialInvalid``."""
    if len(credential) > settings.max_credential_length:
        raise CredentialInvalid(
            f"credentials too long: at most {settings.max_credential_length} characters"
        )
    if settings.token_secret is None:
        return user(credential)  # the guide's behaviour: any credential, as who it names
    try:
        return verify_token(settings.token_secret.get_secret_value(), credential)
    except InvalidToken as exc:
        raise CredentialInvalid(str(exc)) from exc


def came_directly_from_loopback(connection: HTTPConnection) -> bool:
    """On this machine, and through no proxy: behind a proxy on the same host every request
    arrives from loopback, so an address alone says nothing about who is asking."""
    if any(name in connection.headers for name in FORWARDING_HEADERS):
        return False
    host = connection.client.host if connection.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def get_principal(
    connection: HTTPConnection,
    settings: SettingsDep,
    tickets: TicketsDep,
    session: Annotated[str | None, Cookie()] = None,
    authorization: Annotated[str | None, Header()] = None,
    token: Annotated[str | None, Query()] = None,
    ticket: Annotated[str | None, Query(max_length=128)] = None,
) -> Principal | None:
    """Who the connection is, None when it sent no valid credential; refuses one it chose to
    send that is not valid (a stale cookie is passed over: see the module's docstring)."""
    principal = await _principal_from_credentials(
        connection, settings, tickets, session, authorization, token, ticket
    )
    if settings.operator_on_loopback and came_directly_from_loopback(connection):
        return LOOPBACK_OPERATOR if principal is None else principal.with_role("operator")
    return principal


async def _principal_from_credentials(
    connection: HTTPConnection,
    settings: Settings,
    tickets: TicketsDep,
    session: str | None,
    authorization: str | None,
    token: str | None,
    ticket: str | None,
) -> Principal | None:
    if ticket is not None:
        if connection.scope["type"] != "websocket":
            refuse(
                connection, "a ticket opens a WebSocket; HTTP requests take the cookie or a token"
            )
        return await _redeem(connection, tickets, ticket)
    if authorization is not None:
        bearer = bearer_token(connection, authorization)
        if is_operator_token(settings, bearer):
            return OPERATOR
        return _taken(connection, settings, bearer)
    # Blank counts as missing, as in the guide (which takes `session or token`).
    if session and session.strip():
        try:
            return principal_of(settings, session)
        except CredentialInvalid:
            pass  # the browser's own doing: told only if nothing else stands in for it
    if token and token.strip():
        return _taken(connection, settings, token)
    return None


def _taken(connection: HTTPConnection, settings: Settings, credential: str) -> Principal:
    try:
        return principal_of(settings, credential)
    except CredentialInvalid as exc:
        refuse(connection, str(exc))


async def _redeem(connection: HTTPConnection, tickets: TicketsDep, ticket: str) -> Principal:
    origin = connection.headers.get("origin")
    entry = None
    if origin is not None:
        policy: OriginPolicy = connection.app.state.origin_policy
        scheme = connection.scope.get("scheme", "ws")
        entry = policy.entry_for(origin, connection.headers.get("host", ""), scheme)
    try:
        grant = await tickets.redeem(ticket, connection.scope["path"], entry)
    except TicketRefused as exc:
        refuse(connection, str(exc))
    except TicketStoreDown:
        refuse(connection, "ticket cannot be checked right now: try again")
    return grant.principal


OptionalPrincipalDep = Annotated[Principal | None, Depends(get_principal)]


def missing_credentials(connection: HTTPConnection) -> NoReturn:
    """Refuses a connection that needs a credential and has none: with the reason its
    cookie was passed over, when it sent one."""
    session = connection.cookies.get("session")
    if session and session.strip():
        try:
            principal_of(connection.app.state.settings, session)
        except CredentialInvalid as exc:
            refuse(connection, f"session cookie: {exc}")
    websocket = connection.scope["type"] == "websocket"
    refuse(connection, MISSING_CREDENTIALS if websocket else MISSING_HTTP_CREDENTIALS)


class RequireRole:
    """A dependency that admits principals with ``role``: ``Depends(RequireRole("user"))``."""

    def __init__(self, role: Role) -> None:
        self.role = role

    async def __call__(
        self, connection: HTTPConnection, principal: OptionalPrincipalDep
    ) -> Principal:
        if principal is None:
            missing_credentials(connection)
        if not principal.has(self.role):
            if principal.by_address:
                missing_credentials(connection)  # it sent none: the guide's refusal
            forbid(connection, f"this needs the {self.role} role, which the credential lacks")
        return principal


async def get_any_principal(
    connection: HTTPConnection, principal: OptionalPrincipalDep
) -> Principal:
    """Any valid credential, whatever its roles (asking for a ticket, say)."""
    if principal is None:
        missing_credentials(connection)
    return principal


USER = RequireRole("user")
OPERATOR_ONLY = RequireRole("operator")
PUBLISHER = RequireRole("publisher")
UserDep = Annotated[Principal, Depends(USER)]
OperatorDep = Annotated[Principal, Depends(OPERATOR_ONLY)]
PublisherRoleDep = Annotated[Principal, Depends(PUBLISHER)]
PrincipalDep = Annotated[Principal, Depends(get_any_principal)]


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def role_required_by(route: BaseRoute) -> Role | None:
    """The role a route's dependencies require (None: anyone may connect)."""
    dependant: Dependant | None = getattr(route, "dependant", None)
    if dependant is None:
        return None
    for dependency in _dependencies(dependant):
        if isinstance(dependency.call, RequireRole):
            return dependency.call.role
    return None
