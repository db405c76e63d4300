"""The channels one process keeps: the least recently used that may be forgotten makes room;
new ones are rationed per opener."""

import pytest

from app.channels.ledger import ChannelLedger, ChannelsFull, OpeningTooFast
from app.security.rate_limits import KeyedRateLimit


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


def test_new_channels_are_rationed_per_opener_and_known_ones_are_not() -> None:
    clock = Clock()
    ledger = ChannelLedger(
        1000,
        in_use=lambda _room: False,
        forgettable=lambda _room, _idle: False,
        opening=KeyedRateLimit(1.0, 3, clock=clock),
        clock=clock,
    )
    for room in ("a", "b", "c"):
        ledger.use(room, opener="198.51.100.1")
    with pytest.raises(OpeningTooFast) as refused:
        ledger.use("d", opener="198.51.100.1")
    assert refused.value.wait == pytest.approx(1.0)
    assert "d" not in ledger  # refused: it takes no place
    ledger.use("a", opener="198.51.100.1")  # one it opened already costs nothing
    ledger.use("d", opener="203.0.113.5")  # another address has its own ration
    ledger.use("e")  # and the app's own publishing (no opener) is not rationed
    clock.now += 1.0
    ledger.use("f", opener="198.51.100.1")  # refilled
