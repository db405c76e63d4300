"""The credential of a connection, for WebSocket and HTTP routes alike.

Typed on ``HTTPConnection``, so the same dependency guards both kinds of route: a WebSocket is
refused with 1008 and a reason, an HTTP request with 401. FastAPI's own security utilities
(``HTTPBearer``, ``OAuth2PasswordBearer``) take a ``Request`` and do not work on WebSockets.

Where a credential may come from, in this order (the first one present is the one used):

1. ``?ticket=``: a single-use ticket from ``POST /api/ws-tickets`` (WebSockets only): what the
   SPA uses, because a browser cannot set headers on a WebSocket;
2. the ``session`` cookie;
3. ``Authorization: Bearer <token>``: for programs (scripts, apps, other services);
4. ``?token=``: the guide's query token, which still works as the guide writes it.

The guide's own rule holds: the cookie wins over the query token.
"""

from typing import Annotated, NoReturn

from fastapi import Cookie, Depends, Header, HTTPException, Query, status
from starlette.requests import HTTPConnection

from app.conversation.refusals import CredentialRefused
from app.deps import SettingsDep, TicketsDep
from app.security.tickets import TicketRefused, TicketStoreDown
from app.security.tokens import InvalidToken, verify_token
from app.settings import Settings

MISSING_CREDENTIALS = "missing credentials: set the session cookie or the token query parameter"
MISSING_HTTP_CREDENTIALS = (
    "missing credentials: set the session cookie or send Authorization: Bearer <token>"
)


def refuse(connection: HTTPConnection, reason: str) -> NoReturn:
    if connection.scope["type"] == "websocket":
        raise CredentialRefused(code=status.WS_1008_POLICY_VIOLATION, reason=reason)
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"}
    )


def bearer_token(connection: HTTPConnection, authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        refuse(connection, "Authorization header: only Bearer tokens are accepted")
    if not token.strip():
        refuse(connection, "Authorization header: no token after Bearer")
    return token.strip()


def checked(connection: HTTPConnection, settings: Settings, credential: str) -> str:
    """The credential, or with signed tokens on, the subject of a valid one."""
    if len(credential) > settings.max_credential_length:
        refuse(
            connection, f"credentials too long: at most {settings.max_credential_length} characters"
        )
    if settings.token_secret is None:
        return credential
    try:
        return verify_token(settings.token_secret.get_secret_value(), credential)
    except InvalidToken as exc:
        refuse(connection, str(exc))


async def get_optional_credential(
    connection: HTTPConnection,
    settings: SettingsDep,
    tickets: TicketsDep,
    session: Annotated[str | None, Cookie()] = None,
    authorization: Annotated[str | None, Header()] = None,
    token: Annotated[str | None, Query()] = None,
    ticket: Annotated[str | None, Query(max_length=128)] = None,
) -> str | None:
    """The connection's credential, None when it sent none; refuses one that is not valid."""
    if ticket is not None:
        if connection.scope["type"] != "websocket":
            refuse(
                connection, "a ticket opens a WebSocket; HTTP requests take the cookie or a token"
            )
        try:
            grant = await tickets.redeem(
                ticket, connection.scope["path"], connection.headers.get("origin")
            )
        except TicketRefused as exc:
            refuse(connection, str(exc))
        except TicketStoreDown:
            refuse(connection, "tickets cannot be checked right now: try again")
        return grant.credential
    # Blank counts as missing, as in the guide (which takes `session or token`).
    if session and session.strip():
        return checked(connection, settings, session)
    if authorization is not None:
        return checked(connection, settings, bearer_token(connection, authorization))
    if token and token.strip():
        return checked(connection, settings, token)
    return None


async def get_credential(
    connection: HTTPConnection,
    credential: Annotated[str | None, Depends(get_optional_credential)],
) -> str:
    """The connection's credential; refuses a connection without one."""
    if credential is None:
        websocket = connection.scope["type"] == "websocket"
        refuse(connection, MISSING_CREDENTIALS if websocket else MISSING_HTTP_CREDENTIALS)
    return credential


CredentialDep = Annotated[str, Depends(get_credential)]
OptionalCredentialDep = Annotated[str | None, Depends(get_optional_credential)]
