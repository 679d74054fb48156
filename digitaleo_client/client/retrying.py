"""The retry policies a DigitaleoClient runs its remote operations under.

The policies are those of `digitaleo_client.retry`, with what each kind of
operation may repeat:

- connect: dropped or refused connections and connect timeouts;
- read (listing, stat, download) and upload of the hidden temporary file:
  the same, plus operations that timed out, because repeating them on a new
  connection cannot change the deposit;
- publish (the rename of the temporary file): the same, plus a generic
  failure answered by the server, because the client checks before each
  attempt whether the rename already happened.

Authentication and host-key failures, "not found" and "permission denied"
are never repeated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from digitaleo_client import retry
from digitaleo_client.errors import DepositConnectionError, TransferError


def is_timeout(error: BaseException) -> bool:
    """Tell whether `error` is a remote operation that timed out."""
    return type(error) is TransferError and isinstance(error.__cause__, TimeoutError)


def is_server_failure(error: BaseException) -> bool:
    """Tell whether the server returned a failure status without a reason code.

    SFTP servers return SSH_FX_FAILURE for any error that has no better code,
    busy servers and injected faults included.
    """
    cause = error.__cause__
    return (
        type(error) is TransferError
        and isinstance(cause, OSError)
        and cause.errno is None
        and not isinstance(cause, TimeoutError)
    )


def may_retry_read(error: BaseException) -> bool:
    """Tell whether a listing, stat, download or temporary upload may be repeated."""
    return retry.is_transient(error) or is_timeout(error)


def may_retry_publish(error: BaseException) -> bool:
    """Tell whether the publishing rename may be repeated, once checked."""
    return may_retry_read(error) or is_server_failure(error)


def needs_reconnect(error: BaseException) -> bool:
    """Tell whether the connection must be opened again before the next attempt.

    The server may still respond to a timed-out request later, and that
    response would be taken for the response to the next request on the
    same SFTP channel.
    """
    return isinstance(error, DepositConnectionError) or is_timeout(error)


@dataclass(frozen=True)
class RetryPolicies:
    """One retry policy per kind of remote operation."""

    connect: retry.RetryPolicy = retry.CONNECT
    read: retry.RetryPolicy = field(
        default_factory=lambda: replace(retry.READ, should_retry=may_retry_read)
    )
    upload: retry.RetryPolicy = field(
        default_factory=lambda: replace(retry.UPLOAD, should_retry=may_retry_read)
    )
    publish: retry.RetryPolicy = field(
        default_factory=lambda: replace(retry.PUBLISH, should_retry=may_retry_publish)
    )

    def with_timing(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        initial_backoff: float | None = None,
        jitter: float | None = None,
    ) -> RetryPolicies:
        """Return the same policies with another clock and, if given, backoff.

        Tests pass a sleep that returns at once, or short pauses for a
        server that needs real time to come back. `initial_backoff` and
        `jitter` None keep each policy's own.
        """
        changes: dict[str, object] = {"sleep": sleep, "monotonic": monotonic}
        if initial_backoff is not None:
            changes["initial_backoff"] = initial_backoff
        if jitter is not None:
            changes["jitter"] = jitter
        policies = {
            name: replace(getattr(self, name), **changes)
            for name in ("connect", "read", "upload", "publish")
        }
        return RetryPolicies(**policies)
