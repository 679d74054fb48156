"""A lock that keeps two pulls into one destination folder from overlapping."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

# Lock file in the destination that keeps two pulls into it from overlapping.
LOCK_FILE_NAME = ".digitaleo-pull.lock"


@contextlib.contextmanager
def pull_lock(destination: Path) -> Iterator[None]:
    """Hold the destination's lock, waiting while another pull into it runs."""
    destination.mkdir(parents=True, exist_ok=True)
    with (destination / LOCK_FILE_NAME).open("a+b") as lock:
        if fcntl is None:
            # NOTE: without fcntl (Windows) two pulls into one folder can overlap.
            yield
            return
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info(
                "another pull into %s is running; waiting for it to finish", destination
            )
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
