"""The development loop (``npm run dev`` runs ``python -m app --reload``) takes production's
road: the guarded protocol classes with the app's settings, before and after a reload."""

import os
from collections.abc import Callable

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.settings import REPOSITORY_ROOT
from testkit.waiting import wait_until
from tests.servers import PYTHON_M_APP, ProcessServers, stop_live_server

WATCHED_MODULE = REPOSITORY_ROOT / "backend" / "app" / "__init__.py"


def connection_cap_holds(ws_url: str) -> bool:
    """APP_MAX_CONNECTIONS=1 as the guarded classes enforce it: a second socket gets 503."""
    with connect(f"{ws_url}/ws") as first:
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{ws_url}/ws")
        first.send("still served")
        assert first.recv(timeout=5) == "Message text was: still served"
    return refused.value.response.status_code == 503


def test_the_reloading_dev_server_runs_the_guarded_protocols_before_and_after_a_reload(
    process_servers: ProcessServers,
) -> None:
    server = process_servers.start(
        (*PYTHON_M_APP, "--reload"), APP_MAX_CONNECTIONS="1", APP_SHUTDOWN_DRAIN_SECONDS="0"
    )
    modified = WATCHED_MODULE.stat()

    def with_log(what: str) -> Callable[[], str]:
        return lambda: f"{what}\n{server.log()}"

    try:
        assert connection_cap_holds(server.ws_url)
        os.utime(WATCHED_MODULE)  # as an editor's save: the reloader restarts the server
        wait_until(lambda: "Reloading" in server.log(), 10, with_log("a reload"), every=0.1)
        wait_until(
            lambda: server.log().count("Application startup complete") == 2,
            20,
            with_log("the reloaded server started"),
            every=0.1,
        )
        assert connection_cap_holds(server.ws_url)
    finally:
        stop_live_server(server)
        os.utime(WATCHED_MODULE, ns=(modified.st_atime_ns, modified.st_mtime_ns))
    assert "Traceback" not in server.log()
