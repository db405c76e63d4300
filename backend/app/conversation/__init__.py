"""The WebSocket conversation layer that every endpoint runs through.

- ``dialects``: which subprotocol a connection speaks, decided once at its handshake;
- ``messages``: the Pydantic models of ``realtime.json.v1``, the protocol's single source;
- ``frames``: each message read as text or bytes, a departure as a normal end;
- ``rate_limit``: the token bucket that slows a flooding client down;
- ``refusals``: closing with the right code and a reason the client can read;
- ``loop``: the loop itself, around a ``Handler`` that says what an endpoint answers.
"""
