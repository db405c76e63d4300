"""The broker for many processes: a Redis stream per channel for its history, an atomic script
that places, keeps and publishes each event, sharded pub/sub for delivery, a sorted set for
presence; on one Redis, on a master watched by Sentinels, or on a Redis Cluster
(``app.redis_clients``).

Keys of one channel share a hash tag (``ch:{chat:general}:...``) with its pub/sub channel, so
they live on one shard of a Cluster, as a script touching several keys needs, and an event is
published (``SPUBLISH``) on the shard that owns its channel rather than to every node.

It survives Redis going away: appending fails fast (the channel says it is unavailable), and
its line to Redis (``RedisLink``, redis_link.py) reconnects with backoff, resubscribes, and then
tells the hubs (``on_connected``) so that they re-register presence and fill any gap from the
history. It follows a failover by itself: a Sentinel's ``+switch-master`` (or the first
failed command) sends it to the new master; a Cluster's client follows slot moves and promoted
replicas. A Redis that comes back empty has no epoch for a channel: the next read or append
starts a new one, which is how clients learn that the history is gone; a failover that lost
the last events (replication is asynchronous) is noticed by the hub, which renews the epoch
(``renew_epoch``) so that no offset is given twice.
"""

import logging
from typing import Any

from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeout

from app.channels.broker import Broker, BrokerHealth, LimitsFor, new_epoch
from app.channels.events import (
    ChannelEvent,
    ChannelUnavailable,
    EventDraft,
    OutcomeUnknown,
    Position,
    Replay,
)
from app.channels.history import HistoryLimits, replay_from
from app.channels.redis_keys import PRESENCE_NOTICE, channel_of, keys_of, topic_of
from app.channels.redis_link import RedisLink
from app.channels.redis_presence import RedisPresence
from app.channels.redis_scripts import APPEND, RENEW_EPOCH, SHRINK
from app.redis_clients import RedisTopology
from app.security.rate_limits import KeyedRateLimit

logger = logging.getLogger(__name__)

UNREACHABLE = "the channel's broker (Redis) is unreachable"


class RedisBroker(Broker):
    def __init__(
        self,
        topology: RedisTopology | str,
        *,
        limits: HistoryLimits | LimitsFor | None = None,
        max_channels: int = 1000,
        opening: KeyedRateLimit | None = None,
        total_bytes: int = 64 * 1024 * 1024,
        presence_ttl: float = 10.0,
        reconnect_base: float = 0.25,
        reconnect_cap: float = 5.0,
    ) -> None:
        fixed = limits or HistoryLimits()
        super().__init__(
            fixed if callable(fixed) else lambda _channel: fixed, max_channels, opening
        )
        self._presence_ttl = presence_ttl
        # This process's budget for the histories of the channels it writes to: a client that
        # fills many channels' histories makes the biggest give up their oldest events, so
        # that Redis holds at most this much for each process (channels that several write to
        # are counted by each).
        self.total_bytes = total_bytes
        self._bytes_of: dict[str, int] = {}
        self.held_bytes = 0
        self.topology = RedisTopology.single(topology) if isinstance(topology, str) else topology
        self._channels_here: set[str] = set()
        self._link = RedisLink(
            self.topology,
            topics=lambda: {topic_of(channel) for channel in self._channels_here},
            on_message=self._on_message,
            on_connected=self._announce_connected,
            presence_ttl=presence_ttl,
            reconnect_base=reconnect_base,
            reconnect_cap=reconnect_cap,
        )
        self._redis = self._link.client
        self._append = self._redis.register_script(APPEND)
        self._presence = RedisPresence(self._link, presence_ttl)
        self._renew_epoch = self._redis.register_script(RENEW_EPOCH)
        self._shrink = self._redis.register_script(SHRINK)

    @property
    def _connected(self) -> bool:
        return self._link.connected

    def _lost(self, exc: BaseException) -> None:
        self._link.lost(exc)

    async def start(self) -> None:
        await self._link.start()

    async def stop(self) -> None:
        await self._link.stop()

    async def connect_once(self) -> bool:
        return await self._link.connect_once()

    def presence_settles_in(self) -> float:
        return self._link.presence_settles_in()

    def health(self) -> BrokerHealth:
        return BrokerHealth(
            kind="redis",
            connected=self._link.connected,
            topology=self.topology.describe(),
            reconnects=self._link.reconnects,
            last_outage=self._link.last_outage,
        )

    async def subscribe(self, channel: str) -> None:
        self._channels_here.add(channel)
        await self._link.subscribe(topic_of(channel))

    async def unsubscribe(self, channel: str) -> None:
        self._channels_here.discard(channel)
        await self._link.unsubscribe(topic_of(channel))

    def _channel_in_use(self, channel: str) -> bool:
        return channel in self._channels_here

    def _forget_channel(self, channel: str) -> None:
        # Its keys expire in Redis by themselves; what is kept here is its bytes.
        self.held_bytes -= self._bytes_of.pop(channel, 0)

    def _channel_forgettable(self, channel: str, idle_for: float) -> bool:
        # Once its log has expired, a channel costs Redis only its small meta key, which
        # expires one history age later.
        return idle_for > self.limits_for(channel).max_age + 1

    # --- history ----------------------------------------------------------------------------

    async def append(
        self, draft: EventDraft, dedup: str | None = None
    ) -> tuple[ChannelEvent, bool]:
        if not self._connected:
            raise ChannelUnavailable(UNREACHABLE)
        self.admit(draft.channel)
        meta, log, ids, _, _ = keys_of(draft.channel)
        limits = self.limits_for(draft.channel)
        body = draft.model_dump_json()
        log_lifetime = int(limits.max_age * 1000) + 1000
        keys = [meta, log, ids, topic_of(draft.channel)]
        args: list[str | int] = [
            new_epoch(),
            body[:-1],  # the script appends the epoch and offset
            limits.max_events,
            limits.max_bytes,
            log_lifetime,
            2 * log_lifetime,  # the epoch outlives its log: "expired", not "lost"
            "",
            dedup or "",
        ]
        try:
            if self.topology.wait_replicas:
                kind, event, *held = await self._append_acknowledged(meta, keys, args)
            else:
                kind, event, *held = await self._append(keys=keys, args=args)
        except RedisTimeout as exc:
            self._lost(exc)
            raise OutcomeUnknown("the channel's broker (Redis) did not answer in time") from exc
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise ChannelUnavailable(UNREACHABLE) from exc
        if held:
            self._holds(draft.channel, int(held[0]))
            if self.held_bytes > self.total_bytes:
                await self._shrink_biggest()
        return ChannelEvent.model_validate_json(event), kind == b"held"

    def _holds(self, channel: str, size: int) -> None:
        self.held_bytes += size - self._bytes_of.get(channel, 0)
        self._bytes_of[channel] = size

    async def _shrink_biggest(self) -> None:
        """Over the budget for all channels: the biggest histories give up their oldest events
        (a client resuming from one of those is told it is too far behind)."""
        while self.held_bytes > self.total_bytes and self._bytes_of:
            channel, size = max(self._bytes_of.items(), key=lambda item: item[1])
            target = max(0, size - (self.held_bytes - self.total_bytes))
            meta, log, ids, _, _ = keys_of(channel)
            try:
                left = int(await self._shrink(keys=[meta, log, ids], args=[target]))
            except (RedisError, OSError) as exc:
                self._lost(exc)
                return
            self._holds(channel, left)
            if left > target:
                return  # its newest event alone is over: the others are smaller still

    async def _append_acknowledged(
        self, meta: str, keys: list[str], args: list[str | int]
    ) -> list[bytes]:
        """The append and a WAIT for the replicas, on one connection (WAIT counts that
        connection's writes): acknowledged only once APP_REDIS_WAIT_REPLICAS have it."""
        direct = self._link.connection_for(meta)
        async with direct.pipeline(transaction=False) as pipe:
            await self._append(keys=keys, args=args, client=pipe)
            pipe.wait(self.topology.wait_replicas, self.topology.wait_timeout_ms)
            placed, replicas = await pipe.execute()
        if placed[0] == b"new" and replicas < self.topology.wait_replicas:
            raise OutcomeUnknown(
                f"placed, but on {replicas} of {self.topology.wait_replicas} replicas in time"
            )
        return list(placed)

    async def renew_epoch(self, channel: str, seen: Position) -> bool:
        """The channel's history went back behind what this process saw (a failover lost its
        newest events): a new epoch, going on from the offset it has, so that no position is
        given twice. False when another process did it first, or nothing went back."""
        try:
            renewed = await self._renew_epoch(
                keys=[keys_of(channel)[0]], args=[seen.epoch, seen.offset, new_epoch()]
            )
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise ChannelUnavailable(UNREACHABLE) from exc
        if renewed:
            logger.warning(
                "channel %r: its history went back from %s (a failover lost events): a new epoch",
                channel,
                seen,
            )
        return bool(renewed)

    async def replay(self, channel: str, since: Position | None) -> Replay:
        self.admit(channel)
        meta, log, _, _, _ = keys_of(channel)
        limits = self.limits_for(channel)
        wanted = limits.max_events if since is not None else limits.replay_on_join
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hsetnx(meta, "epoch", new_epoch())  # a new channel gets its epoch
                pipe.hmget(meta, "epoch", "offset", "aged_out", "epoch_start")
                pipe.xrevrange(log, "+", "-", count=max(1, wanted))
                _, (epoch, offset, aged_out, epoch_start), newest_first = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise ChannelUnavailable(UNREACHABLE) from exc
        held = [_event_of(fields) for _, fields in reversed(newest_first)]
        now = Position(epoch.decode(), int(offset or 0))
        return replay_from(
            since,
            now,
            held,
            limits,
            aged_out=int(aged_out or 0),
            epoch_start=int(epoch_start or 1),
        )

    async def read_range(
        self, channel: str, epoch: str, after: int, upto: int
    ) -> list[ChannelEvent]:
        if upto <= after:
            return []
        log = keys_of(channel)[1]
        try:
            entries = await self._redis.xrange(log, f"{after + 1}-1", f"{upto}-1")
        except (RedisError, OSError) as exc:
            self._lost(exc)
            raise ChannelUnavailable(UNREACHABLE) from exc
        return [event for _, fields in entries or [] if (event := _event_of(fields)).epoch == epoch]

    # --- presence (RedisPresence, redis_presence.py) ----------------------------------------

    async def presence_add(self, channel: str, key: str) -> bool | None:
        return await self._presence.add(channel, key)

    async def presence_refresh(self, channel: str, keys: list[str]) -> None:
        await self._presence.refresh(channel, keys)

    async def presence_remove(self, channel: str, key: str) -> bool | None:
        return await self._presence.remove(channel, key)

    async def online(self, channel: str) -> set[str] | None:
        return await self._presence.online(channel)

    async def notify_presence(self, channel: str) -> None:
        await self._presence.notify(channel)

    async def reap(self, channel: str) -> list[str]:
        return await self._presence.reap(channel)

    # --- delivery ---------------------------------------------------------------------------

    def _on_message(self, topic: str, data: bytes) -> None:
        channel = channel_of(topic)
        if channel is None:
            return
        if data == PRESENCE_NOTICE:
            self._dispatch_notice(channel)
            return
        try:
            event = ChannelEvent.model_validate_json(data)
        except ValueError:
            logger.warning("channel broker: ignored a malformed event on %s", topic)
            return
        self._dispatch(event)


def _event_of(fields: Any) -> ChannelEvent:
    return ChannelEvent.model_validate_json(fields[b"e"])
