"""The credential of a connection, for WebSocket and HTTP routes alike.

Typed on ``HTTPConnection``, so the same dependency guards both kinds of route: a WebSocket is
refused with 1008 and a reason, an HTTP request with 401. FastAPI's own security utilities
(``HTTPBearer``, ``OAuth2PasswordBearer``) take a ``Request`` and do not work on WebSockets.
"""

from typing import Annotated, NoReturn

from fastapi import Cookie, Depends, HTTPException, Query, WebSocketException, status
from starlette.requests import HTTPConnection

from app.deps import SettingsDep
from app.security.tokens import InvalidToken, verify_token

MISSING_CREDENTIALS = "missing credentials: set the session cookie or the token query parameter"


def refuse(connection: HTTPConnection, reason: str) -> NoReturn:
    if connection.scope["type"] == "websocket":
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION, reason=reason)
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, reason)


async def get_credential(
    connection: HTTPConnection,
    settings: SettingsDep,
    session: Annotated[str | None, Cookie()] = None,
    token: Annotated[str | None, Query()] = None,
) -> str:
    """The credential, or with signed tokens on, the subject of a valid one."""
    # As in the guide, the cookie wins when both are sent. Blank counts as missing.
    credential = next((value for value in (session, token) if value and value.strip()), None)
    if credential is None:
        refuse(connection, MISSING_CREDENTIALS)
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


CredentialDep = Annotated[str, Depends(get_credential)]
