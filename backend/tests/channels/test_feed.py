"""One channel in one process: events fed in offset order, a gap filled from the history first,
a new epoch filled from its first offset, and what the live stream repeats skipped."""

import asyncio

from app.channels.events import ChannelEvent, EventDraft
from app.channels.feed import ChannelFeed
from app.channels.memory_broker import InMemoryBroker

CHANNEL = "announcements"


class Recorder:
    def __init__(self) -> None:
        self.offsets: list[tuple[str, int]] = []

    def take(self, event: ChannelEvent) -> None:
        self.offsets.append((event.epoch, event.offset))


def draft(text: str) -> EventDraft:
    return EventDraft.now("published", CHANNEL, f'{{"text":"{text}"}}', "test")


async def test_a_gap_is_filled_from_the_history_before_what_comes_next() -> None:
    broker = InMemoryBroker()
    placed = [(await broker.append(draft(str(n))))[0] for n in range(5)]
    feed = ChannelFeed[Recorder](broker, CHANNEL)
    recorder = Recorder()
    feed.subscribers.add(recorder)
    feed.on_event(placed[0])
    feed.on_event(placed[3])  # 2 and 3 went past this process: fetched first
    feed.on_event(placed[4])  # held meanwhile, in order
    await asyncio.sleep(0.01)
    feed.on_event(placed[2])  # the live stream repeats one: skipped
    offsets = recorder.offsets
    assert [offset for _, offset in offsets] == [1, 2, 3, 4, 5]


async def test_a_new_epoch_is_fed_from_its_first_offset() -> None:
    old, new = InMemoryBroker(), InMemoryBroker()  # `new`: a Redis that came back empty
    first = (await old.append(draft("before")))[0]
    placed = [(await new.append(draft(str(n))))[0] for n in range(3)]
    feed = ChannelFeed[Recorder](new, CHANNEL)
    recorder = Recorder()
    feed.subscribers.add(recorder)
    feed.on_event(first)
    feed.on_event(placed[2])  # the first the process hears of the new epoch: its third
    await asyncio.sleep(0.01)
    offsets = recorder.offsets
    assert [offset for _, offset in offsets] == [1, 1, 2, 3]
    assert len({epoch for epoch, _ in offsets[1:]}) == 1
