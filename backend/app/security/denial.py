"""Refusing a WebSocket handshake with an HTTP status and a readable body."""

from starlette.types import Send


async def deny_websocket(send: Send, status: int, reason: str) -> None:
    """An HTTP response instead of the upgrade (the ASGI "websocket.http.response" extension).

    Every WebSocket server we run under (uvicorn's websockets implementations) supports it; a
    browser sees a failed connection, a script or a proxy sees the status and the reason.
    """
    body = reason.encode()
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})
