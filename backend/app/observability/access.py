"""Who may see inside: ``/metrics`` and the live server page are not public by default.

Allowed: a client on loopback (a Prometheus or an operator on the same host, or behind a local
proxy that says who the client really is), or anyone with ``Authorization: Bearer`` and
``APP_METRICS_TOKEN``. Everyone else gets 403 (or 1008 on the live page's socket). A port of
its own was the other choice; one port keeps the deployment and the proxy as they are.
"""

import ipaddress
import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, status
from starlette.requests import HTTPConnection

from app.conversation.refusals import CredentialRefused
from app.deps import SettingsDep

NOT_ALLOWED = "only from the server itself, or with the metrics token (APP_METRICS_TOKEN)"


def is_loopback(connection: HTTPConnection) -> bool:
    host = connection.client.host if connection.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def has_metrics_token(token: str | None, authorization: str | None) -> bool:
    if token is None or authorization is None:
        return False
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip(), token)


async def require_operator(
    connection: HTTPConnection,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    if is_loopback(connection) or has_metrics_token(token, authorization):
        return
    if connection.scope["type"] == "websocket":
        raise CredentialRefused(code=status.WS_1008_POLICY_VIOLATION, reason=NOT_ALLOWED)
    raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_ALLOWED)


OperatorDep = Annotated[None, Depends(require_operator)]
