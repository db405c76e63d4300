"""APP_LOG_FORMAT=json: a JSON object per line, with connection ids, and never a credential."""

import json

import httpx2
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from tests.servers import ProcessServers, stop_live_server

SECRET = "json-logs-secret-of-thirty-two-chars!"


def test_json_logs_parse_line_by_line_and_hold_no_credential(
    process_servers: ProcessServers,
) -> None:
    server = process_servers.start(
        APP_LOG_FORMAT="json",
        APP_LOG_LEVEL="info",
        APP_TOKEN_SECRET=SECRET,
        APP_DEV_TOKEN_MINTING="true",
    )
    token = httpx2.post(f"{server.http_url}/api/tokens", json={"subject": "ann"}).json()["token"]
    ticket = httpx2.post(
        f"{server.http_url}/api/ws-tickets",
        json={"endpoint": "/items/1/ws"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["ticket"]
    with connect(
        f"{server.ws_url}/items/1/ws?ticket={ticket}",
        subprotocols=[Subprotocol("realtime.json.v1")],
    ) as websocket:
        connection_id = json.loads(websocket.recv(timeout=5))["connection_id"]
        websocket.send(json.dumps({"type": "text", "id": "m1", "text": "hi"}))
        websocket.recv(timeout=5)
    with connect(f"{server.ws_url}/items/1/ws?token={token}") as websocket:
        websocket.send("hi")
        websocket.recv(timeout=5)
    with pytest.raises(InvalidStatus):
        connect(
            f"{server.ws_url}/items/1/ws", additional_headers={"Cookie": "session=c00kie-v4lue"}
        )
    with connect(
        f"{server.ws_url}/items/1/ws", additional_headers={"Authorization": f"Bearer {token}"}
    ) as websocket:
        websocket.send("hi")
        websocket.recv(timeout=5)
    stop_live_server(server)  # its last lines written

    lines = [line for line in server.log().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    mine = [record for record in records if record.get("connection_id") == connection_id]
    assert any("[accepted]" in record["message"] for record in mine)  # uvicorn's own line, too
    assert all(record["endpoint"] == "/items/1/ws" for record in mine)
    refused = [r for r in records if "refused" in r["message"] and "/items/1/ws" in r["message"]]
    assert refused
    assert all("connection_id" in r for r in refused)
    text = server.log()
    for secret in (token, ticket, "c00kie-v4lue", SECRET):
        assert secret not in text
