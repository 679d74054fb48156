"""Retry policies, driven by a fake clock so that no real time passes."""

import logging
import random

import pytest

from digitaleo_client.errors import (
    AuthenticationFailed,
    ConnectTimeout,
    DepositConnectionError,
    RemoteNotFound,
    UnknownHostKey,
)
from digitaleo_client.retry import RetryPolicy


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self):
        return self.now


def make_policy(fake, **overrides):
    settings = {
        "name": "test",
        "max_attempts": 4,
        "max_total_seconds": 100.0,
        "initial_backoff": 1.0,
        "max_backoff": 4.0,
        "jitter": 0.5,
        "sleep": fake.sleep,
        "monotonic": fake.monotonic,
        "rng": random.Random(7),
    }
    settings.update(overrides)
    return RetryPolicy(**settings)


class Flaky:
    """Fail with the given errors in order, then return "done"."""

    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def test_transient_errors_retried_until_success():
    fake = FakeTime()
    operation = Flaky(ConnectTimeout("timed out"), DepositConnectionError("reset"))
    assert make_policy(fake).call(operation, "list in/") == "done"
    assert operation.calls == 3
    assert len(fake.sleeps) == 2


def test_backoff_doubles_with_bounded_jitter():
    fake = FakeTime()
    operation = Flaky(*[ConnectTimeout("timed out")] * 3)
    make_policy(fake).call(operation, "list in/")
    bases = [1.0, 2.0, 4.0]
    for pause, base in zip(fake.sleeps, bases, strict=True):
        assert base <= pause <= base + 0.5


def test_backoff_capped():
    policy = make_policy(FakeTime(), jitter=0.0)
    assert policy.backoff(10) == 4.0


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationFailed("bad password for crm"),
        UnknownHostKey("unknown key", host="h", fingerprint="SHA256:x"),
        RemoteNotFound("no such file", path="contacts/x"),
    ],
    ids=["authentication", "host-key", "not-found"],
)
def test_permanent_errors_not_retried(error):
    fake = FakeTime()
    operation = Flaky(error)
    with pytest.raises(type(error)) as caught:
        make_policy(fake).call(operation, "connect")
    assert caught.value is error
    assert operation.calls == 1
    assert fake.sleeps == []


def test_attempts_bounded_and_real_error_raised():
    fake = FakeTime()
    errors = [ConnectTimeout(f"timed out {n}") for n in range(10)]
    operation = Flaky(*errors)
    with pytest.raises(ConnectTimeout, match="timed out 3") as caught:
        make_policy(fake).call(operation, "connect")
    assert operation.calls == 4
    assert caught.value.details["attempts"] == [
        "attempt 1: timed out 0",
        "attempt 2: timed out 1",
        "attempt 3: timed out 2",
        "attempt 4: timed out 3",
    ]


def test_total_time_bounded():
    fake = FakeTime()
    operation = Flaky(*[ConnectTimeout("timed out")] * 10)
    with pytest.raises(ConnectTimeout):
        make_policy(fake, max_attempts=50, max_total_seconds=10.0).call(operation, "x")
    assert fake.now <= 10.0
    assert operation.calls < 50


def test_each_retry_logged(caplog):
    fake = FakeTime()
    operation = Flaky(ConnectTimeout("timed out"))
    with caplog.at_level(logging.WARNING, logger="digitaleo_client.retry"):
        make_policy(fake).call(operation, "download reporting/2026-12-01")
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert "download reporting/2026-12-01 failed (attempt 1 of 4" in message
    assert "timed out" in message
