"""Waiting for a condition, the one way the tests, the benchmarks and the topologies do it.

``wait_until`` polls from a plain function, ``wait_until_async`` from a coroutine (it sleeps
with ``asyncio.sleep``, so the loop's other tasks run meanwhile); both take the same
arguments and raise the same ``NotWithin``, naming what did not happen and in what time.
"""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


class NotWithin(AssertionError):
    """A condition that did not hold in time; an AssertionError, so a test reports it as a
    failed check."""


What = str | Callable[[], str]  # a callable is asked at the timeout (a log's tail, say)
Errors = tuple[type[BaseException], ...]


def _timed_out(seconds: float, what: What, last_error: BaseException | None) -> NotWithin:
    said = what() if callable(what) else what
    because = f" (last error: {last_error!r})" if last_error is not None else ""
    return NotWithin(f"not within {seconds} s: {said}{because}")


def wait_until(
    check: Callable[..., object],  # called with no arguments (a lambda may bind defaults)
    seconds: float,
    what: What,
    *,
    every: float = 0.05,
    ignoring: Errors = (),
) -> None:
    """Returns once ``check()`` is true; ``NotWithin`` after ``seconds``. An exception of a
    type in ``ignoring`` counts as "not yet" (and is named in the message if it was last)."""
    deadline = time.monotonic() + seconds
    last_error: BaseException | None = None
    while True:
        try:
            if check():
                return
            last_error = None
        except ignoring as error:
            last_error = error
        if time.monotonic() > deadline:
            raise _timed_out(seconds, what, last_error)
        time.sleep(every)


async def wait_until_async(
    check: Callable[..., object | Awaitable[object]],
    seconds: float,
    what: What,
    *,
    every: float = 0.02,
    ignoring: Errors = (),
) -> None:
    """``wait_until`` in a coroutine; ``check`` may also return an awaitable, which is
    awaited for its answer."""
    deadline = time.monotonic() + seconds
    last_error: BaseException | None = None
    while True:
        try:
            outcome = check()
            if inspect.isawaitable(outcome):
                outcome = await outcome
            if outcome:
                return
            last_error = None
        except ignoring as error:
            last_error = error
        if time.monotonic() > deadline:
            raise _timed_out(seconds, what, last_error)
        await asyncio.sleep(every)
