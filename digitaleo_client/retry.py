"""Retry policies: which failures are safe to repeat, how often and how long.

Built on tenacity. A failure is retried only when repeating the operation
cannot do harm:

- connecting, listing, stat, downloading and re-uploading the hidden
  temporary file are retried after connection failures and timeouts;
- authentication and host-key failures are never retried, because a server
  may lock an account after repeated bad passwords;
- "not found", "permission denied" and validation errors are never retried,
  because a second try fails the same way.

The rename that publishes an upload is not retried by a policy alone: the
caller first checks whether the rename already happened (see
`DigitaleoClient`), then repeats it.

Each retry is logged at WARNING with the attempt number and the error. When
the attempts run out, the last real error is raised (not a wrapper) and
carries the error of every attempt, itself included, in
`error.details["attempts"]`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import tenacity

from digitaleo_client.errors import (
    AuthenticationFailed,
    DepositConnectionError,
    DigitaleoError,
    HostKeyError,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    """Tell whether `error` may go away on a second try of a safe operation."""
    if isinstance(error, AuthenticationFailed | HostKeyError):
        return False
    if isinstance(error, DigitaleoError) and error.details.get("transient") is False:
        return False
    return isinstance(error, DepositConnectionError)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry settings for one kind of operation.

    `max_attempts` counts the first try. `max_total_seconds` bounds the time
    from the first try to the start of the last one, sleeps included.
    Backoff doubles from `initial_backoff` up to `max_backoff`, plus a random
    jitter of up to `jitter` seconds.
    """

    name: str
    max_attempts: int = 5
    max_total_seconds: float = 120.0
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    jitter: float = 1.0
    should_retry: Callable[[BaseException], bool] = is_transient
    # Injected in tests so that no real time passes.
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def backoff(self, attempt: int) -> float:
        """Return the pause after failed attempt number `attempt` (from 1)."""
        base = min(self.max_backoff, self.initial_backoff * 2.0 ** (attempt - 1))
        return base + self.rng.uniform(0.0, self.jitter)

    def call(self, operation: Callable[[], T], description: str) -> T:
        """Run `operation`, retrying transient failures under this policy.

        `description` names the operation and its target in log lines, such
        as "list contacts/import/ok". Raises the last error when attempts or
        time run out, with every attempt's error in `details["attempts"]`.
        """
        history: list[str] = []
        start = self.monotonic()

        def stop(state: tenacity.RetryCallState) -> bool:
            elapsed = self.monotonic() - start
            return (
                state.attempt_number >= self.max_attempts
                or elapsed + self._shortest_pause(state) > self.max_total_seconds
            )

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            history.append(f"attempt {state.attempt_number}: {error}")
            logger.warning(
                "%s failed (attempt %d of %d, retrying in %.1f s): %s",
                description,
                state.attempt_number,
                self.max_attempts,
                state.upcoming_sleep,
                error,
            )

        retrying = tenacity.Retrying(
            stop=stop,
            wait=lambda state: self.backoff(state.attempt_number),
            retry=tenacity.retry_if_exception(self.should_retry),
            before_sleep=before_sleep,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(operation)
        except DigitaleoError as error:
            if history:
                history.append(f"attempt {len(history) + 1}: {error}")
                error.details["attempts"] = history
                logger.error(
                    "%s failed after %d attempts: %s", description, len(history), error
                )
            raise

    def _shortest_pause(self, state: tenacity.RetryCallState) -> float:
        """Return the smallest pause that would follow this attempt."""
        return min(self.max_backoff, self.initial_backoff * 2.0 ** (state.attempt_number - 1))


# Named policies, one per kind of operation.
CONNECT = RetryPolicy("connect", max_attempts=4, max_total_seconds=90.0)
READ = RetryPolicy("read", max_attempts=5, max_total_seconds=120.0)
UPLOAD = RetryPolicy("upload", max_attempts=4, max_total_seconds=600.0)
PUBLISH = RetryPolicy("publish", max_attempts=4, max_total_seconds=120.0)
