"""The deposit's clock: manual time for tests, and days in Europe/Paris."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fake_server.clock import ManualClock, SystemClock, paris_day


def utc(*parts):
    return datetime(*parts, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("timestamp", "day"),
    [
        (1447797847, "2015-11-17"),
        # Summer time, UTC+2: half past midnight in Paris is still the 26th in UTC.
        (utc(2015, 4, 26, 22, 30), "2015-04-27"),
        (utc(2015, 4, 26, 21, 59), "2015-04-26"),
        # Winter time, UTC+1.
        (utc(2015, 11, 30, 23, 30), "2015-12-01"),
        (utc(2015, 11, 30, 22, 59), "2015-11-30"),
    ],
    ids=[
        "published-example",
        "summer-after-midnight",
        "summer-before",
        "winter-after",
        "winter-before",
    ],
)
def test_paris_day(timestamp, day):
    assert paris_day(timestamp) == day


def test_manual_clock_moves_by_hand():
    clock = ManualClock(1000.0)

    before = clock.now()
    clock.advance(2.5)

    assert before == 1000.0
    assert clock.now() == 1002.5


def test_manual_clock_never_goes_back():
    clock = ManualClock(1000.0)

    with pytest.raises(ValueError) as caught:
        clock.advance(-1)

    assert str(caught.value) == "cannot move the clock back by -1 seconds"
    assert clock.now() == 1000.0


def test_system_clock_is_wall_clock():
    assert abs(SystemClock().now() - datetime.now(UTC).timestamp()) < 60
