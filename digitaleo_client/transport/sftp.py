"""SFTP transport on paramiko, tuned for large files.

paramiko's defaults send 32 KiB requests one window at a time, which reaches
about half of OpenSSH's throughput. This transport opens a 64 MiB window
with 256 KiB packets, keeps many 255 KiB requests in flight in both
directions, reads local files 1 MiB at a time and buffers the channel's
incoming data without moving it (sftp_channel.py). 255 KiB is the largest
read and write length that OpenSSH's sftp-server accepts. A server that
rejects such requests gets the whole file again in 32 KiB requests, and one
that drops the connection instead gets them on the next attempt.
"""

from __future__ import annotations

import errno
import logging
import posixpath
import stat
from types import TracebackType
from typing import BinaryIO, NoReturn

import paramiko

from digitaleo_client.config import ConnectionSettings, ParsedUrl, parse_url
from digitaleo_client.errors import (
    ConfigurationError,
    DepositConnectionError,
    RemoteNotFound,
    RemotePermissionDenied,
    TransferError,
)
from digitaleo_client.transport.base import ProgressCallback, RemoteEntry, Transport
from digitaleo_client.transport.hostkeys import HostKeyChecker, fingerprint
from digitaleo_client.transport.sftp_channel import open_sftp_client
from digitaleo_client.transport.sftp_connect import (
    MAX_PACKET_SIZE,
    WINDOW_SIZE,
    authenticate,
    open_ssh,
)
from digitaleo_client.transport.sftp_pipeline import (
    LARGE_REQUEST_SIZE,
    PipelinedReader,
    PipelinedWriter,
)

logger = logging.getLogger(__name__)

# The request size every SFTP server must accept (draft-ietf-secsh-filexfer).
SMALL_REQUEST_SIZE = 32 * 1024
# paramiko (5.1) raises OSError with this message from a channel whose
# connection has dropped.
_CLOSED_SOCKET_MESSAGE = "Socket is closed"

# Servers (host, port) that dropped the connection during an upload in large
# requests. OpenSSH's sftp-server, for one, ends the session on a message over
# its limit, so later connections in this process send small requests there.
_SMALL_REQUEST_SERVERS: set[tuple[str, int]] = set()


class SFTPTransport(Transport):
    """A deposit reached over SFTP. Build it with `SFTPTransport.connect`."""

    def __init__(
        self, ssh: paramiko.Transport, sftp: paramiko.SFTPClient, url: ParsedUrl
    ) -> None:
        super().__init__()
        self._ssh = ssh
        self._sftp = sftp
        self._url = url
        self._root = url.path.rstrip("/")
        self.request_size = (
            SMALL_REQUEST_SIZE
            if (url.host, url.port) in _SMALL_REQUEST_SERVERS
            else LARGE_REQUEST_SIZE
        )

    @classmethod
    def connect(cls, settings: ConnectionSettings) -> SFTPTransport:
        """Connect, verify the host key, log in and open the SFTP session.

        Raises ConfigurationError for a missing user name or credentials,
        ConnectTimeout, UnknownHostKey or HostKeyMismatch, AuthenticationFailed,
        and DepositConnectionError for any other connection failure.
        """
        url = parse_url(settings.url)
        username = settings.username or url.username
        if not username:
            raise ConfigurationError(
                f"no user name for {url.display}; write it in the URL "
                "(sftp://USER@HOST:PORT) or set --user / DIGITALEO_USER",
                key="username",
            )
        checker = HostKeyChecker.from_settings(settings, url.host, url.port)
        ssh = open_ssh(url, settings, checker)
        try:
            authenticate(ssh, url, username, settings)
            sftp = open_sftp_client(ssh, WINDOW_SIZE, MAX_PACKET_SIZE)
            sftp.get_channel().settimeout(settings.operation_timeout)
        except paramiko.SSHException as error:
            ssh.close()
            raise DepositConnectionError(
                f"cannot open an SFTP session on {url.display}: {error}; check that "
                "the server offers the sftp subsystem",
            ) from error
        except BaseException:
            ssh.close()
            raise
        logger.info("connected to %s as %s", url.display, username)
        return cls(ssh, sftp, url)

    @property
    def display_url(self) -> str:
        return self._url.display

    @property
    def server_identity(self) -> str:
        """The host key's type and SHA256 fingerprint, `ssh-ed25519 SHA256:...`."""
        key = self._ssh.get_remote_server_key()
        return f"{key.get_name()} {fingerprint(key)}"

    def _remote(self, path: str) -> str:
        """Return the server path of a path relative to the deposit root."""
        if not self._root:
            return path
        return posixpath.join(self._root, path)

    # -- primitives --------------------------------------------------------

    def list(self, path: str) -> list[RemoteEntry]:
        self._check_open()
        with self._translated(path):
            attributes = self._sftp.listdir_attr(self._remote(path))
        return [_entry(item.filename, item) for item in attributes]

    def stat(self, path: str) -> RemoteEntry | None:
        self._check_open()
        try:
            with self._translated(path):
                attributes = self._sftp.stat(self._remote(path))
        except RemoteNotFound:
            return None
        return _entry(posixpath.basename(path), attributes)

    def put(
        self, source: BinaryIO, path: str, progress: ProgressCallback | None = None
    ) -> int:
        self._check_open()
        start = source.tell()
        try:
            return self._put_with(source, path, progress, self.request_size)
        except DepositConnectionError:
            if self.request_size != SMALL_REQUEST_SIZE:
                self._use_small_requests_next_time(path)
            raise
        except TransferError as error:
            if self.request_size == SMALL_REQUEST_SIZE or not _is_generic_failure(
                error
            ):
                raise
            logger.warning(
                "%s rejected %d-byte write requests (%s); sending %s again in %d-byte requests",
                self.display_url,
                self.request_size,
                error.__cause__,
                path,
                SMALL_REQUEST_SIZE,
            )
            self.request_size = SMALL_REQUEST_SIZE
            _SMALL_REQUEST_SERVERS.add((self._url.host, self._url.port))
            source.seek(start)
            return self._put_with(source, path, progress, self.request_size)

    def get(
        self, path: str, target: BinaryIO, progress: ProgressCallback | None = None
    ) -> int:
        self._check_open()
        with self._translated(path):
            remote = self._sftp.open(self._remote(path), "rb")
            try:
                size = remote.stat().st_size
                received = PipelinedReader(
                    self._sftp, remote.handle, size, self.request_size
                ).copy_to(target, progress)
            except BaseException:
                _close_after_failure(remote)
                raise
            remote.close()
        return received

    def rename(self, source: str, target: str) -> None:
        self._check_open()
        # SSH_FXP_RENAME, unlike posix-rename@openssh.com, fails when the
        # target exists, so an upload never replaces a waiting file.
        if self.stat(target) is not None:
            raise TransferError(
                f"cannot rename {source} to {target} on {self.display_url}: "
                f"{target} already exists; wait until the deposit moves it or "
                "choose another name",
                path=target,
            )
        with self._translated(source):
            self._sftp.rename(self._remote(source), self._remote(target))

    def remove(self, path: str) -> None:
        self._check_open()
        with self._translated(path):
            self._sftp.remove(self._remote(path))

    def mkdir(self, path: str) -> None:
        self._check_open()
        if self.stat(path) is not None:
            return
        with self._translated(path):
            self._sftp.mkdir(self._remote(path))

    def _close(self) -> None:
        try:
            self._sftp.close()
        except (OSError, EOFError, paramiko.SSHException) as error:
            # The connection is already gone; closing it is all that is left.
            logger.debug("SFTP session of %s ended with %r", self.display_url, error)
        finally:
            self._ssh.close()
        logger.debug("closed the connection to %s", self.display_url)

    # -- helpers -------------------------------------------------------------

    def _put_with(
        self,
        source: BinaryIO,
        path: str,
        progress: ProgressCallback | None,
        request_size: int,
    ) -> int:
        with self._translated(path):
            remote = self._sftp.open(self._remote(path), "wb")
            try:
                writer = PipelinedWriter(self._sftp, remote.handle, request_size)
                sent = writer.copy_from(source, progress)
            except BaseException:
                _close_after_failure(remote)
                raise
            remote.close()
        return sent

    def _use_small_requests_next_time(self, path: str) -> None:
        """Make later connections to this server write in small requests."""
        _SMALL_REQUEST_SERVERS.add((self._url.host, self._url.port))
        logger.warning(
            "connection to %s dropped while writing %s in %d-byte requests; later "
            "attempts send %d-byte requests, since some servers close the connection "
            "on requests over their limit",
            self.display_url,
            path,
            self.request_size,
            SMALL_REQUEST_SIZE,
        )

    def _translated(self, path: str) -> _ErrorTranslation:
        return _ErrorTranslation(self.display_url, path)


class _ErrorTranslation:
    """Context manager that turns paramiko and socket errors into ours."""

    def __init__(self, display_url: str, path: str) -> None:
        self.display_url = display_url
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None or isinstance(error, TransferError | DepositConnectionError):
            return
        if isinstance(error, TimeoutError):
            raise TransferError(
                f"{self.display_url} did not respond in time for {self.path}; the "
                "server or the network is slow: retry, or raise the operation timeout",
                path=self.path,
            ) from error
        if isinstance(error, OSError) and str(error) == _CLOSED_SOCKET_MESSAGE:
            raise DepositConnectionError(
                f"connection to {self.display_url} lost during {self.path}; "
                "retry the command",
                path=self.path,
            ) from error
        if isinstance(error, OSError):
            _raise_os_error(self.display_url, self.path, error)
        if isinstance(error, paramiko.SSHException | EOFError):
            # An EOFError from a closed connection has no message of its own.
            reason = str(error) or "the server closed the connection"
            raise DepositConnectionError(
                f"connection to {self.display_url} lost during {self.path}: {reason}; "
                "retry the command",
                path=self.path,
            ) from error


def _close_after_failure(remote: paramiko.SFTPFile) -> None:
    """Close a remote file after a failed transfer, keeping the failure's error.

    On a dropped connection the close fails too, and raised from a `finally`
    its error would replace the first one, Ctrl-C included.
    """
    try:
        remote.close()
    except (OSError, EOFError, paramiko.SSHException) as error:
        logger.debug("closing %s after a failure failed too: %r", remote, error)


def _raise_os_error(display_url: str, path: str, error: OSError) -> NoReturn:
    reason = error.strerror or (str(error.args[0]) if error.args else "failure")
    if error.errno == errno.ENOENT:
        raise RemoteNotFound(
            f"{path} not found on {display_url}; check the deposit layout with "
            "`digitaleo doctor`",
            path=path,
        ) from error
    if error.errno == errno.EACCES:
        raise RemotePermissionDenied(
            f"{display_url} denied access to {path}; only the in/ folders and the "
            "import mode files of the deposit are writable",
            path=path,
        ) from error
    raise TransferError(
        f"{display_url} failed on {path}: {reason}", path=path
    ) from error


def _is_generic_failure(error: TransferError) -> bool:
    """Tell whether a failed write may come from a too large request."""
    cause = error.__cause__
    return (
        type(error) is TransferError
        and isinstance(cause, OSError)
        and cause.errno is None
    )


def _entry(name: str, attributes: paramiko.SFTPAttributes) -> RemoteEntry:
    mode = attributes.st_mode or 0
    return RemoteEntry(
        name=name,
        size=attributes.st_size or 0,
        mtime=float(attributes.st_mtime) if attributes.st_mtime is not None else None,
        is_dir=stat.S_ISDIR(mode),
    )
