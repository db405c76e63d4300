"""The app under bare uvicorn, with uvicorn's own protocol classes, in a process of its own.

There is no ``app.transport`` extension there, so every frame the app sends goes through
ASGI: the path the app takes under any other server (and with permessage-deflate), against
the fast path of ``python -m app``. Tests run the guide's contract through both."""

from pathlib import Path

from tests.servers import BARE_UVICORN, LiveServer, start_live_server


def start_stock_uvicorn(log_path: Path, frontend_dir: Path) -> LiveServer:
    """``uvicorn app.main:create_app --factory``, as someone would run it without our
    protocol classes; the app reads its settings from the environment as ever."""
    return start_live_server(log_path, frontend_dir, BARE_UVICORN)
