"""The AsyncAPI 3.0 document of the WebSocket endpoints, generated from the app itself.

Every WebSocket route the app has registered is a channel of the document: its address, path
parameters, query parameters and credential headers are read from the route, its description
from the endpoint's docstring, and its messages are the core ``realtime.json.v1`` ones plus
what the route declares (``app.conversation.description.speaks``). The channels the features
declared (``app.channels.declarations``) are listed on the multiplexed endpoint, each with its
payload's schema and who may follow and publish. So registering a route or declaring a channel
is all it takes to be described.

Served at ``GET /api/asyncapi.json``; ``python -m app asyncapi`` writes ``docs/asyncapi.json``
and, with ``--markdown``, the readable ``docs/asyncapi.md``. A test keeps both in step with the
app, and the AsyncAPI initiative's own parser validates the document in the test command.
"""

from app.asyncapi.document import asyncapi_document
from app.asyncapi.markdown import asyncapi_markdown

__all__ = ["asyncapi_document", "asyncapi_markdown"]
