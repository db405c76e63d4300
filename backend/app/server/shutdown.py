"""A graceful shutdown on SIGTERM: first not ready, then the sockets closed with 1012.

A load balancer or Kubernetes sends SIGTERM and, for a moment, still routes new clients here.
So on SIGTERM the process first answers ``GET /api/ready`` with 503 for
``APP_SHUTDOWN_DRAIN_SECONDS`` while it keeps serving, then hands the signal on to uvicorn,
which stops accepting, closes each WebSocket with 1012 (service restart: clients reconnect,
to another process, after their jittered delay) and waits at most
``APP_GRACEFUL_SHUTDOWN_TIMEOUT`` for the rest. Ctrl-C (SIGINT) skips the wait.

uvicorn installs its exit handler with ``signal.signal`` while it serves (so that it can put
back the previous one); the app's lifespan wraps that handler, which works the same under
``python -m app``, ``--workers`` and the uvicorn command line.
"""

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

logger = logging.getLogger("app.server")


class Readiness:
    """Whether this process wants new clients; ``GET /api/ready`` reports it."""

    def __init__(self) -> None:
        self.draining = False

    @property
    def ready(self) -> bool:
        return not self.draining


def drain_on_sigterm(readiness: Readiness, drain_seconds: float) -> Callable[[], None]:
    """Wraps the current SIGTERM handler (uvicorn's); returns a function that unwraps it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals reach only the main thread (TestClient runs apps elsewhere)
    loop = asyncio.get_running_loop()
    server_handler = signal.getsignal(signal.SIGTERM)
    if not callable(server_handler):
        return lambda: None

    def hand_on(sig: int, frame: FrameType | None) -> None:
        assert callable(server_handler)
        server_handler(sig, frame)

    def on_sigterm(sig: int, frame: FrameType | None) -> None:
        if readiness.draining:  # a second SIGTERM: no more waiting
            hand_on(sig, frame)
            return
        readiness.draining = True
        logger.info("SIGTERM: not ready; closing connections in %g s", drain_seconds)
        loop.call_soon_threadsafe(loop.call_later, drain_seconds, hand_on, sig, frame)

    signal.signal(signal.SIGTERM, on_sigterm)

    def restore() -> None:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, server_handler)

    return restore
