"""A channel's history in memory: its bounds (count, bytes, age), dedup keys that live exactly as
long as their events, and what a subscriber resuming from a position is told."""

import time

from app.channels.events import EventDraft, Position
from app.channels.history import EVENT_OVERHEAD_BYTES, History, HistoryLimits, replay_from


def said(text: str, at: float | None = None) -> EventDraft:
    """An event whose data is ``text`` itself (the history counts the data's bytes)."""
    draft = EventDraft.now("published", "chat:general", text, "test", "1")
    return draft if at is None else draft.model_copy(update={"at": at})


def filled(limits: HistoryLimits, *texts: str) -> History:
    history = History("e1", limits)
    for text in texts:
        history.append(said(text), None)
        while history.over_bounds():
            history.drop_oldest()
    return history


def test_the_count_bound_keeps_the_newest() -> None:
    history = filled(HistoryLimits(max_events=3), *"abcde")
    assert [event.data for event in history.events] == ["c", "d", "e"]
    assert [event.offset for event in history.events] == [3, 4, 5]


def test_the_byte_bound_keeps_the_newest_and_always_one() -> None:
    size = EVENT_OVERHEAD_BYTES + 10_000
    history = filled(HistoryLimits(max_bytes=3 * size), *(str(n) * 10_000 for n in range(6)))
    assert len(history.events) == 3
    assert history.bytes == 3 * size
    huge = filled(HistoryLimits(max_bytes=64 * 1024), "x" * 100_000)
    assert len(huge.events) == 1  # one event over the bound is still kept


def test_non_ascii_text_counts_at_its_encoded_worst() -> None:
    history = filled(HistoryLimits(), "é" * 1000)
    assert history.bytes == EVENT_OVERHEAD_BYTES + 4000


def test_a_dedup_key_is_forgotten_with_its_event() -> None:
    history = History("e1", HistoryLimits(max_events=2))
    first, duplicate = history.append(said("once"), "k:m1")
    assert history.append(said("once"), "k:m1") == (first, True)
    assert not duplicate
    for text in ("b", "c"):
        history.append(said(text), None)
        while history.over_bounds():
            history.drop_oldest()
    assert "k:m1" not in history.dedup
    again, duplicate = history.append(said("once"), "k:m1")
    assert (again.offset, duplicate) == (4, False)  # no longer held: placed as new


def test_expired_events_are_dropped_and_remembered_as_aged_out() -> None:
    limits = HistoryLimits(max_age=60)
    history = History("e1", limits)
    old = time.time() * 1000 - 120_000
    history.append(said("old", at=old), None)
    history.append(said("older too", at=old), None)
    history.append(said("fresh"), None)
    history.drop_expired(time.time() * 1000)
    assert [event.data for event in history.events] == ["fresh"]
    assert history.aged_out == 2
    replay = history.replay(Position("e1", 1))
    assert (replay.recovered, replay.reason) == (False, "expired")


def test_replay_says_why_it_could_not_recover() -> None:
    limits = HistoryLimits(max_events=3, replay_on_join=2)
    history = filled(limits, *"abcde")
    now = Position("e1", 5)
    assert history.replay(None).reason == "first_join"
    assert [e.data for e in history.replay(None).events] == ["d", "e"]
    behind = history.replay(Position("e1", 1))
    assert (behind.recovered, behind.reason) == (False, "too_far_behind")
    caught_up = history.replay(Position("e1", 3))
    assert (caught_up.recovered, [e.data for e in caught_up.events]) == (True, ["d", "e"])
    assert history.replay(now).events == []
    # A channel whose whole history expired in a quiet spell: the subscriber was away too long.
    assert replay_from(Position("e1", 2), now, [], limits).reason == "expired"


def test_after_an_epoch_change_the_whole_new_epoch_is_replayed_when_held() -> None:
    limits = HistoryLimits(replay_on_join=2)
    history = History("e2", limits)
    for text in "abcd":
        history.append(said(text), None)
    replay = history.replay(Position("e1", 40))
    assert (replay.recovered, replay.reason) == (False, "epoch_changed")
    assert [event.data for event in replay.events] == ["a", "b", "c", "d"]  # not just 2
    trimmed = filled(HistoryLimits(max_events=2, replay_on_join=1), *"abc")
    trimmed.epoch = "e2"
    assert len(trimmed.replay(Position("e1", 9)).events) <= 2
