"""The AsyncAPI document itself, read from the app's routes and channel declarations."""

import inspect
import re
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIWebSocketRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.channels.declarations import ChannelRegistry, description_of
from app.channels.messages import MULTIPLEXED_ENDPOINT, ChannelEventMessage
from app.conversation.description import spoken_by
from app.conversation.messages import CORE_SERVER_MESSAGES, Ping, SendText

SCHEMA_REF = "#/components/schemas/{model}"
WS_BINDING_VERSION = "0.1.0"

GUIDE_TEXT = {
    "guideText": "A text message, as the guide's clients send it (no subprotocol).",
    "guideReply": "One of the guide's text lines, exactly as the guide writes it.",
}

CLOSE_CODES = {
    "1003": "a binary message to an endpoint that takes text only",
    "1007": "a text message that is not valid UTF-8",
    "1008": "refused: credentials, a role, a ticket, a malformed query parameter (with a reason)",
    "1009": "a message over APP_WS_MAX_MESSAGE_SIZE, refused on its frame header",
    "1011": "a peer that did not answer the protocol's pings",
    "1012": "the server is restarting (SIGTERM): reconnect, to another process",
    "1013": "try again later: a client that did not keep up, a room or channel too many, a "
    "message the server cannot keep now; reconnect, and resume from the position",
}

SUBPROTOCOL = {
    "Sec-WebSocket-Protocol": {
        "type": "string",
        "description": (
            "Offered in order of preference: realtime.json.v1, realtime.text.v1. "
            "Without one, the guide's plain text."
        ),
    },
}
CREDENTIAL_HEADERS = {
    "Cookie": {"type": "string", "description": "session=<credential>"},
    "Authorization": {"type": "string", "description": "Bearer <token>, for programs"},
}
QUERY_DESCRIPTIONS = {
    "ticket": "A single-use ticket from POST /api/ws-tickets.",
    "token": "The guide's query token (not for browsers).",
    "since": "epoch:offset of the last event the client has, to resume.",
    "sender_key": "The key its sends are recognised by, from its first welcome.",
}
JSON_TYPES = {int: "integer", str: "string", float: "number", bool: "boolean"}


def _walk(dependant: Dependant) -> list[Dependant]:
    """The route's dependant and every dependency below it."""
    found = [dependant]
    for dependency in dependant.dependencies:
        found += _walk(dependency)
    return found


def _params(route: APIWebSocketRoute, kind: str) -> list[Any]:
    """The route's parameters of one kind (path, query, header), its dependencies' included."""
    seen: dict[str, Any] = {}
    for dependant in _walk(route.dependant):
        for param in getattr(dependant, f"{kind}_params"):
            seen.setdefault(param.name, param)
    return list(seen.values())


def message_name(model: type[BaseModel]) -> str:
    return model.__name__[0].lower() + model.__name__[1:]


def _summary(model: type[BaseModel]) -> str:
    doc = inspect.getdoc(model) or model.__name__
    return doc.split("\n\n", 1)[0].replace("\n", " ")


def _query(route: APIWebSocketRoute) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for param in _params(route, "query"):
        annotation = param.field_info.annotation
        spec: dict[str, Any] = {}
        kind = JSON_TYPES.get(annotation) or next(
            (JSON_TYPES[arg] for arg in getattr(annotation, "__args__", ()) if arg in JSON_TYPES),
            None,
        )
        if kind:
            spec["type"] = kind
        if param.name in QUERY_DESCRIPTIONS:
            spec["description"] = QUERY_DESCRIPTIONS[param.name]
        for meta in param.field_info.metadata:
            pattern = getattr(meta, "pattern", None)
            if pattern:
                spec["pattern"] = pattern
        if param.field_info.default not in (None, ...) and not callable(param.field_info.default):
            spec["default"] = param.field_info.default
        properties[param.alias] = spec
    return {"type": "object", "properties": properties}


def _headers(route: APIWebSocketRoute) -> dict[str, Any]:
    takes_credentials = any(p.name == "authorization" for p in _params(route, "header"))
    properties = {**SUBPROTOCOL, **(CREDENTIAL_HEADERS if takes_credentials else {})}
    return {"type": "object", "properties": properties}


def _description(route: APIWebSocketRoute) -> str:
    doc = inspect.getdoc(route.endpoint)
    return " ".join((doc or route.name).split("\n\n", 1)[0].split())


def _channel_events(registry: ChannelRegistry) -> dict[str, tuple[str, dict[str, Any], str]]:
    """Each declared channel's events, as a message of the multiplexed endpoint."""
    events: dict[str, tuple[str, dict[str, Any], str]] = {}
    for channel in registry:
        name = "event_" + re.sub(r"\W+", "_", channel.pattern).strip("_")
        payload = {
            "allOf": [{"$ref": SCHEMA_REF.format(model=ChannelEventMessage.__name__)}],
            "properties": {
                "channel": {"type": "string", "description": f"A name of {channel.pattern}"},
                "data": {"$ref": SCHEMA_REF.format(model=channel.payload.__name__)},
            },
        }
        summary = (
            f"{channel.pattern}: {channel.description} Who may follow it: "
            f"{description_of(channel.subscribe)}. Who may publish to it: "
            f"{description_of(channel.publish)}." + (" With presence." if channel.presence else "")
        )
        events[name] = (channel.pattern, payload, summary)
    return events


def asyncapi_document(app: FastAPI) -> dict[str, Any]:
    registry: ChannelRegistry = app.state.channels
    routes = [route for route in app.routes if isinstance(route, APIWebSocketRoute)]
    models: dict[str, type[BaseModel]] = {}
    core: tuple[type[BaseModel], ...] = (SendText, Ping, *CORE_SERVER_MESSAGES, ChannelEventMessage)
    for model in core:
        models[model.__name__] = model
    for route in routes:
        speaks = spoken_by(route.endpoint)
        for model in (*speaks.receives, *speaks.sends):
            models[model.__name__] = model
    for channel in registry:
        models[channel.payload.__name__] = channel.payload
    _, top = models_json_schema(
        [(model, "serialization") for model in models.values()], ref_template=SCHEMA_REF
    )
    schemas: dict[str, Any] = top.get("$defs", {})
    messages: dict[str, Any] = {}
    for model in models.values():
        messages[message_name(model)] = {
            "name": message_name(model),
            "title": model.__name__,
            "summary": _summary(model),
            "contentType": "application/json",
            "payload": {"$ref": SCHEMA_REF.format(model=model.__name__)},
        }
    for name, summary in GUIDE_TEXT.items():
        messages[name] = {
            "name": name,
            "summary": summary,
            "contentType": "text/plain",
            "payload": {"type": "string"},
        }
    channel_events = _channel_events(registry)
    for name, (_pattern, payload, summary) in channel_events.items():
        messages[name] = {
            "name": name,
            "summary": summary,
            "contentType": "application/json",
            "payload": payload,
        }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for route in routes:
        speaks = spoken_by(route.endpoint)
        receives = ["guideText", "sendText"] if speaks.text else []
        receives += ["ping", *(message_name(model) for model in speaks.receives)]
        sends = ["guideReply", "welcome", "reply"] if speaks.text else ["welcome"]
        sends += ["pong", "error", *(message_name(model) for model in speaks.sends)]
        if route.path == MULTIPLEXED_ENDPOINT:
            sends += list(channel_events)
        entry: dict[str, Any] = {
            "address": route.path,
            "description": _description(route),
            "messages": {
                name: {"$ref": f"#/components/messages/{name}"} for name in receives + sends
            },
            "bindings": {
                "ws": {
                    "method": "GET",
                    "query": _query(route),
                    "headers": _headers(route),
                    "bindingVersion": WS_BINDING_VERSION,
                }
            },
            "x-close-codes": CLOSE_CODES,
        }
        path_params = _params(route, "path")
        if path_params:
            entry["parameters"] = {
                param.name: {"description": param.field_info.description or param.name}
                for param in path_params
            }
        name = route.name if route.name not in channels else f"{route.name}_{len(channels)}"
        channels[name] = entry
        for action, names in (("receive", receives), ("send", sends)):
            operations[f"{action}_{name}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{name}"},
                "summary": (
                    f"What the server {'takes from' if action == 'receive' else 'sends to'} "
                    f"a client of {route.path}."
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
                "speaks typed JSON (docs/protocol.md). Generated from the app's routes and "
                "channels by `python -m app asyncapi`."
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
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
