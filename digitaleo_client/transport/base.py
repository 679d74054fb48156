"""The contract every transport implements, whatever the protocol.

Paths are POSIX paths relative to the deposit root, such as
`contacts/import/in/list.csv`. Implementations translate their library's
errors into `digitaleo_client.errors` and chain the original.
"""

from __future__ import annotations

import builtins
import logging
import posixpath
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from digitaleo_client.deposit import temporary_name
from digitaleo_client.errors import ConfigurationError, RemoteNotFound

logger = logging.getLogger(__name__)

# Called with the number of bytes transferred so far and the total, if known.
ProgressCallback = Callable[[int, int | None], None]


@dataclass(frozen=True)
class RemoteEntry:
    """One entry of a remote folder."""

    name: str
    size: int
    mtime: float | None
    is_dir: bool


class Transport(ABC):
    """A connection to a deposit that lists, moves and transfers files.

    Use it as a context manager; every method raises ConfigurationError once
    the transport is closed.
    """

    def __init__(self) -> None:
        self._closed = False

    # -- primitives each protocol implements ---------------------------------

    @abstractmethod
    def list(self, path: str) -> list[RemoteEntry]:
        """List a remote folder. Raises RemoteNotFound if it does not exist."""

    @abstractmethod
    def stat(self, path: str) -> RemoteEntry | None:
        """Return the entry at `path`, or None when nothing is there."""

    @abstractmethod
    def put(
        self, source: BinaryIO, path: str, progress: ProgressCallback | None = None
    ) -> int:
        """Write `source` to `path` as it is (not atomic); return bytes sent."""

    @abstractmethod
    def get(
        self, path: str, target: BinaryIO, progress: ProgressCallback | None = None
    ) -> int:
        """Copy the remote file at `path` into `target`; return bytes received."""

    @abstractmethod
    def rename(self, source: str, target: str) -> None:
        """Rename `source` to `target`. Raises TransferError if `target` exists."""

    @abstractmethod
    def remove(self, path: str) -> None:
        """Remove a remote file."""

    @abstractmethod
    def mkdir(self, path: str) -> None:
        """Create a remote folder; an existing folder is no error."""

    @abstractmethod
    def _close(self) -> None:
        """Release the connection."""

    @property
    @abstractmethod
    def display_url(self) -> str:
        """The deposit's URL without any secret, for messages and logs."""

    @property
    def server_identity(self) -> str | None:
        """What identifies the server: its SSH host key or TLS certificate.

        None when the protocol has none (plain FTP, a local folder).
        """
        return None

    # -- behaviour shared by every protocol ----------------------------------

    def upload(
        self,
        local_path: Path,
        remote_path: str,
        progress: ProgressCallback | None = None,
    ) -> int:
        """Upload a file atomically: write a hidden `.name.part`, then rename.

        The deposit never sees a partial file under its final name. Returns
        the number of bytes sent.
        """
        self._check_open()
        folder, name = posixpath.split(remote_path)
        partial = posixpath.join(folder, temporary_name(name))
        if self.stat(partial) is not None:
            # A temporary file from an earlier interrupted run.
            logger.info("removing leftover temporary file %s", partial)
            self.remove(partial)
        with local_path.open("rb") as source:
            sent = self.put(source, partial, progress)
        self.rename(partial, remote_path)
        logger.info("uploaded %s to %s (%d bytes)", local_path, remote_path, sent)
        return sent

    def download(
        self,
        remote_path: str,
        local_path: Path,
        progress: ProgressCallback | None = None,
    ) -> int:
        """Download to `local_path` through a temporary file, then rename it.

        Returns the number of bytes received.
        """
        self._check_open()
        partial = local_path.with_name(temporary_name(local_path.name))
        try:
            with partial.open("wb") as target:
                received = self.get(remote_path, target, progress)
            partial.replace(local_path)
        finally:
            partial.unlink(missing_ok=True)
        logger.info("downloaded %s to %s (%d bytes)", remote_path, local_path, received)
        return received

    def exists(self, path: str) -> bool:
        return self.stat(path) is not None

    def list_names(self, path: str) -> builtins.list[str]:
        return [entry.name for entry in self.list(path)]

    def list_or_empty(self, path: str) -> builtins.list[RemoteEntry]:
        """List a folder, reading a missing folder as empty."""
        try:
            return self.list(path)
        except RemoteNotFound:
            return []

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ConfigurationError(
                f"the connection to {self.display_url} is closed; open a new one"
            )

    def __enter__(self) -> Self:
        self._check_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
