import json
from pathlib import Path

import pytest

from app.conversation.messages import Error, Ping, SendText, parse_client_message
from app.protocol import protocol_schema
from app.settings import REPOSITORY_ROOT

SCHEMA_FILE = REPOSITORY_ROOT / "docs" / "protocol.schema.json"


def test_committed_schema_matches_the_models() -> None:
    committed = json.loads(Path(SCHEMA_FILE).read_text())
    assert committed == protocol_schema(), (
        "docs/protocol.schema.json is stale: run "
        "`python -m app.protocol > docs/protocol.schema.json` (from backend/) and update "
        "frontend/src/realtime/messages.ts to match"
    )


def test_parses_each_client_message() -> None:
    assert parse_client_message('{"type": "text", "id": "m1", "text": "hi"}') == SendText(
        type="text", id="m1", text="hi"
    )
    assert parse_client_message('{"type": "ping", "id": "p1", "sent_at": 12.5}') == Ping(
        type="ping", id="p1", sent_at=12.5
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", Error(code="invalid_json", detail="not valid JSON", reply_to=None)),
        (
            '{"type": "shout", "id": "m1"}',
            Error(
                code="unknown_type",
                detail="unknown message type; expected one of 'text', 'ping'",
                reply_to="m1",
            ),
        ),
        (
            '{"id": "m1", "text": "no type"}',
            Error(
                code="invalid_message",
                detail="message: Unable to extract tag using discriminator 'type'",
                reply_to="m1",
            ),
        ),
        (
            '{"type": "text", "id": "m2", "text": 42}',
            Error(
                code="invalid_message", detail="text: Input should be a valid string", reply_to="m2"
            ),
        ),
        (
            '{"type": "text", "id": "", "text": "x"}',
            Error(
                code="invalid_message",
                detail="id: String should have at least 1 character",
                reply_to=None,
            ),
        ),
        (
            '{"type": "ping", "id": "p", "sent_at": 1, "extra": true}',
            Error(
                code="invalid_message", detail="extra: Extra inputs are not permitted", reply_to="p"
            ),
        ),
        (
            "[1, 2]",
            Error(
                code="invalid_message", detail="message: Input should be an object", reply_to=None
            ),
        ),
    ],
)
def test_malformed_messages_become_typed_errors(raw: str, expected: Error) -> None:
    assert parse_client_message(raw) == expected
