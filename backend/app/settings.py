"""Configuration, read from the environment (prefix ``APP_``) or a ``.env`` file.

Read in two places only: ``create_app()`` (which hands each part of the app what it needs) and
``python -m app`` (which hands uvicorn its options). Nothing else reads the environment.
"""

import resource
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from starlette.requests import HTTPConnection

from app.redis_clients import RedisTopology, parse_addresses

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]
LogFormat = Literal["text", "json"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    # Where `npm run build` writes the SPA; the backend serves it when it exists.
    frontend_dir: Path = REPOSITORY_ROOT / "frontend" / "dist"
    log_level: LogLevel = "info"
    # json: one JSON object per line (level, logger, message, connection id, endpoint).
    log_format: LogFormat = "text"
    # Prometheus metrics at GET /metrics and the live server page; off only to measure them.
    metrics: bool = True
    # Where several workers' metrics meet (prometheus-client's multiprocess mode); with
    # APP_WORKERS > 1, `python -m app` makes one when unset.
    metrics_dir: Path | None = None
    # The operator's credential: as a bearer token, it opens /metrics and the live server page.
    metrics_token: Annotated[SecretStr, Field(min_length=16)] | None = None
    # Development only: a client on this machine that came through no proxy is an operator
    # without a token. Off by default: behind a proxy on the same host everyone is loopback.
    operator_on_loopback: bool = False
    # Development only: POST /api/tokens mints a user's token for any subject, without a login.
    dev_token_minting: bool = False
    # Worker processes for `python -m app`; more than one needs APP_REDIS_URL for chat to span them.
    workers: int = Field(default=1, ge=1)
    # Channels (and tickets) across processes, through one Redis they share. One of: a
    # redis:// or rediss:// URL (one server); Sentinels "host:port,host:port" and the name of
    # the master they watch; a Redis Cluster's seed nodes "host:port,host:port". Without any,
    # channels stay in-process.
    redis_url: str | None = None
    redis_sentinels: Annotated[list[str], NoDecode] = []
    redis_sentinel_master: str = "mymaster"
    redis_cluster: Annotated[list[str], NoDecode] = []
    # The password of the data nodes, with Sentinel or Cluster (a URL carries its own).
    redis_password: SecretStr | None = None
    # Acknowledge an event only once this many replicas have it (WAIT), within the timeout (ms):
    # what a failover can lose is then only what was never acknowledged.
    redis_wait_replicas: int = Field(default=0, ge=0)
    redis_wait_timeout_ms: int = Field(default=500, ge=1)
    # Messages waiting for one chat client before it counts as too slow and is closed (1013),
    # and their bytes; and the bytes waiting for all clients of the process together.
    chat_outbox_limit: int = Field(default=256, ge=1)
    chat_outbox_bytes: int = Field(default=1024 * 1024, ge=64 * 1024)
    outbox_total_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024)
    # What guide clients say while the broker (Redis) is away, kept by the process until it
    # returns: at most this many bytes; a sender beyond it is closed with 1013.
    chat_held_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024)
    # How long a process's presence entries outlive it in Redis if it dies without leaving;
    # its members are announced as left within this and a third of it more.
    chat_presence_ttl: float = Field(default=10.0, gt=0)
    # A room's history (for recovery after a reconnect): at most this many events, this many
    # bytes, this old; and the histories of the rooms one process writes to, together, at most
    # this many bytes (in memory, or in Redis: its share of Redis).
    room_history_events: int = Field(default=1000, ge=1)
    room_history_bytes: int = Field(default=2 * 1024 * 1024, ge=64 * 1024)
    room_history_seconds: float = Field(default=600.0, gt=0)
    history_total_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    # Channels (a chat's rooms among them) one process keeps (followed here, or with a history
    # not yet expired); a join that would open one more is refused until one is forgotten.
    max_rooms: int = Field(default=1000, ge=1)
    # New channels one client address may open per second (bursts of 100 times as many):
    # places held for a history's age must not all be taken by one client.
    new_channels_per_second: float = Field(default=1.0, gt=0)
    # Channels one connection of the multiplexed endpoint (WS /ws/realtime) may follow at once.
    channels_per_connection: int = Field(default=32, ge=1)
    # How many of the newest events a member gets on joining (without a position to resume).
    room_history_on_join: int = Field(default=50, ge=0)

    # --- Security and limits (README: Security). Every limit here answers a hostile client.
    # Origins allowed to open WebSockets besides the page's own, e.g. "https://app.example.com".
    # Comma-separated in the environment.
    allowed_origins: Annotated[list[str], NoDecode] = []
    # Host names this server answers to (against DNS rebinding), e.g. "app.example.com", or
    # "*" for any. Empty: localhost and the loopback addresses, and APP_HOST if it names one.
    allowed_hosts: Annotated[list[str], NoDecode] = []
    # When set, `token` and `session` must be JWTs signed with it (HS256; POST /api/tokens).
    # At least 32 characters: RFC 7518 asks HS256 keys to be as long as the hash.
    token_secret: Annotated[SecretStr, Field(min_length=32)] | None = None
    # Lifetime of a signed token, in seconds.
    token_ttl: int = Field(default=300, ge=1)
    # Lifetime of a single-use WebSocket ticket (POST /api/ws-tickets), in seconds.
    ticket_ttl: float = Field(default=30.0, gt=0)
    # Tickets per second for one client address, and for one credential (bursts of 4 times
    # as many); beyond it, 429. A page asks for one per connection attempt.
    tickets_per_second: float = Field(default=5.0, gt=0)
    # Tickets one process keeps outstanding at most; beyond it, 503 until some are used.
    max_tickets: int = Field(default=10_000, ge=1)
    # Longest `token` or `session` value; a longer one is refused like a missing one (1008).
    max_credential_length: int = Field(default=256, ge=1)
    # Largest WebSocket message, in bytes; a bigger one is refused with 1009 before it is read.
    ws_max_message_size: int = Field(default=64 * 1024, ge=125)
    # The longest text of a realtime.json.v1 `text` message, in characters.
    ws_max_text_length: int = Field(default=16 * 1024, ge=1)
    # Per-connection token bucket: messages per second, and how many may come at once.
    ws_messages_per_second: float = Field(default=100.0, gt=0)
    ws_message_burst: int = Field(default=200, ge=1)
    # Open WebSockets per process; beyond it the handshake gets HTTP 503. None: from the
    # file-descriptor limit (see `connection_limit()`).
    max_connections: int | None = Field(default=None, ge=1)
    # permessage-deflate costs CPU and memory per connection and leaks secrets by size (CRIME).
    ws_permessage_deflate: bool = False
    # Protocol pings: a peer that does not answer one within the timeout is closed (1011).
    ws_ping_interval: float = Field(default=20.0, gt=0)
    ws_ping_timeout: float = Field(default=20.0, gt=0)
    # A connection must send a complete request head (request line and headers) in this time.
    request_head_timeout: float = Field(default=5.0, gt=0)
    # Largest request head, in bytes: beyond it, 414 or 431 and the connection is closed.
    max_request_head_size: int = Field(default=16 * 1024, ge=1024)
    # On SIGTERM: seconds of not-ready (GET /api/ready answers 503) before sockets are closed.
    shutdown_drain_seconds: float = Field(default=2.0, ge=0)
    # Then at most this long for open requests and sockets to finish.
    graceful_shutdown_timeout: float = Field(default=10.0, gt=0)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("redis_sentinels", "redis_cluster", mode="before")
    @classmethod
    def split_addresses(cls, value: object) -> object:
        if isinstance(value, str):
            return [address.strip() for address in value.split(",") if address.strip()]
        return value

    @model_validator(mode="after")
    def one_redis_at_most(self) -> "Settings":
        given = [bool(self.redis_url), bool(self.redis_sentinels), bool(self.redis_cluster)]
        if sum(given) > 1:
            raise ValueError(
                "set one of APP_REDIS_URL, APP_REDIS_SENTINELS and APP_REDIS_CLUSTER, not several"
            )
        for address in (*self.redis_sentinels, *self.redis_cluster):
            parse_addresses(address)  # a clear error at start, not at the first connection
        return self

    def redis_topology(self) -> RedisTopology | None:
        """Which Redis the processes share; None: none (channels stay in this process)."""
        password = self.redis_password.get_secret_value() if self.redis_password else None
        wait = {
            "wait_replicas": self.redis_wait_replicas,
            "wait_timeout_ms": self.redis_wait_timeout_ms,
        }
        if self.redis_sentinels:
            sentinels = parse_addresses(",".join(self.redis_sentinels))
            return RedisTopology(
                "sentinel",
                sentinels=sentinels,
                master=self.redis_sentinel_master,
                password=password,
                **wait,  # type: ignore[arg-type]
            )
        if self.redis_cluster:
            seeds = parse_addresses(",".join(self.redis_cluster))
            return RedisTopology("cluster", seeds=seeds, password=password, **wait)  # type: ignore[arg-type]
        if self.redis_url:
            return RedisTopology("single", url=self.redis_url, **wait)  # type: ignore[arg-type]
        return None

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip().lower() for host in value.split(",") if host.strip()]
        return value

    def host_allowlist(self) -> list[str]:
        if self.allowed_hosts:
            return self.allowed_hosts
        names = ["localhost", "127.0.0.1", "::1"]
        if self.host not in ("0.0.0.0", "::", ""):  # noqa: S104 - a comparison, not a bind
            names.append(self.host.strip("[]").lower())
        return names

    def connection_limit(self) -> int:
        """``max_connections``, or what the file-descriptor limit leaves room for."""
        if self.max_connections is not None:
            return self.max_connections
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return 10_000
        # Keep descriptors for Redis, static files and the HTTP requests beside the sockets.
        return max(1, min(10_000, soft - 100))


async def settings_of(connection: HTTPConnection) -> Settings:
    """The settings the app was built with (``create_app`` keeps them on ``app.state``)."""
    settings: Settings = connection.app.state.settings
    return settings
