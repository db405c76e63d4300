"""``POST /api/channels/{name}/events`` to a chat room, over real sockets: a service's message
(its sender a subject, not a client number) reaches every kind of member of the room, and
leaves the room usable for whoever joins after it."""

import asyncio
import json
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect

from app.security.tokens import issue_token
from testkit.waiting import wait_until_async
from tests.channels.realtime_client import JSON_V1, RealtimeClient
from tests.servers import InProcessServer, ThreadServers

SECRET = "publish-to-chat-tests-secret-of-32-chars"
PUBLISHER = issue_token(SECRET, "svc", 600, roles=("publisher",)).token


@pytest.fixture
def server(thread_servers: ThreadServers) -> InProcessServer:
    return thread_servers.start(token_secret=SecretStr(SECRET))


async def messages_until(websocket: ClientConnection, kind: str) -> list[dict[str, Any]]:
    """What a chat JSON client gets, up to the first message of ``kind``."""
    got = []
    while True:
        message = json.loads(await asyncio.wait_for(websocket.recv(), 5))
        got.append(message)
        if message["type"] == kind:
            return got


async def test_a_service_message_to_a_chat_room_reaches_every_member(
    server: InProcessServer,
) -> None:
    # Breaks if an event whose sender is not a client number could not be shown to the chat's
    # JSON members. Fails while features/chat/render.py as_json does int(event.sender),
    # which raises ValueError for "svc" inside the room's fan-out, so that nobody
    # after the first JSON member got the event (the page on /ws/realtime neither), and every
    # JSON member joining later crashed on it in the history (no close frame), for as long as
    # the history held it.
    member = await connect(f"{server.ws_url}/ws/5?room=svc", subprotocols=JSON_V1)
    await messages_until(member, "sync")
    page = RealtimeClient([server.ws_url])
    await page.start()
    assert (await page.subscribe("chat:svc", member="6"))["type"] == "subscribed"
    guide = await connect(f"{server.ws_url}/ws/8?room=svc")

    response = await asyncio.to_thread(
        httpx2.post,
        f"{server.http_url}/api/channels/chat:svc/events",
        json={"data": {"text": "maintenance at noon"}},
        headers={"Authorization": f"Bearer {PUBLISHER}"},
    )
    assert response.status_code == 201, response.text

    await wait_until_async(lambda: "maintenance at noon" in page.texts("chat:svc"), 5, "the page")
    assert page.published("chat:svc")[-1]["sender"] == "svc"
    said = (await messages_until(member, "chat"))[-1]
    assert said["text"] == "maintenance at noon"
    assert "maintenance at noon" in str(await asyncio.wait_for(guide.recv(), 5))

    # Whoever joins later gets it in the room's history, and the room goes on.
    late = await connect(f"{server.ws_url}/ws/7?room=svc", subprotocols=JSON_V1)
    history = await messages_until(late, "sync")
    assert "maintenance at noon" in [m.get("text") for m in history]
    await late.send(json.dumps({"type": "text", "id": "l1", "text": "noted"}))
    acked = await messages_until(late, "ack")
    assert acked[-1]["reply_to"] == "l1"
    for websocket in (member, guide, late):
        await websocket.close()
    await page.stop()
    assert "Traceback" not in server.log()
