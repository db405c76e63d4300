"""The per-connection token bucket, on a clock the test controls."""

from app.conversation.rate_limit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_each_message_waits_its_turn() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0, 0, 0]
    assert bucket.take() == 0.1  # one token short: a tenth of a second at 10/s
    assert bucket.take() == 0.2  # the debt grows with each message that does not wait


def test_tokens_come_back_with_time_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    for _ in range(3):
        bucket.take()
    clock.now = 100.0  # a long quiet spell refills only up to the burst
    assert [bucket.take() for _ in range(3)] == [0, 0, 0]
    assert bucket.take() > 0
