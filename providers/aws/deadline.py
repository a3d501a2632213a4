"""A deadline per collector: no endpoint holds a scan longer than ``--collector-timeout``.

botocore bounds each attempt (connect and read timeouts) and the number of attempts, but
not their total: an endpoint that accepts a connection and never answers costs
``max_attempts x read_timeout``. So each collector's call runs in a thread of its own while
the region's thread waits for it, up to the deadline, and says what it is waiting on every
``NOTICE_SECONDS``. Past the deadline the wait ends with ``CollectorTimeout`` (the collector
becomes a named gap) and the call is cancelled: a botocore ``before-send`` hook refuses its
next attempt, so the abandoned thread stops at its current read's timeout instead of
retrying.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from costscan.providers.interface import WAITING

T = TypeVar("T")

# How often a slow collector is reported as "waiting" on the progress line.
NOTICE_SECONDS = 10.0

_current = threading.local()


class CollectorTimeout(Exception):
    """A collector got no complete answer within its deadline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"no complete answer within {seconds:g} s (--collector-timeout); the endpoint "
            "may be hung or throttling hard"
        )
        self.seconds = seconds


class CallCancelled(Exception):
    """Raised inside an abandoned call at its next attempt; nobody waits for it any more."""


def refuse_cancelled(**_kwargs: Any) -> None:
    """botocore ``before-send`` handler: stop retrying once the collector's wait is over."""
    cancelled: threading.Event | None = getattr(_current, "cancelled", None)
    deadline: float | None = getattr(_current, "deadline", None)
    if (cancelled is not None and cancelled.is_set()) or (
        deadline is not None and time.monotonic() > deadline
    ):
        raise CallCancelled("the collector's deadline passed; this attempt is not sent")


def run_with_deadline(
    call: Callable[[], T],
    seconds: float,
    *,
    label: str,
    notice: Callable[[str], None],
    notice_every: float = NOTICE_SECONDS,
) -> T:
    """``call()``'s answer, or CollectorTimeout after ``seconds``; its errors are re-raised."""
    done = threading.Event()
    cancelled = threading.Event()
    outcome: dict[str, Any] = {}
    started = time.monotonic()

    def target() -> None:
        _current.cancelled = cancelled
        _current.deadline = started + seconds
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name=f"costscan-call {label}", daemon=True).start()
    while True:
        remaining = started + seconds - time.monotonic()
        if remaining <= 0:
            if done.is_set():
                break
            cancelled.set()
            raise CollectorTimeout(seconds)
        if done.wait(min(notice_every, remaining)):
            break
        waited = time.monotonic() - started
        if waited < seconds:
            notice(f"{WAITING} {label}: {waited:.0f} s of {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
