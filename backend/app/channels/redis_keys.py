"""Where a channel lives in Redis: its keys and its pub/sub channel share one hash tag
(``ch:{chat:general}:...``), so that they sit on one shard of a Cluster, as a script touching
several keys needs, and its events are published on the shard that owns them."""

TOPIC_SUFFIX = ":events"
# Sent on a channel's topic instead of an event: its presence changed (no event for it).
PRESENCE_NOTICE = b"!presence"


def keys_of(channel: str) -> tuple[str, str, str, str, str]:
    """meta, log, ids, presence, counts: one hash tag, so one slot of a Redis Cluster."""
    tag = f"ch:{{{channel}}}"
    return f"{tag}:meta", f"{tag}:log", f"{tag}:ids", f"{tag}:presence", f"{tag}:counts"


def topic_of(channel: str) -> str:
    """The pub/sub channel that carries a channel's events."""
    return f"ch:{{{channel}}}{TOPIC_SUFFIX}"


def channel_of(topic: str) -> str | None:
    if not topic.endswith(TOPIC_SUFFIX) or not topic.startswith("ch:{"):
        return None
    return topic[len("ch:{") : -len(TOPIC_SUFFIX) - 1]
