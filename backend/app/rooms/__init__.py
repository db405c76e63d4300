"""Rooms: channels with history, shared by every process, that any live feature can build on.

- ``events``: what is published to a room, and its position (an offset within an epoch);
- ``broker``: the interface between processes (publish, presence, history) and its in-memory
  implementation for one process;
- ``redis_broker``: the same for many processes, through Redis;
- ``feed``: one room in one process: delivery in offset order, gaps filled from history, and
  joins that replay what a subscriber missed before it goes live.

The chat (``app.chat``) is one user of it.
"""
