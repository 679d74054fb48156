"""Following an uploaded file from in/ through on/ to ok/ or ko/.

The deposit moves a file from `in/NAME` to `on/<ts>_NAME` when it starts
processing it, then to `ok/<ts>_NAME` or `ko/<ts>_NAME`. Older files of the
same name may already sit in those folders, so an upload notes their
processed names first (`earlier_names`) and waiting ignores them. The
timestamp is the server's; it is never compared with the client's clock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from digitaleo_client.client.outcome import Outcome, StageChange, Upload
from digitaleo_client.deposit import ActionFolder, Stage, parse_processed_name
from digitaleo_client.errors import WaitTimeout
from digitaleo_client.transport.base import Transport

logger = logging.getLogger(__name__)

# Folders looked at after in/, in the direction files move, so that a file
# moving during one poll is seen in its new folder rather than missed.
PROCESSED_STAGES = (Stage.ON, Stage.OK, Stage.KO)

StageCallback = Callable[[StageChange], None]


class Clock(Protocol):
    """Time as the client reads it; tests inject one that never sleeps."""

    def now(self) -> float:
        """Return the wall-clock time in POSIX seconds."""
        ...

    def monotonic(self) -> float:
        """Return seconds from a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Pause for `seconds`."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class PollPolicy:
    """Pauses between polls: start small, grow by `factor`, never above `max_interval`."""

    initial_interval: float = 0.2
    factor: float = 1.5
    max_interval: float = 10.0

    def intervals(self) -> Callable[[], float]:
        """Return a function giving each next pause, in seconds."""
        current = self.initial_interval / self.factor

        def next_interval() -> float:
            nonlocal current
            current = min(self.max_interval, current * self.factor)
            return current

        return next_interval


def processed_names(transport: Transport, folder: ActionFolder, name: str) -> set[str]:
    """Return the processed names of files called `name` in on/, ok/ and ko/."""
    found = set()
    for stage in PROCESSED_STAGES:
        for entry in transport.list_or_empty(folder.stage(stage)):
            parsed = parse_processed_name(entry.name)
            if parsed is not None and parsed[1] == name:
                found.add(entry.name)
    return found


def locate(transport: Transport, upload: Upload) -> Outcome | None:
    """Find the current stage of the upload, or None while it moves between folders."""
    folder = upload.folder
    if transport.exists(upload.remote_path):
        return _outcome(upload, Stage.IN, upload.remote_path)

    for stage in PROCESSED_STAGES:
        newest: tuple[int, str] | None = None
        for entry in transport.list_or_empty(folder.stage(stage)):
            parsed = parse_processed_name(entry.name)
            if parsed is None or parsed[1] != upload.remote_name:
                continue
            if entry.name in upload.earlier_names:
                continue
            if newest is None or parsed[0] > newest[0]:
                newest = (parsed[0], entry.name)
        if newest is not None:
            path = f"{folder.stage(stage)}/{newest[1]}"
            return _outcome(upload, stage, path, picked_up_at=float(newest[0]))
    return None


def _outcome(
    upload: Upload, stage: Stage, path: str, picked_up_at: float | None = None
) -> Outcome:
    return Outcome(
        action=upload.action,
        media=upload.media,
        remote_name=upload.remote_name,
        stage=stage,
        remote_path=path,
        uploaded_at=upload.uploaded_at,
        picked_up_at=picked_up_at,
        part=upload.part,
        parts=upload.parts,
    )


@dataclass
class Waiter:
    """Polls the deposit until an upload reaches ok/ or ko/, or time runs out."""

    locate: Callable[[Upload], Outcome | None]
    clock: Clock
    policy: PollPolicy = PollPolicy()
    on_stage: StageCallback | None = None

    def wait(self, upload: Upload, timeout: float) -> Outcome:
        """Return the final outcome of `upload` (ok/ or ko/).

        Raises WaitTimeout, carrying the last stage seen, when `timeout`
        seconds pass first.
        """
        deadline = self.clock.monotonic() + timeout
        next_interval = self.policy.intervals()
        last: Outcome | None = None
        while True:
            current = self.locate(upload)
            if current is not None and (last is None or current.stage != last.stage):
                self._report(upload, current)
                last = current
            if current is not None and current.final:
                return replace(current, finished_at=self.clock.now())

            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                raise self._timeout(upload, last, timeout)
            self.clock.sleep(min(next_interval(), remaining))

    def _report(self, upload: Upload, outcome: Outcome) -> None:
        logger.info(
            "%s is in %s/ (%s)",
            upload.remote_name,
            outcome.stage.value,
            outcome.remote_path,
        )
        if self.on_stage is not None:
            self.on_stage(StageChange(upload, outcome.stage, outcome.remote_path))

    def _timeout(
        self, upload: Upload, last: Outcome | None, timeout: float
    ) -> WaitTimeout:
        where = (
            f"last seen in {last.stage.value}/" if last else "not seen since its upload"
        )
        return WaitTimeout(
            f"{upload.remote_name} reached neither ok/ nor ko/ within {timeout:g} s "
            f"({where}); the deposit may be busy: wait longer with --timeout, or "
            f"look in {upload.folder.path}/ later",
            path=upload.remote_path,
            stage=last.stage.value if last else None,
            outcome=last.as_dict() if last else None,
        )
