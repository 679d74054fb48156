"""SFTP front end of the fake deposit, on paramiko's server classes.

`DepositSFTPInterface` serves the deposit folder through the rules of
`fake_server.access`. It processes no file: each file that a client
finishes writing in an `in/` folder goes to the submit callback of the
`SessionRegistry` (in `fake_server.sessions`).
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import paramiko
from paramiko import sftp as sftp_codes

from fake_server import access
from fake_server.access import AccessError, ClientPath, PathNotFound
from fake_server.faults import (
    DROP_AFTER_RENAME,
    DROP_UPLOAD_AFTER,
    MAX_WRITE,
    REFUSE_RENAME,
    STALL_LISTING,
)
from fake_server.sessions import SSHSessionServer

logger = logging.getLogger(__name__)

# SFTP status codes, typed for the checker since paramiko has no type hints.
SFTP_OK: int = sftp_codes.SFTP_OK
SFTP_FAILURE: int = sftp_codes.SFTP_FAILURE
SFTP_NO_SUCH_FILE: int = sftp_codes.SFTP_NO_SUCH_FILE
SFTP_PERMISSION_DENIED: int = sftp_codes.SFTP_PERMISSION_DENIED

# Flags of os.open that change a file; SFTP open maps its own flags onto them.
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

# Files created by clients get these permission bits whatever they ask for.
_FILE_MODE = 0o644


class DepositSFTPServer(paramiko.SFTPServer):  # type: ignore[misc]
    """The `sftp` subsystem of one channel, run by paramiko in its own thread.

    It passes the reason of each rejected request to the client in the SFTP
    status message, and aborts the uploads left open when the channel ends.
    """

    def __init__(
        self,
        channel: paramiko.Channel,
        name: str,
        server: SSHSessionServer,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(channel, name, server, DepositSFTPInterface)
        self.registry = server.registry
        self.registry.add(self)
        interface: DepositSFTPInterface = self.server
        interface.drop_connection = channel.get_transport().close

    def _send_status(
        self, request_number: int, code: int, desc: str | None = None
    ) -> None:
        # NOTE: this overrides a private method of paramiko.SFTPServer (checked
        # on paramiko 5.1) so that the client reads why a request failed.
        interface: DepositSFTPInterface = self.server
        reason = interface.take_reason()
        if desc is None and code != SFTP_OK and reason is not None:
            desc = reason
        super()._send_status(request_number, code, desc)

    def finish_subsystem(self) -> None:
        # Files still open here were not closed by the client: the connection
        # dropped mid-upload, so they are not submitted as complete. A partial
        # file under a visible name stays in in/, where the processor's settle
        # scan, if on, takes it like any file written behind the server's back.
        for handle in list(self.file_table.values()):
            if isinstance(handle, DepositFile):
                handle.abort()
        try:
            super().finish_subsystem()
        finally:
            self.registry.discard(self)
        logger.info("SFTP session of %r ended", self.server.username)


def _status_of(error: OSError) -> int:
    """Return the SFTP status code for an OS error (EACCES, ENOENT, or failure)."""
    code: int = paramiko.SFTPServer.convert_errno(error.errno)
    return code


P = ParamSpec("P")
R = TypeVar("R")


def _sftp_errors(
    method: Callable[Concatenate[DepositSFTPInterface, P], R],
) -> Callable[Concatenate[DepositSFTPInterface, P], R | int]:
    """Turn access rule and OS errors raised by `method` into SFTP status codes."""

    def wrapper(
        self: DepositSFTPInterface, /, *args: P.args, **kwargs: P.kwargs
    ) -> R | int:
        try:
            return method(self, *args, **kwargs)
        except AccessError as error:
            return self.reject(error)
        except OSError as error:
            return self.reject_os_error(error, method.__name__)

    functools.update_wrapper(wrapper, method)
    return wrapper


class DepositSFTPInterface(paramiko.SFTPServerInterface):  # type: ignore[misc]
    """Requests of one SFTP session, served from the deposit folder.

    Each method returns what paramiko expects: an object on success, or an
    SFTP status code, with the reason kept for the status message.
    """

    def __init__(self, server: SSHSessionServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(server)
        self.registry = server.registry
        self.root = server.registry.root
        self.username = server.username
        self.faults = server.registry.faults
        self._reason: str | None = None
        # Closes this client's SSH connection; set by DepositSFTPServer.
        self.drop_connection: Callable[[], None] = lambda: None

    # -- error reporting -----------------------------------------------------

    def reject(self, error: AccessError) -> int:
        logger.info("rejected request of %r: %s", self.username, error)
        self._reason = str(error)
        if isinstance(error, PathNotFound):
            return SFTP_NO_SUCH_FILE
        return SFTP_PERMISSION_DENIED

    def reject_os_error(self, error: OSError, request: str) -> int:
        logger.info("%s request of %r failed: %s", request, self.username, error)
        self._reason = error.strerror
        return _status_of(error)

    def take_reason(self) -> str | None:
        """Return and clear the reason of the last rejected request."""
        reason, self._reason = self._reason, None
        return reason

    # -- reading -------------------------------------------------------------

    @_sftp_errors
    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes]:
        client_path = access.parse_client_path(path)
        folder = access.real_path(self.root, client_path)
        stall = self.faults.take(STALL_LISTING)
        if stall is not None and stall.value is not None:
            self.faults.stall(stall.value)
        with os.scandir(folder) as entries:
            return [
                paramiko.SFTPAttributes.from_stat(
                    entry.stat(follow_symlinks=False), entry.name
                )
                for entry in entries
                if _is_listed(client_path.child(entry.name), entry)
            ]

    @_sftp_errors
    def stat(self, path: str) -> paramiko.SFTPAttributes:
        client_path = access.parse_client_path(path)
        real = access.real_path(self.root, client_path)
        return paramiko.SFTPAttributes.from_stat(os.lstat(real), client_path.name)

    # Symbolic links are never followed, so lstat and stat are the same.
    lstat = stat

    @_sftp_errors
    def readlink(self, path: str) -> int:
        client_path = access.parse_client_path(path)
        real = access.real_path(self.root, client_path)
        os.lstat(real)
        self._reason = f"{client_path.text} is not a symbolic link"
        return SFTP_FAILURE

    def canonicalize(self, path: str) -> str:
        return access.parse_client_path(path).text

    # -- writing -------------------------------------------------------------

    @_sftp_errors
    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> DepositFile:
        client_path = access.parse_client_path(path)
        writing = bool(flags & _WRITE_FLAGS)
        if writing:
            access.check_write(client_path)
        real = access.real_path(self.root, client_path, writing=writing)
        descriptor = os.open(real, flags | os.O_NOFOLLOW | os.O_CLOEXEC, _FILE_MODE)
        if stat.S_ISDIR(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise IsADirectoryError(
                errno.EISDIR, f"{client_path.text} is a folder", path
            )
        if not writing:
            return DepositFile(descriptor, flags, client_path)

        # The processor's scan of in/ folders skips files open here; they are
        # submitted when the client closes them.
        uploads = self.registry.open_uploads
        uploads.add(real)
        on_complete = None
        if access.is_submitted_upload(client_path):
            on_complete = functools.partial(self._submit, client_path, real)
        return DepositFile(
            descriptor,
            flags,
            client_path,
            on_release=functools.partial(uploads.discard, real),
            on_complete=on_complete,
            drop_after=self._upload_drop_point(client_path),
            drop_connection=self.drop_connection,
            max_write=self._max_write(),
        )

    def _max_write(self) -> int | None:
        """Return the longest write request the max-write fault lets through, or None."""
        fault = self.faults.peek(MAX_WRITE)
        if fault is None or fault.value is None:
            return None
        return int(fault.value)

    def _upload_drop_point(self, client_path: ClientPath) -> int | None:
        """Return after how many bytes to drop this upload's connection, or None."""
        if access.write_target(client_path) is not access.WriteTarget.IN_FILE:
            return None
        fault = self.faults.take(DROP_UPLOAD_AFTER)
        if fault is None or fault.value is None:
            return None
        return int(fault.value)

    @_sftp_errors
    def remove(self, path: str) -> int:
        client_path = access.parse_client_path(path)
        access.check_write(client_path)
        os.remove(access.real_path(self.root, client_path, writing=True))
        logger.info("%r removed %s", self.username, client_path.text)
        return SFTP_OK

    @_sftp_errors
    def rename(self, oldpath: str, newpath: str) -> int:
        """Rename as SFTP version 3 specifies: fail if the target exists."""
        source, target, real_source, real_target = self._rename_paths(oldpath, newpath)
        if self._refuses_rename(source):
            return SFTP_FAILURE
        # A hard link then an unlink never replaces an existing target.
        os.link(real_source, real_target, follow_symlinks=False)
        os.unlink(real_source)
        self._after_rename(source, target, real_target)
        return SFTP_OK

    @_sftp_errors
    def posix_rename(self, oldpath: str, newpath: str) -> int:
        """Rename, replacing the target if it exists."""
        source, target, real_source, real_target = self._rename_paths(oldpath, newpath)
        if self._refuses_rename(source):
            return SFTP_FAILURE
        os.replace(real_source, real_target)
        self._after_rename(source, target, real_target)
        return SFTP_OK

    def _rename_paths(
        self, oldpath: str, newpath: str
    ) -> tuple[ClientPath, ClientPath, Path, Path]:
        source = access.parse_client_path(oldpath)
        target = access.parse_client_path(newpath)
        access.check_rename(source, target)
        real_source = access.real_path(self.root, source, writing=True)
        real_target = access.real_path(self.root, target, writing=True)
        return source, target, real_source, real_target

    def _after_rename(
        self, source: ClientPath, target: ClientPath, real_target: Path
    ) -> None:
        logger.info("%r renamed %s to %s", self.username, source.text, target.text)
        if access.is_submitted_upload(target):
            self._submit(target, real_target)
        if self.faults.take(DROP_AFTER_RENAME) is not None:
            self.drop_connection()

    def _refuses_rename(self, source: ClientPath) -> bool:
        """Tell whether the refuse-rename fault answers this rename with a failure."""
        if self.faults.take(REFUSE_RENAME) is None:
            return False
        self._reason = f"rename of {source.text} refused by an injected fault"
        return True

    @_sftp_errors
    def chattr(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        client_path = access.parse_client_path(path)
        access.check_write(client_path)
        real = access.real_path(self.root, client_path, writing=True)
        _apply_attributes(real, attr)
        return SFTP_OK

    @_sftp_errors
    def mkdir(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        client_path = access.parse_client_path(path)
        if access.is_visible(client_path) and os.path.lexists(
            access.real_path(self.root, client_path)
        ):
            # As on a POSIX file system, an existing folder is reported as
            # such before any permission check.
            raise FileExistsError(
                errno.EEXIST, f"{client_path.text} already exists", path
            )
        access.check_folder_change(client_path)
        return SFTP_OK

    @_sftp_errors
    def rmdir(self, path: str) -> int:
        access.check_folder_change(access.parse_client_path(path))
        return SFTP_OK

    @_sftp_errors
    def symlink(self, target_path: str, path: str) -> int:
        raise access.PermissionDenied(
            access.parse_client_path(path).text,
            "the deposit does not allow symbolic links",
        )

    def _submit(self, client_path: ClientPath, real: Path) -> None:
        logger.info("%r deposited %s", self.username, client_path.text)
        self.registry.submit(real)


def _is_listed(path: ClientPath, entry: os.DirEntry[str]) -> bool:
    """Tell whether a folder listing shows `entry`: no links, no hidden roots."""
    if entry.is_symlink() or not access.is_visible(path):
        return False
    return entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False)


def _apply_attributes(target: Path | int, attr: paramiko.SFTPAttributes) -> None:
    """Apply the size and times of `attr` to a path or an open descriptor.

    Owner and permission changes are ignored: the deposit decides those.
    """
    if attr._flags & attr.FLAG_SIZE:
        os.truncate(target, attr.st_size)
    if attr._flags & attr.FLAG_AMTIME:
        os.utime(target, (attr.st_atime, attr.st_mtime))


class DepositFile(paramiko.SFTPHandle):  # type: ignore[misc]
    """An open file of an SFTP session, read and written at explicit offsets.

    `on_release` runs whenever the file is closed. `on_complete` runs after
    it only when the client closed the file, and not when the connection
    dropped while the file was open. `drop_after` None writes everything;
    otherwise only the first `drop_after` bytes of the file are written and
    a write past them calls `drop_connection` instead. A write request longer
    than `max_write` (when not None) calls `drop_connection` too.
    """

    def __init__(
        self,
        descriptor: int,
        flags: int,
        path: ClientPath,
        *,
        on_release: Callable[[], None] | None = None,
        on_complete: Callable[[], None] | None = None,
        drop_after: int | None = None,
        drop_connection: Callable[[], None] | None = None,
        max_write: int | None = None,
    ) -> None:
        super().__init__(flags)
        self.descriptor = descriptor
        self.append = bool(flags & os.O_APPEND)
        self.writable = bool(flags & _WRITE_FLAGS)
        self.path = path
        self.on_release = on_release
        self.on_complete = on_complete
        self.drop_after = drop_after
        self.drop_connection = drop_connection
        self.max_write = max_write
        self.dropped = False
        self.closed = False

    def read(self, offset: int, length: int) -> bytes | int:
        try:
            return os.pread(self.descriptor, length, offset)
        except OSError as error:
            return _status_of(error)

    def write(self, offset: int, data: bytes) -> int:
        if not self.writable:
            return SFTP_PERMISSION_DENIED
        if self.dropped:
            return SFTP_FAILURE
        if self.drop_after is not None and offset + len(data) > self.drop_after:
            return self._write_then_drop(offset, data, self.drop_after)
        if self.max_write is not None and len(data) > self.max_write:
            return self._drop_long_write(len(data), self.max_write)
        try:
            if self.append:
                os.write(self.descriptor, data)
            else:
                os.pwrite(self.descriptor, data, offset)
        except OSError as error:
            return _status_of(error)
        return SFTP_OK

    def _write_then_drop(self, offset: int, data: bytes, limit: int) -> int:
        """Write the bytes before `limit`, then close the connection."""
        if offset < limit:
            os.pwrite(self.descriptor, data[: limit - offset], offset)
        logger.warning(
            "dropping the connection after %d bytes of %s (injected fault)",
            limit,
            self.path.text,
        )
        self.dropped = True
        if self.drop_connection is not None:
            self.drop_connection()
        return SFTP_FAILURE

    def _drop_long_write(self, length: int, limit: int) -> int:
        """Close the connection because a write request is longer than `limit`."""
        logger.warning(
            "dropping the connection: a %d-byte write to %s is over the %d-byte "
            "limit (injected fault)",
            length,
            self.path.text,
            limit,
        )
        self.dropped = True
        if self.drop_connection is not None:
            self.drop_connection()
        return SFTP_FAILURE

    def stat(self) -> paramiko.SFTPAttributes | int:
        try:
            return paramiko.SFTPAttributes.from_stat(
                os.fstat(self.descriptor), self.path.name
            )
        except OSError as error:
            return _status_of(error)

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        if not self.writable:
            return SFTP_PERMISSION_DENIED
        try:
            _apply_attributes(self.descriptor, attr)
        except OSError as error:
            return _status_of(error)
        return SFTP_OK

    def abort(self) -> None:
        """Forget `on_complete`, because the client never finished the file."""
        if self.on_complete is not None:
            logger.info("upload of %s interrupted; it is not processed", self.path.text)
        self.on_complete = None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        os.close(self.descriptor)
        if self.on_release is not None:
            self.on_release()
        if self.on_complete is not None:
            self.on_complete()
