"""Channels: named streams of events with positions, bounded history and recovery, optional
presence, shared by every process; what any live feature is built on.

- ``events``: what is published to a channel, and its position (an offset within an epoch);
- ``history``, ``ledger``: what a channel keeps, and how many channels one process keeps;
- ``broker``: the interface between processes (publish, presence, history) and its in-memory
  implementation for one process; ``redis_broker``: the same for many processes, through Redis;
- ``feed``: one channel in one process: delivery in offset order, gaps filled from history;
- ``declarations``: a feature's channels (name patterns, payload models, who may subscribe and
  publish, history, presence), and the registry of them all;
- ``subscribers``, ``presence``, ``held``, ``hub``: one process's subscribers of each channel,
  fed through their connections' outlets, with catch-up, presence and outages handled;
- ``publisher``: publishing from a route, a background job, or another process.

The chat (``app.features.chat``) and the notifications (``app.features.notifications``) are
features built on it, through its public names below.
"""
