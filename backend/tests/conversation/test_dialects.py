"""Which dialect a connection speaks: the first subprotocol of the client's list that the server
knows, and the guide's plain text without one."""

from typing import Any, cast

import pytest
from starlette.requests import HTTPConnection

from app.conversation.dialects import Dialect, dialect_of


def offering(*subprotocols: str) -> HTTPConnection:
    scope: dict[str, Any] = {"type": "websocket", "subprotocols": list(subprotocols)}
    return cast(HTTPConnection, type("Connection", (), {"scope": scope})())


@pytest.mark.parametrize(
    ("offered", "dialect"),
    [
        ((), Dialect.GUIDE),
        (("realtime.json.v1",), Dialect.JSON_V1),
        (("realtime.text.v1", "realtime.json.v1"), Dialect.TEXT_V1),  # the client's order
        (("chat", "realtime.json.v1"), Dialect.JSON_V1),  # unknown ones are passed over
        (("chat", "superchat"), Dialect.GUIDE),
    ],
)
def test_the_first_known_subprotocol_in_the_clients_order(
    offered: tuple[str, ...], dialect: Dialect
) -> None:
    assert dialect_of(offering(*offered)) is dialect


def test_the_server_names_the_one_it_took() -> None:
    assert Dialect.JSON_V1.subprotocol == "realtime.json.v1"
    assert Dialect.GUIDE.subprotocol is None
