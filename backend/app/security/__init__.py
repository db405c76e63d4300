"""Defences against hostile clients at the ASGI level (the transport level is in ``app.server``)."""
