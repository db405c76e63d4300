"""An app built in the test (``create_app(settings, features=[...])``), served by uvicorn in a
thread with the protocol classes of ``python -m app``: ``tests.servers.serve_in_thread`` builds
its app itself from settings alone, so a test that brings features of its own serves it here."""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from app.server.protocols import GuardedHttpProtocol, GuardedWebSocketProtocol
from testkit.processes import free_port
from tests.servers import InProcessServer, LogLines


@contextmanager
def serve_app_in_thread(app: FastAPI) -> Iterator[InProcessServer]:
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=GuardedHttpProtocol,
        ws=GuardedWebSocketProtocol,
        log_config=None,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    logs = LogLines()
    loggers = [logging.getLogger(name) for name in ("app", "uvicorn.error", "uvicorn.access")]
    for logger in loggers:
        logger.addHandler(logs)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start:\n{logs.text()}")
            time.sleep(0.02)
        yield InProcessServer(port, logs)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        for logger in loggers:
            logger.removeHandler(logs)
