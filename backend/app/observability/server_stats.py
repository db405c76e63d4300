"""What the live server page (``WS /api/live``) is told, once a second: this process's numbers."""

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointNow(_Message):
    endpoint: str
    open: int
    received_per_second: float
    sent_per_second: float


class RecentHappening(_Message):
    # Seconds since the epoch.
    at: float
    endpoint: str
    what: str


class BrokerNow(_Message):
    kind: Literal["memory", "redis"]
    connected: bool


class ServerStats(_Message):
    type: Literal["server_stats"] = "server_stats"
    # Which process this is (host/pid): with several, each page shows the one it reached.
    process: str
    endpoints: list[EndpointNow]
    broker: BrokerNow
    disconnects: list[RecentHappening]
    refusals: list[RecentHappening]
