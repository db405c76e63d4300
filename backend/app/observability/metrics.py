"""What the server counts, for ``GET /metrics`` (Prometheus) and the live server page.

The hot path (every message) only adds to plain integers of an ``EndpointStats``; once a second
``Metrics.flush()`` hands the increments to prometheus-client. That keeps metrics off the
per-message cost (prometheus-client takes a lock per increment, and with several workers
writes a memory-mapped file) at the price of a scrape being up to a second behind.

Labels are bounded: endpoints are route templates (``/items/{item_id}/ws``), never paths;
no room names or client ids. With several workers (``APP_WORKERS``), ``python -m app`` sets
``APP_METRICS_DIR`` before any worker starts, and ``/metrics`` adds up every
worker's numbers (prometheus-client's multiprocess mode).
"""

import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from app.vocabulary.close_codes import close_code_label
from app.vocabulary.refusals import RefusalReason

ClosedBy = Literal["client", "server"]


@dataclass(eq=False)
class EndpointStats:
    """Counted per message, with no more than an integer addition each."""

    endpoint: str
    received: int = 0
    received_bytes: int = 0
    sent: int = 0
    sent_bytes: int = 0
    throttled: int = 0
    flushed: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    def count_received(self, frame: str | bytes) -> None:
        self.received += 1
        self.received_bytes += size_of(frame)

    def deltas(self) -> tuple[int, int, int, int, int]:
        now = (self.received, self.received_bytes, self.sent, self.sent_bytes, self.throttled)
        before, self.flushed = self.flushed, now
        return (
            now[0] - before[0],
            now[1] - before[1],
            now[2] - before[2],
            now[3] - before[3],
            now[4] - before[4],
        )


def size_of(frame: str | bytes) -> int:
    """Bytes on the wire of a message's payload (text is UTF-8)."""
    if isinstance(frame, bytes):
        return len(frame)
    return len(frame) if frame.isascii() else len(frame.encode())


@dataclass(frozen=True)
class Happening:
    """A recent disconnect or refusal, for the live server page."""

    at: float
    endpoint: str
    what: str  # "1006 by client", "origin", …


@dataclass
class Recent:
    disconnects: deque[Happening] = field(default_factory=lambda: deque(maxlen=20))
    refusals: deque[Happening] = field(default_factory=lambda: deque(maxlen=20))


class Metrics:
    def __init__(self, *, enabled: bool = True, shared_dir: Path | None = None) -> None:
        self.enabled = enabled
        # With several workers: the folder where they all write (multiprocess mode).
        self.shared_dir = shared_dir
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        # By route template: the app's WebSocket routes, a closed set (``stats_for``).
        self.stats: dict[str, EndpointStats] = {}
        self.recent = Recent()
        self.open_now: dict[tuple[str, str], int] = {}
        self.rates: dict[str, tuple[float, float]] = {}  # endpoint: (received/s, sent/s)
        self._last_flush = time.monotonic()
        self.connections = Gauge(
            "realtime_connections_open",
            "WebSockets open now, by endpoint and negotiated subprotocol.",
            ["endpoint", "subprotocol"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.received = Counter(
            "realtime_messages_received",
            "WebSocket messages received, by endpoint.",
            ["endpoint"],
            registry=registry,
        )
        self.received_bytes = Counter(
            "realtime_received_bytes",
            "Payload bytes of the WebSocket messages received, by endpoint.",
            ["endpoint"],
            registry=registry,
        )
        self.sent = Counter(
            "realtime_messages_sent",
            "WebSocket messages sent, by endpoint.",
            ["endpoint"],
            registry=registry,
        )
        self.sent_bytes = Counter(
            "realtime_sent_bytes",
            "Payload bytes of the WebSocket messages sent, by endpoint.",
            ["endpoint"],
            registry=registry,
        )
        self.throttled = Counter(
            "realtime_messages_throttled",
            "Messages that waited for a client's rate limit, by endpoint.",
            ["endpoint"],
            registry=registry,
        )
        self.disconnects = Counter(
            "realtime_disconnects",
            "WebSockets closed, by endpoint, close code and which side closed.",
            ["endpoint", "code", "by"],
            registry=registry,
        )
        self.refusals = Counter(
            "realtime_handshake_refusals",
            "WebSocket handshakes refused, by reason.",
            ["reason"],
            registry=registry,
        )
        self.outbox_drops = Counter(
            "realtime_chat_outbox_drops",
            "Chat clients closed (1013) because their outbox was full.",
            registry=registry,
        )
        self.broadcast = Histogram(
            "realtime_broadcast_seconds",
            "From a room event's placing until this process has queued it for all its members.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=registry,
        )
        self.broker_connected = Gauge(
            "realtime_broker_connected",
            "1 while the room broker (Redis) is reachable; with several workers, the lowest.",
            registry=registry,
            multiprocess_mode="livemin",
        )
        self.broker_reconnects = Counter(
            "realtime_broker_reconnects",
            "Times the room broker connected again after losing Redis.",
            registry=registry,
        )
        self.channel_refusals = Counter(
            "realtime_channel_refusals",
            "Requests on the multiplexed endpoint refused, by reason (the error code).",
            ["reason"],
            registry=registry,
        )
        self.recoveries = Counter(
            "realtime_room_recoveries",
            "Members catching up on a room: recovered, or why not.",
            ["outcome"],
            registry=registry,
        )

    def stats_for(self, endpoint: str) -> EndpointStats:
        """The counts of a WebSocket route, by its template (``/items/{item_id}/ws``): made
        when the app registers the route, or when it is first used."""
        stats = self.stats.get(endpoint)
        if stats is None:
            stats = self.stats[endpoint] = EndpointStats(endpoint)
        return stats

    # --- events, counted at once (none is per message) --------------------------------------

    def opened(self, endpoint: str, subprotocol: str | None) -> None:
        if self.enabled:
            key = (endpoint, subprotocol or "none")
            self.open_now[key] = self.open_now.get(key, 0) + 1
            self.connections.labels(*key).inc()

    def closed(self, endpoint: str, subprotocol: str | None, code: int, by: ClosedBy) -> None:
        if not self.enabled:
            return
        key = (endpoint, subprotocol or "none")
        self.open_now[key] = self.open_now.get(key, 1) - 1
        self.connections.labels(*key).dec()
        label = close_code_label(code)
        self.disconnects.labels(endpoint, label, by).inc()
        self.recent.disconnects.append(Happening(time.time(), endpoint, f"{label} by {by}"))

    def refused(self, reason: RefusalReason, endpoint: str = "") -> None:
        if self.enabled:
            self.refusals.labels(reason).inc()
            self.recent.refusals.append(Happening(time.time(), endpoint, reason))

    def channel_refused(self, reason: str) -> None:
        """A subscribe or publish refused (its error code: a closed set, ErrorCode)."""
        if self.enabled:
            self.channel_refusals.labels(reason).inc()

    def dropped_slow_client(self) -> None:
        if self.enabled:
            self.outbox_drops.inc()

    def delivered(self, placed_at_ms: float) -> None:
        if self.enabled:
            self.broadcast.observe(max(0.0, time.time() - placed_at_ms / 1000))

    def recovery(self, outcome: str) -> None:
        if self.enabled:
            self.recoveries.labels(outcome).inc()

    def broker_reconnected(self) -> None:
        if self.enabled:
            self.broker_reconnects.inc()

    # --- once a second ----------------------------------------------------------------------

    def flush(self, broker_connected: Callable[[], bool]) -> None:
        """Hands what the hot path counted to prometheus-client, and works out the rates."""
        if not self.enabled:
            return
        now = time.monotonic()
        elapsed = max(now - self._last_flush, 1e-6)
        self._last_flush = now
        for endpoint, stats in self.stats.items():
            received, received_bytes, sent, sent_bytes, throttled = stats.deltas()
            self.rates[endpoint] = (received / elapsed, sent / elapsed)
            for counter, delta in (
                (self.received, received),
                (self.received_bytes, received_bytes),
                (self.sent, sent),
                (self.sent_bytes, sent_bytes),
                (self.throttled, throttled),
            ):
                if delta:
                    counter.labels(endpoint).inc(delta)
        self.broker_connected.set(1 if broker_connected() else 0)

    def exposition(self) -> bytes:
        """The Prometheus text format: this process's numbers, or every worker's added up."""
        if self.shared_dir is not None:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=str(self.shared_dir))  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)

    def close(self) -> None:
        """This worker is done: its live gauges stop counting."""
        if self.shared_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), path=str(self.shared_dir))  # type: ignore[no-untyped-call]
