"""A tripwire on the seam to uvicorn: ``app.server.protocols`` subclasses uvicorn's protocol
classes and builds on how some of their methods behave (``UVICORN_SEAM`` says which, and why).
uvicorn changes them between releases, and a lost upstream fix or a changed assumption would
not show in any other test until a client met it. So the source of each of those methods is
compared with the one that was reviewed, and the version with the reviewed minor (the one
``pyproject.toml`` pins)."""

import hashlib
import inspect

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from app.server.protocols import UVICORN_SEAM

REVIEWED_VERSION = "0.54.0"

# The first 16 hex digits of the SHA-256 of inspect.getsource() of each method, as reviewed.
REVIEWED_SOURCES = {
    "HttpToolsProtocol.__init__": "4f08999410347141",
    "HttpToolsProtocol.connection_made": "6efb565ff3d36b91",
    "HttpToolsProtocol.connection_lost": "c91a4c9bf2e29c55",
    "HttpToolsProtocol.data_received": "010a7ae59a5d3b1a",
    "HttpToolsProtocol.on_message_begin": "96d377fdc7c2baef",
    "HttpToolsProtocol.on_url": "37be44e962b04ca8",
    "HttpToolsProtocol.on_header": "65d62c044f61fdbd",
    "HttpToolsProtocol.on_headers_complete": "1ea8589acfad92d8",
    "HttpToolsProtocol.on_body": "dba9c32aeba35b6a",
    "HttpToolsProtocol.on_message_complete": "1fbad42dc31fc01f",
    "HttpToolsProtocol.handle_websocket_upgrade": "179c4f769386ab89",
    "WebSocketsSansIOProtocol.__init__": "631dcd744eab875f",
    "WebSocketsSansIOProtocol.data_received": "c89d394077d8841d",
    "WebSocketsSansIOProtocol.handle_connect": "fc648c2161ff8e13",
    "WebSocketsSansIOProtocol.send_receive_event_to_app": "a2b10de91477dc1d",
    "WebSocketsSansIOProtocol.receive": "1dc0e715390021a1",
    "WebSocketsSansIOProtocol.send": "d4919ed760ce9f7b",
    "WebSocketsSansIOProtocol.pause_writing": "4830f7e0d81f877d",
    "WebSocketsSansIOProtocol.resume_writing": "ef79384e5fff077c",
    "WebSocketsSansIOProtocol.shutdown": "e8ace796ada616b7",
    "WebSocketsSansIOProtocol.connection_lost": "dd116afc4d8034e1",
    "WebSocketsSansIOProtocol.handle_parser_exception": "ff5cf13c764fb332",
}

CLASSES: dict[str, type] = {
    cls.__name__: cls for cls in (HttpToolsProtocol, WebSocketsSansIOProtocol)
}

RE_REVIEW = """\
To re-review:
1. Read what changed upstream in the methods of UVICORN_SEAM (the digest test names those whose
   source changed): in a clone of https://github.com/encode/uvicorn,
   `git diff {reviewed} {installed} -- uvicorn/protocols/`, or print one method with
   `python -c "import inspect, uvicorn.protocols.http.httptools_impl as m;
   print(inspect.getsource(m.HttpToolsProtocol.data_received))"`.
2. Check that what UVICORN_SEAM (backend/app/server/protocols.py) says of each still holds, and
   that the override in GuardedHttpProtocol or GuardedWebSocketProtocol keeps its behaviour
   and does not shadow an upstream fix; then run
   `pytest backend/tests/server backend/tests/routes/test_contract_live.py backend/tests/channels`.
3. Only then record the review: the uvicorn pin in pyproject.toml (and requirements.lock) if
   the minor moved, and in this file REVIEWED_VERSION = "{installed}" and
REVIEWED_SOURCES = {{
{current}}}
"""


def source_digest(name: str) -> str:
    class_name, method = name.split(".")
    source = inspect.getsource(getattr(CLASSES[class_name], method))
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def current_sources() -> dict[str, str]:
    return {name: source_digest(name) for name in UVICORN_SEAM}


def as_python(sources: dict[str, str]) -> str:
    """To paste into REVIEWED_SOURCES once reviewed."""
    return "".join(f'    "{name}": "{digest}",\n' for name, digest in sources.items())


def test_every_method_of_the_seam_was_reviewed() -> None:
    assert set(REVIEWED_SOURCES) == set(UVICORN_SEAM), (
        "UVICORN_SEAM and REVIEWED_SOURCES name different methods: review each added one and "
        f"record it here:\nREVIEWED_SOURCES = {{\n{as_python(current_sources())}}}"
    )


def test_uvicorn_is_the_reviewed_minor_version() -> None:
    reviewed_minor = REVIEWED_VERSION.rsplit(".", 1)[0]
    assert uvicorn.__version__.rsplit(".", 1)[0] == reviewed_minor, (
        f"uvicorn {uvicorn.__version__} is installed; the seam was reviewed with "
        f"{REVIEWED_VERSION}, and pyproject.toml pins {reviewed_minor}.\n"
        + RE_REVIEW.format(
            reviewed=REVIEWED_VERSION,
            installed=uvicorn.__version__,
            current=as_python(current_sources()),
        )
    )


def test_the_uvicorn_methods_the_seam_relies_on_are_the_reviewed_ones() -> None:
    current = current_sources()
    changed = [name for name in UVICORN_SEAM if current[name] != REVIEWED_SOURCES.get(name)]
    assert not changed, (
        f"uvicorn {uvicorn.__version__} changed what app/server/protocols.py builds on "
        f"(reviewed with {REVIEWED_VERSION}):\n"
        + "".join(f"- {name}: {UVICORN_SEAM[name]}\n" for name in changed)
        + RE_REVIEW.format(
            reviewed=REVIEWED_VERSION, installed=uvicorn.__version__, current=as_python(current)
        )
    )
