"""The AsyncAPI 3.0 document of the WebSocket endpoints, generated from the message models.

The same Pydantic models that produce ``docs/protocol.schema.json`` produce this: every channel
(echo, items, chat, the live page), its parameters and bindings (query parameters, headers,
subprotocols), each message in each direction, and the close codes. Served at
``GET /api/asyncapi.json``; ``python -m app.asyncapi`` writes ``docs/asyncapi.json`` and, with
``--markdown``, the readable ``docs/asyncapi.md``. A test keeps both in step with the models,
and the AsyncAPI initiative's own parser validates the document in the test command.
"""

import json
import sys
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.conversation.messages import (
    Ack,
    ChatText,
    Error,
    Joined,
    Left,
    Ping,
    Pong,
    Presence,
    Reply,
    SendText,
    ServerStats,
    Sync,
    Welcome,
)

SCHEMA_REF = "#/components/schemas/{model}"
WS_BINDING_VERSION = "0.1.0"
SUBPROTOCOLS = ["realtime.json.v1", "realtime.text.v1"]

# Each model once, in components; a channel names the ones it carries.
JSON_MESSAGES: dict[str, tuple[type[BaseModel], str, str]] = {
    "sendText": (SendText, "text", "A message for the endpoint, with an id its answers name."),
    "ping": (Ping, "ping", "Asks for a pong: round trips, and dead peers."),
    "welcome": (Welcome, "welcome", "The first message: the connection's id."),
    "reply": (Reply, "text", "One of the guide's text messages, naming what it answers."),
    "pong": (Pong, "pong", "The answer to a ping."),
    "error": (Error, "error", "A message the server could not take; the connection stays open."),
    "chat": (ChatText, "chat", "Someone said something in the room, at its position."),
    "joined": (Joined, "joined", "Someone joined the room."),
    "left": (Left, "left", "Someone left the room, or their process died."),
    "ack": (Ack, "ack", "The room holds the sender's message, at this position."),
    "sync": (Sync, "sync", "The history a member was sent ends here; live events follow."),
    "presence": (Presence, "presence", "Who is in the room, in every process."),
    "serverStats": (ServerStats, "server_stats", "What this process sees, once a second."),
}

GUIDE_TEXT = {
    "guideText": "A text message, as the guide's clients send it (no subprotocol).",
    "guideReply": "One of the guide's text lines, exactly as the guide writes it.",
}

CLOSE_CODES = {
    "1003": "a binary message to an endpoint that takes text only",
    "1007": "a text message that is not valid UTF-8",
    "1008": "refused: credentials, a ticket, or a malformed query parameter (with a reason)",
    "1009": "a message over APP_WS_MAX_MESSAGE_SIZE, refused on its frame header",
    "1011": "a peer that did not answer the protocol's pings",
    "1012": "the server is restarting (SIGTERM): reconnect, to another process",
    "1013": "a chat client that did not keep up: reconnect, and resume from its position",
}


def _query(properties: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


SUBPROTOCOL = {
    "Sec-WebSocket-Protocol": {
        "type": "string",
        "description": (
            "Offered in order of preference: realtime.json.v1, realtime.text.v1. "
            "Without one, the guide's plain text."
        ),
    },
}
SUBPROTOCOL_HEADER: dict[str, Any] = {"type": "object", "properties": SUBPROTOCOL}
CREDENTIAL_HEADERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        **SUBPROTOCOL,
        "Cookie": {"type": "string", "description": "session=<credential>"},
        "Authorization": {"type": "string", "description": "Bearer <token>, for programs"},
    },
}
TICKET = {"type": "string", "description": "A single-use ticket from POST /api/ws-tickets."}
TOKEN = {"type": "string", "description": "The guide's query token (not for browsers)."}


def _channel(
    address: str,
    description: str,
    receives: list[str],
    sends: list[str],
    *,
    query: dict[str, dict[str, Any]] | None = None,
    headers: dict[str, Any] = SUBPROTOCOL_HEADER,
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "address": address,
        "description": description,
        "messages": {
            name: {"$ref": f"#/components/messages/{name}"} for name in [*receives, *sends]
        },
        "bindings": {
            "ws": {
                "method": "GET",
                "query": _query(query or {}),
                "headers": headers,
                "bindingVersion": WS_BINDING_VERSION,
            }
        },
        "x-close-codes": CLOSE_CODES,
    }
    if parameters:
        channel["parameters"] = {name: {"description": text} for name, text in parameters.items()}
    return channel


CHANNELS: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {}


def _define(
    name: str, address: str, description: str, receives: list[str], sends: list[str], **extra: Any
) -> None:
    CHANNELS[name] = (_channel(address, description, receives, sends, **extra), receives, sends)


CLIENT_SENDS = ["guideText", "sendText", "ping"]
GUIDE_ANSWERS = ["guideReply", "welcome", "reply", "pong", "error"]

_define(
    "echo",
    "/ws",
    "The guide's echo: each text X comes back as `Message text was: X`; bytes come back unchanged.",
    CLIENT_SENDS,
    GUIDE_ANSWERS,
)
_define(
    "items",
    "/items/{item_id}/ws",
    "The guide's endpoint with credentials: for each text X, `Session cookie or query token "
    "value is: {credential}`, `Query parameter q is: {q}` (with q), and `Message text was: "
    "X, for item ID: {item_id}`. The credential: a ticket, the session cookie, a bearer "
    "header or the guide's token, the first present.",
    CLIENT_SENDS,
    GUIDE_ANSWERS,
    query={"q": {"type": "integer"}, "ticket": TICKET, "token": TOKEN},
    headers=CREDENTIAL_HEADERS,
    parameters={"item_id": "Any string: the item the messages are about."},
)
_define(
    "chat",
    "/ws/{client_id}",
    "The guide's chat, in rooms, across processes: the guide's clients get `You wrote: X`, "
    "`Client #A says: X` and `Client #A left the chat`; realtime.json.v1 clients get every "
    "event with its position, the history on joining or what they missed since `since`, "
    "acknowledgements, and presence.",
    CLIENT_SENDS,
    ["guideReply", "welcome", "pong", "error", "chat", "joined", "left", "ack", "sync", "presence"],
    query={
        "room": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$", "default": "general"},
        "since": {
            "type": "string",
            "description": "epoch:offset of the last event the client has, to resume.",
        },
        "ticket": TICKET,
    },
    headers=CREDENTIAL_HEADERS,
    parameters={"client_id": "An integer from 0 to 2^53 - 1: who speaks."},
)
_define(
    "live",
    "/api/live",
    "The live server page: this process's numbers, once a second. Needs the operator role: "
    "the operator's token as a bearer, or a ticket for it (POST /api/ws-tickets).",
    ["ping"],
    ["welcome", "pong", "serverStats"],
    query={"ticket": TICKET},
)


def _messages(schemas: dict[str, Any]) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for name, (model, _type, summary) in JSON_MESSAGES.items():
        messages[name] = {
            "name": name,
            "title": model.__name__,
            "summary": summary,
            "contentType": "application/json",
            "payload": {"$ref": SCHEMA_REF.format(model=model.__name__)},
        }
        assert model.__name__ in schemas
    for name, summary in GUIDE_TEXT.items():
        messages[name] = {
            "name": name,
            "summary": summary,
            "contentType": "text/plain",
            "payload": {"type": "string"},
        }
    return messages


def asyncapi_document() -> dict[str, Any]:
    models = [(model, "serialization") for model, _, _ in JSON_MESSAGES.values()]
    _, top = models_json_schema(models, ref_template=SCHEMA_REF)  # type: ignore[arg-type]
    schemas: dict[str, Any] = top["$defs"]
    operations: dict[str, Any] = {}
    for name, (_, receives, sends) in CHANNELS.items():
        for action, names in (("receive", receives), ("send", sends)):
            operations[f"{action}{name.title()}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{name}"},
                "summary": (
                    f"What the server {'takes from' if action == 'receive' else 'sends to'} "
                    f"a client of {CHANNELS[name][0]['address']}."
                ),
                "messages": [
                    {"$ref": f"#/channels/{name}/messages/{message}"} for message in names
                ],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "FastAPI + React real-time",
            "version": "0.1.0",
            "description": (
                "FastAPI's WebSockets guide made real. Without a subprotocol every endpoint "
                "behaves exactly as the guide's (docs/contract.md); with realtime.json.v1 it "
                "speaks typed JSON (docs/protocol.md). Generated from "
                "backend/app/conversation/messages.py by `python -m app.asyncapi`."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:8000",
                "protocol": "ws",
                "description": "python -m app; behind TLS the same paths are wss:",
            }
        },
        "channels": {name: channel for name, (channel, _, _) in CHANNELS.items()},
        "operations": operations,
        "components": {"messages": _messages(schemas), "schemas": schemas},
    }


def asyncapi_markdown(document: dict[str, Any]) -> str:
    """The document as a page to read: channels, what goes each way, and the messages."""
    lines = [
        "# The WebSocket API (AsyncAPI 3.0)",
        "",
        "Generated from `docs/asyncapi.json` by `python -m app.asyncapi --markdown`; do not edit.",
        "",
        document["info"]["description"],
        "",
    ]
    messages = document["components"]["messages"]
    schemas = document["components"]["schemas"]
    for name, channel in document["channels"].items():
        lines += [f"## {name}: `{channel['address']}`", "", channel["description"], ""]
        for parameter, spec in channel.get("parameters", {}).items():
            lines.append(f"- Path parameter `{parameter}`: {spec['description']}")
        for query, spec in channel["bindings"]["ws"]["query"]["properties"].items():
            lines.append(f"- Query `{query}`: {spec.get('description', spec.get('type', ''))}")
        lines.append("")
        for action in ("receive", "send"):
            operation = document["operations"][f"{action}{name.title()}"]
            names = [ref["$ref"].rsplit("/", 1)[1] for ref in operation["messages"]]
            title = "Client to server" if action == "receive" else "Server to client"
            lines.append(f"{title}: " + ", ".join(f"`{n}`" for n in names) + ".")
            lines.append("")
    lines += ["## Messages", ""]
    for name, message in messages.items():
        lines.append(f"### `{name}` ({message['contentType']})")
        lines += ["", message["summary"], ""]
        payload = message["payload"]
        if "$ref" in payload:
            schema = schemas[payload["$ref"].rsplit("/", 1)[1]]
            lines += ["| Field | Type | Required |", "| --- | --- | --- |"]
            required = set(schema.get("required", []))
            for field, spec in schema.get("properties", {}).items():
                lines.append(
                    f"| `{field}` | {_type_of(spec)} | {'yes' if field in required else ''} |"
                )
            lines.append("")
    lines += ["## Close codes", "", "| Code | When |", "| --- | --- |"]
    lines += [f"| {code} | {when} |" for code, when in CLOSE_CODES.items()]
    return "\n".join(lines) + "\n"


def _type_of(spec: dict[str, Any]) -> str:
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    if "$ref" in spec:
        return str(spec["$ref"]).rsplit("/", 1)[1]
    if "enum" in spec:
        return " or ".join(f"`{json.dumps(value)}`" for value in spec["enum"])
    if "anyOf" in spec:
        return " or ".join(_type_of(option) for option in spec["anyOf"])
    if spec.get("type") == "array":
        return f"list of {_type_of(spec.get('items', {}))}"
    return str(spec.get("type", "any"))


if __name__ == "__main__":
    document = asyncapi_document()
    if "--markdown" in sys.argv[1:]:
        sys.stdout.write(asyncapi_markdown(document))
    else:
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
