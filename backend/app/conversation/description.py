"""What a WebSocket route says of itself, for the AsyncAPI document (``app.asyncapi``).

Every route speaks the core ``realtime.json.v1`` messages and, without a subprotocol, the
guide's plain text: that much needs no word. A route that sends or takes more says so once, on
its endpoint function::

    @router.websocket("/ws/{client_id}")
    @speaks(sends=CHAT_SERVER_MESSAGES)
    async def chat(...): ...

Its path, parameters, query and credentials the document reads from the route itself, and its
description from the endpoint's docstring.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
ATTRIBUTE = "__realtime_messages__"


@dataclass(frozen=True)
class Speaks:
    # Beyond the core's text and ping / welcome, reply, pong and error.
    receives: tuple[type[BaseModel], ...] = ()
    sends: tuple[type[BaseModel], ...] = ()
    # Whether it takes the core's `text` (and plain text without a subprotocol).
    text: bool = True


def speaks(
    *,
    receives: Sequence[type[BaseModel]] = (),
    sends: Sequence[type[BaseModel]] = (),
    text: bool = True,
) -> Callable[[Endpoint], Endpoint]:
    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, ATTRIBUTE, Speaks(tuple(receives), tuple(sends), text))
        return endpoint

    return mark


def spoken_by(endpoint: Callable[..., Any]) -> Speaks:
    found = getattr(endpoint, ATTRIBUTE, None)
    return found if isinstance(found, Speaks) else Speaks()
