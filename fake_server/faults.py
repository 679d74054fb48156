"""Faults the fake deposit can inject, so that clients can be tested against them.

A fault is written `NAME` or `NAME=VALUE`, as `serve --fault` takes it:

    drop-upload-after=N       close the connection once an upload has written
                              N bytes (once)
    refuse-rename             fail the next rename into an in/ folder with
                              SSH_FX_FAILURE, leaving both files as they
                              were (once)
    drop-after-rename         close the connection right after a rename into
                              an in/ folder succeeded, before the client hears
                              of it (once)
    stall-listing=SECONDS     hold the next folder listing for SECONDS before
                              answering (once)
    processing-delay=SECONDS  keep every deposited file SECONDS in on/ before
                              processing it
    max-write=N               close the connection on any write request longer
                              than N bytes, as servers with a smaller message
                              limit than OpenSSH's do

Faults marked "once" fire on the first request they apply to and are then
spent. Only the SFTP front end injects the protocol faults; FTP clients see
none of them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

DROP_UPLOAD_AFTER = "drop-upload-after"
REFUSE_RENAME = "refuse-rename"
DROP_AFTER_RENAME = "drop-after-rename"
STALL_LISTING = "stall-listing"
PROCESSING_DELAY = "processing-delay"
MAX_WRITE = "max-write"

# For each fault: how its value is read (None: it takes no value) and
# whether it is spent after firing once.
_KINDS: dict[str, tuple[Callable[[str], float] | None, bool]] = {
    DROP_UPLOAD_AFTER: (int, True),
    REFUSE_RENAME: (None, True),
    DROP_AFTER_RENAME: (None, True),
    STALL_LISTING: (float, True),
    PROCESSING_DELAY: (float, False),
    MAX_WRITE: (int, False),
}

FAULT_NAMES = tuple(_KINDS)


@dataclass(frozen=True)
class Fault:
    """One fault to inject: its name and its value (None for faults without one)."""

    name: str
    value: float | None = None

    @property
    def once(self) -> bool:
        """Tell whether the fault is spent after it fired once."""
        return _KINDS[self.name][1]

    def __str__(self) -> str:
        if self.value is None:
            return self.name
        return f"{self.name}={self.value:g}"


def parse_fault(text: str) -> Fault:
    """Read a fault written `NAME` or `NAME=VALUE`, such as `drop-upload-after=4096`.

    Raises ValueError naming the fault and the accepted forms when the name
    is unknown, a value is missing or unexpected, or the value is not a
    non-negative number of the right kind.
    """
    name, separator, raw_value = text.partition("=")
    name = name.strip()
    if name not in _KINDS:
        raise ValueError(f"unknown fault {name!r}; use one of {', '.join(FAULT_NAMES)}")
    convert, _once = _KINDS[name]
    if convert is None:
        if separator:
            raise ValueError(f"fault {name} takes no value; write it as {name}")
        return Fault(name)
    if not separator or not raw_value.strip():
        raise ValueError(f"fault {name} needs a value; write it as {name}=NUMBER")
    try:
        value = float(convert(raw_value.strip()))
    except ValueError:
        kind = "a whole number of bytes" if convert is int else "a number of seconds"
        raise ValueError(
            f"fault {name}={raw_value} has an invalid value; give {kind}"
        ) from None
    if value < 0:
        raise ValueError(f"fault {name}={raw_value} is negative; give 0 or more")
    return Fault(name, value)


class Faults:
    """The faults armed on one server, safe to use from its threads.

    `faults` are Fault objects or texts that `parse_fault` reads; a later
    fault of the same name replaces an earlier one.
    """

    def __init__(self, faults: Iterable[Fault | str] = ()) -> None:
        self._armed: dict[str, Fault] = {}
        for fault in faults:
            parsed = parse_fault(fault) if isinstance(fault, str) else fault
            self._armed[parsed.name] = parsed
        self._lock = threading.Lock()
        # Set on server stop so that a stalled request gives up at once.
        self.stopping = threading.Event()

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._armed)

    def arm(self, fault: Fault | str) -> None:
        """Arm one more fault on the running server, replacing one of the same name."""
        parsed = parse_fault(fault) if isinstance(fault, str) else fault
        with self._lock:
            self._armed[parsed.name] = parsed

    def armed(self) -> list[Fault]:
        """Return the faults that have not fired yet, and the lasting ones."""
        with self._lock:
            return list(self._armed.values())

    def peek(self, name: str) -> Fault | None:
        """Return the armed fault called `name` without spending it, or None."""
        with self._lock:
            return self._armed.get(name)

    def take(self, name: str) -> Fault | None:
        """Return the fault called `name` if armed, spending it if it fires once."""
        with self._lock:
            fault = self._armed.get(name)
            if fault is not None and fault.once:
                del self._armed[name]
        if fault is not None and fault.once:
            logger.warning("injecting fault %s", fault)
        return fault

    def value(self, name: str, default: float = 0.0) -> float:
        """Return the value of the armed fault `name`, or `default` when not armed."""
        fault = self.peek(name)
        if fault is None or fault.value is None:
            return default
        return fault.value

    def stall(self, seconds: float) -> None:
        """Pause the calling request thread for `seconds`, or until the server stops."""
        self.stopping.wait(seconds)
