"""Time of the fake deposit, injectable so that tests can move it by hand."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

# The deposit names its day folders and dates its files in French time.
PARIS = ZoneInfo("Europe/Paris")


class Clock(Protocol):
    """Source of the current time in POSIX seconds."""

    def now(self) -> float: ...


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when a test advances it. It is safe across threads."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`.

        Raises ValueError for a negative amount, because the deposit's clock
        never goes back.
        """
        if seconds < 0:
            raise ValueError(f"cannot move the clock back by {seconds} seconds")
        with self._lock:
            self._now += seconds


def paris_day(timestamp: float) -> str:
    """Return the day of a POSIX timestamp in Europe/Paris, as `YYYY-MM-DD`."""
    return datetime.fromtimestamp(timestamp, PARIS).strftime("%Y-%m-%d")
