"""The channels one process keeps: the least recently used that may be forgotten makes room."""

import pytest

from app.channels.ledger import ChannelLedger, ChannelsFull


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_full_ledger_forgets_the_least_recently_used_room_nobody_is_in() -> None:
    in_use = {"b"}
    forgotten: list[str] = []
    clock = Clock()
    ledger = ChannelLedger(
        3,
        in_use=lambda room: room in in_use,
        forgettable=lambda _room, _idle: True,
        forget=forgotten.append,
        clock=clock,
    )
    for room in ("a", "b", "c"):
        ledger.use(room)
        clock.now += 1
    ledger.use("a")  # used again: now the newest
    ledger.use("d")
    assert forgotten == ["c"]  # "b" is older but in use
    assert "a" in ledger
    assert "d" in ledger
    assert len(ledger) == 3


def test_a_ledger_with_no_room_to_forget_refuses_a_new_one() -> None:
    clock = Clock()
    ledger = ChannelLedger(
        2, in_use=lambda _room: False, forgettable=lambda _room, idle: idle > 10, clock=clock
    )
    ledger.use("a")
    ledger.use("b")
    with pytest.raises(ChannelsFull):
        ledger.use("c")
    ledger.use("a")  # a known room is always fine
    clock.now = 11
    ledger.use("c")  # "b" has been idle long enough
    assert "b" not in ledger
