"""Presence in Redis: a sorted set per channel of its subscribers' keys, scored by when each
lapses unless renewed, and a count per member, so that a member connected twice is one. Two
scripts add and remove atomically, and say whether a member's first connection came or its last
went; every process reaps what lapsed (a process that died), and one of them learns each
departure."""

import time

from redis.exceptions import RedisError

from app.channels.broker import member_of
from app.channels.redis_keys import PRESENCE_NOTICE, keys_of, topic_of
from app.channels.redis_link import RedisLink, text
from app.channels.redis_scripts import PRESENCE_ADD, PRESENCE_REMOVE


class RedisPresence:
    def __init__(self, link: RedisLink, ttl: float) -> None:
        self._link = link
        self.ttl = ttl
        self._add_script = link.client.register_script(PRESENCE_ADD)
        self._remove_script = link.client.register_script(PRESENCE_REMOVE)

    async def add(self, channel: str, key: str) -> bool | None:
        first = await self._add_presence(channel, [key])
        return None if first is None else bool(first)

    async def refresh(self, channel: str, keys: list[str]) -> None:
        await self._add_presence(channel, keys)

    async def _add_presence(self, channel: str, keys: list[str]) -> list[str] | None:
        if not self._link.connected or not keys:
            return None
        _, _, _, presence, counts = keys_of(channel)
        deadline = time.time() + self.ttl
        lifetime = int(self.ttl * 1000) + 60_000
        pairs = [part for key in keys for part in (key, member_of(key))]
        try:
            first = await self._add_script(
                keys=[presence, counts], args=[deadline, lifetime, *pairs]
            )
        except (RedisError, OSError) as exc:
            self._link.lost(exc)
            return None
        return [text(member) for member in first]

    async def remove(self, channel: str, key: str) -> bool | None:
        last = await self._remove_presence(channel, [key])
        return None if last is None else bool(last)

    async def _remove_presence(self, channel: str, keys: list[str]) -> list[str] | None:
        if not self._link.connected:
            return None  # the entries expire, and are reaped, by themselves
        if not keys:
            return []
        _, _, _, presence, counts = keys_of(channel)
        pairs = [part for key in keys for part in (key, member_of(key))]
        try:
            last = await self._remove_script(keys=[presence, counts], args=pairs)
        except (RedisError, OSError) as exc:
            self._link.lost(exc)
            return None
        return [text(member) for member in last]

    async def online(self, channel: str) -> set[str] | None:
        if not self._link.connected:
            return None
        try:
            keys = await self._link.client.zrangebyscore(keys_of(channel)[3], time.time(), "+inf")
        except (RedisError, OSError) as exc:
            self._link.lost(exc)
            return None
        return {member_of(text(key)) for key in keys}

    async def notify(self, channel: str) -> None:
        if not self._link.connected:
            return
        try:
            await self._link.client.spublish(topic_of(channel), PRESENCE_NOTICE)
        except (RedisError, OSError) as exc:
            self._link.lost(exc)

    async def reap(self, channel: str) -> list[str]:
        if not self._link.connected:
            return []
        presence = keys_of(channel)[3]
        try:
            expired = await self._link.client.zrangebyscore(presence, "-inf", time.time())
        except (RedisError, OSError) as exc:
            self._link.lost(exc)
            return []
        # The script's ZREM is atomic: of all the processes reaping at once, one removes each
        # entry, and one learns that a member has no connection left.
        return await self._remove_presence(channel, [text(key) for key in expired]) or []
