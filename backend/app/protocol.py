"""The whole ``realtime.json.v1`` protocol, assembled from the features that own its messages:
the core (``app.conversation.messages``), the chat (``app.features.chat.messages``), the
channels' multiplexed endpoint (``app.channels.messages``) and the live server page
(``app.observability.server_stats``).

``python -m app.protocol > docs/protocol.schema.json`` writes the JSON Schema the frontend's
types are tested against; ``app.asyncapi`` describes the same messages per endpoint. Server
messages of different endpoints may share a ``type`` (the chat's ``sync`` names a room, the
channels' a channel), so they are an ``anyOf``, not a tagged union; what a client sends is
tagged by ``type``.
"""

import json
import sys
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from app.channels.messages import CHANNEL_SERVER_MESSAGES, Publish, Subscribe, Unsubscribe
from app.conversation.messages import CORE_SERVER_MESSAGES, Ping, SendText
from app.features.chat.messages import CHAT_SERVER_MESSAGES
from app.observability.server_stats import ServerStats

SERVER_MESSAGES = (
    *CORE_SERVER_MESSAGES,
    *CHAT_SERVER_MESSAGES,
    *CHANNEL_SERVER_MESSAGES,
    ServerStats,
)

ClientMessages = Annotated[
    SendText | Ping | Subscribe | Unsubscribe | Publish, Field(discriminator="type")
]


def protocol_schema() -> dict[str, Any]:
    union: Any = SERVER_MESSAGES[0]
    for model in SERVER_MESSAGES[1:]:
        union = union | model
    server: TypeAdapter[Any] = TypeAdapter(union)
    client: TypeAdapter[Any] = TypeAdapter(ClientMessages)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "realtime.json.v1",
        "description": "Generated from the message models by `python -m app.protocol`.",
        "client_to_server": client.json_schema(mode="validation"),
        "server_to_client": server.json_schema(mode="serialization"),
    }


if __name__ == "__main__":
    json.dump(protocol_schema(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
