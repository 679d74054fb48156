"""Transport to a deposit mounted as a local folder (`file:///mnt/deposit`)."""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from digitaleo_client.config import ConnectionSettings, parse_url
from digitaleo_client.deposit import CONTACTS_DIR, REPORTING_DIR
from digitaleo_client.errors import (
    DepositConnectionError,
    RemoteNotFound,
    RemotePermissionDenied,
    TransferError,
)
from digitaleo_client.transport.base import ProgressCallback, RemoteEntry, Transport

logger = logging.getLogger(__name__)

# Bytes per read and write when copying.
BLOCK_SIZE = 1024 * 1024

# A folder listing; spelled out here because `Transport.list` shadows the
# built-in `list` inside the class body.
Entries = list[RemoteEntry]

# Errors of os.link that mean "this file system has no hard links here".
_NO_HARD_LINKS = {
    errno.EPERM,
    errno.EXDEV,
    errno.ENOTSUP,
    errno.EOPNOTSUPP,
    errno.EMLINK,
}


class LocalTransport(Transport):
    """A deposit folder on this machine, such as an SMB or NFS mount."""

    def __init__(self, root: Path) -> None:
        """Serve the deposit whose root folder is `root` (it must exist)."""
        super().__init__()
        self._root = root

    @classmethod
    def connect(cls, settings: ConnectionSettings) -> LocalTransport:
        """Open the folder named by a `file://` URL.

        Raises DepositConnectionError when the folder does not exist or has
        neither contacts/ nor reporting/, which usually means the deposit is
        not mounted.
        """
        root = Path(parse_url(settings.url).path)
        if not root.is_dir():
            raise DepositConnectionError(
                f"deposit folder {root} does not exist or is not a folder; "
                "mount the deposit there or fix the file:// URL",
                path=str(root),
                transient=False,
            )
        if not any((root / name).is_dir() for name in (CONTACTS_DIR, REPORTING_DIR)):
            raise DepositConnectionError(
                f"deposit folder {root} has neither {CONTACTS_DIR}/ nor "
                f"{REPORTING_DIR}/, so it is not the root of a deposit; mount the "
                "deposit there or fix the file:// URL",
                path=str(root),
                transient=False,
            )
        logger.info("opened deposit folder %s", root)
        return cls(root)

    @property
    def display_url(self) -> str:
        return f"file://{self._root}"

    def list(self, path: str) -> Entries:
        self._check_open()
        with self._translated("list", path), os.scandir(self._local(path)) as items:
            return [_entry(item.name, item.stat()) for item in items]

    def stat(self, path: str) -> RemoteEntry | None:
        self._check_open()
        local = self._local(path)
        try:
            return _entry(local.name, local.stat())
        except FileNotFoundError:
            return None
        except OSError as error:
            raise _translate("stat", path, error) from error

    def put(
        self, source: BinaryIO, path: str, progress: ProgressCallback | None = None
    ) -> int:
        self._check_open()
        with self._translated("upload", path), self._local(path).open("wb") as target:
            sent = _copy(source, target, progress, total=None)
            target.flush()
            # The file is renamed into view next: make its content durable first.
            os.fsync(target.fileno())
        return sent

    def get(
        self, path: str, target: BinaryIO, progress: ProgressCallback | None = None
    ) -> int:
        self._check_open()
        with self._translated("download", path), self._local(path).open("rb") as source:
            total = os.fstat(source.fileno()).st_size
            return _copy(source, target, progress, total)

    def rename(self, source: str, target: str) -> None:
        self._check_open()
        try:
            _rename_without_replacing(self._local(source), self._local(target))
        except FileExistsError as error:
            raise TransferError(
                f"cannot rename {source} to {target} in {self.display_url}: "
                "the target already exists; remove it or choose another name",
                path=target,
            ) from error
        except OSError as error:
            raise _translate("rename", source, error) from error

    def remove(self, path: str) -> None:
        self._check_open()
        with self._translated("remove", path):
            self._local(path).unlink()

    def mkdir(self, path: str) -> None:
        self._check_open()
        with self._translated("create folder", path):
            self._local(path).mkdir(exist_ok=True)

    def _close(self) -> None:
        logger.debug("closed deposit folder %s", self._root)

    def _local(self, path: str) -> Path:
        """Map a deposit path to a local one, refusing paths that leave the root."""
        parts = PurePosixPath(path).parts
        if PurePosixPath(path).is_absolute() or ".." in parts:
            raise TransferError(
                f"remote path {path!r} leaves the deposit root {self._root}; "
                "give a path relative to the root, without '..'",
                path=path,
            )
        return self._root.joinpath(*parts)

    @contextmanager
    def _translated(self, operation: str, path: str) -> Iterator[None]:
        try:
            yield
        except OSError as error:
            raise _translate(operation, path, error) from error


def _entry(name: str, status: os.stat_result) -> RemoteEntry:
    is_dir = (status.st_mode & 0o170000) == 0o040000
    return RemoteEntry(
        name=name, size=status.st_size, mtime=status.st_mtime, is_dir=is_dir
    )


def _copy(
    source: BinaryIO,
    target: BinaryIO,
    progress: ProgressCallback | None,
    total: int | None,
) -> int:
    copied = 0
    while block := source.read(BLOCK_SIZE):
        target.write(block)
        copied += len(block)
        if progress is not None:
            progress(copied, total)
    return copied


def _rename_without_replacing(old: Path, new: Path) -> None:
    """Rename `old` to `new`, raising FileExistsError if `new` exists.

    A file is hard-linked to its new name, then unlinked, so that an existing
    target is never replaced.
    """
    if old.is_file():
        try:
            os.link(old, new)
        except OSError as error:
            if error.errno not in _NO_HARD_LINKS:
                raise
        else:
            old.unlink()
            return
    # NOTE: without hard links (folders, some network file systems) another
    # writer may create `new` between this check and the rename.
    if new.exists():
        raise FileExistsError(errno.EEXIST, "target exists", str(new))
    old.rename(new)


def _translate(operation: str, path: str, error: OSError) -> TransferError:
    reason = error.strerror or str(error)
    where = f"{operation} of {path} in the deposit folder failed ({reason})"
    if isinstance(error, FileNotFoundError):
        return RemoteNotFound(f"{where}; check the path and the mount", path=path)
    if isinstance(error, PermissionError):
        return RemotePermissionDenied(
            f"{where}; the deposit accepts writes only in in/ folders and the "
            "import-mode dot-files",
            path=path,
        )
    return TransferError(where, path=path)
