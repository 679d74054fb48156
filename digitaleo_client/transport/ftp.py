"""FTP and FTPS (explicit TLS) transport on the standard library's ftplib.

Sessions are opened by `ftp_session` (TLS, passive mode, login). Listings use
MLSD and fall back to LIST on servers without it. Names travel as UTF-8
(`OPTS UTF8 ON`).
"""

from __future__ import annotations

import ftplib
import hashlib
import logging
import posixpath
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, NoReturn

from digitaleo_client.config import ConnectionSettings, ParsedUrl, parse_url
from digitaleo_client.errors import (
    DepositConnectionError,
    DigitaleoError,
    RemoteNotFound,
    RemotePermissionDenied,
    TransferError,
)
from digitaleo_client.transport.base import ProgressCallback, RemoteEntry, Transport
from digitaleo_client.transport.ftp_listing import parse_list_line, parse_mlsd_facts
from digitaleo_client.transport.ftp_session import open_session, reply_text

logger = logging.getLogger(__name__)

# A folder listing. Spelled out once here because `Transport.list` shadows
# the built-in `list` inside the class body.
Entries = list[RemoteEntry]
Lines = list[str]

# Bytes per read or write on the data channel.
BLOCK_SIZE = 256 * 1024

# Words of 550 replies that mean "not found" or "not allowed". The reply code
# alone cannot tell them apart, and each server words them its own way.
_NOT_FOUND_WORDS = ("no such", "not found", "does not exist", "doesn't exist")
_DENIED_WORDS = ("permission", "privilege", "denied", "not allowed", "read-only")

# Temporary replies about the connection: service closing, data connection
# failed to open, data connection closed.
_CONNECTION_REPLIES = ("421", "425", "426")


class FTPTransport(Transport):
    """A deposit reached over FTP (`ftp://`) or FTPS with explicit TLS (`ftps://`).

    Remote paths are relative to the URL's path, which is itself relative to
    the login folder, as in RFC 1738 (`ftp://host//srv/deposit` names the
    absolute folder `/srv/deposit`).
    """

    def __init__(
        self, client: ftplib.FTP, url: ParsedUrl, home: str, *, use_mlsd: bool = True
    ) -> None:
        """Wrap a logged-in ftplib client whose login folder is `home`.

        `use_mlsd` False lists folders with LIST, for servers without MLSD.
        """
        super().__init__()
        self._ftp = client
        self._url = url
        self._home = home
        # The URL's first slash separates it from the host; a second one
        # starts an absolute path.
        relative = url.path.removeprefix("/")
        self._root = posixpath.join(home, relative)
        self._use_mlsd = use_mlsd

    @classmethod
    def connect(cls, settings: ConnectionSettings) -> FTPTransport:
        """Connect, secure (for `ftps://`) and log in to the deposit.

        A missing user name logs in as `anonymous`. Raises ConnectTimeout,
        AuthenticationFailed, ConfigurationError for an unreadable CA file,
        and DepositConnectionError for other failures, including a server
        certificate that fails verification.
        """
        url = parse_url(settings.url)
        session = open_session(url, settings)
        logger.info("connected to %s", url.display)
        return cls(session.client, url, session.home, use_mlsd=session.use_mlsd)

    @property
    def display_url(self) -> str:
        return self._url.display

    @property
    def server_identity(self) -> str | None:
        """The TLS certificate's SHA-256 fingerprint in hex; None for plain FTP."""
        sock = self._ftp.sock
        if not isinstance(sock, ssl.SSLSocket):
            return None
        certificate = sock.getpeercert(binary_form=True)
        if certificate is None:
            return None
        digest = hashlib.sha256(certificate).hexdigest().upper()
        pairs = ":".join(
            digest[index : index + 2] for index in range(0, len(digest), 2)
        )
        return f"TLS certificate SHA-256 {pairs}"

    # -- primitives ----------------------------------------------------------

    def list(self, path: str) -> Entries:
        self._check_open()
        with self._translated("list", path):
            if self._use_mlsd:
                entries = self._list_mlsd(path)
                if entries is not None:
                    return entries
            return self._list_plain(path)

    def stat(self, path: str) -> RemoteEntry | None:
        self._check_open()
        folder, name = posixpath.split(path.rstrip("/"))
        if not name:
            return RemoteEntry(name="", size=0, mtime=None, is_dir=True)
        try:
            entries = self.list(folder)
        except RemoteNotFound:
            return None
        return next((entry for entry in entries if entry.name == name), None)

    def put(
        self, source: BinaryIO, path: str, progress: ProgressCallback | None = None
    ) -> int:
        self._check_open()
        counter = _ByteCounter(progress, total=None)
        with self._translated("upload", path):
            self._ftp.storbinary(
                f"STOR {self._absolute(path)}", source, BLOCK_SIZE, counter.add
            )
        return counter.count

    def get(
        self, path: str, target: BinaryIO, progress: ProgressCallback | None = None
    ) -> int:
        self._check_open()
        with self._translated("download", path, must_exist=True):
            counter = _ByteCounter(progress, total=self._size(path))

            def write(block: bytes) -> None:
                target.write(block)
                counter.add(block)

            self._ftp.retrbinary(f"RETR {self._absolute(path)}", write, BLOCK_SIZE)
        return counter.count

    def rename(self, source: str, target: str) -> None:
        # RNTO replaces an existing target on most servers, so look first.
        # NOTE: another client may still create `target` between the two steps.
        self._check_open()
        if self.stat(target) is not None:
            raise TransferError(
                f"cannot rename {source} to {target} on {self.display_url}: "
                "the target already exists; remove it or choose another name",
                path=target,
            )
        with self._translated("rename", source, must_exist=True):
            self._ftp.rename(self._absolute(source), self._absolute(target))

    def remove(self, path: str) -> None:
        self._check_open()
        with self._translated("remove", path, must_exist=True):
            self._ftp.delete(self._absolute(path))

    def mkdir(self, path: str) -> None:
        self._check_open()
        existing = self.stat(path)
        if existing is not None and existing.is_dir:
            return
        with self._translated("create folder", path):
            self._ftp.mkd(self._absolute(path))

    def _close(self) -> None:
        try:
            self._ftp.quit()
        except (OSError, EOFError, ftplib.Error) as error:
            logger.debug(
                "QUIT to %s failed (%s); closing the socket", self.display_url, error
            )
        finally:
            self._ftp.close()

    # -- helpers -------------------------------------------------------------

    def _absolute(self, path: str) -> str:
        return posixpath.join(self._root, path) if path else self._root

    def _list_mlsd(self, path: str) -> Entries | None:
        """List with MLSD; return None when the server does not know MLSD."""
        try:
            lines = list(self._ftp.mlsd(self._absolute(path)))
        except ftplib.error_perm as error:
            if not str(error).startswith(("500", "502", "504")):
                return self._empty_or_raise(path, error)
            logger.info(
                "%s has no MLSD (%s); listing with LIST", self.display_url, error
            )
            self._use_mlsd = False
            return None
        entries = (parse_mlsd_facts(name, facts) for name, facts in lines)
        return [entry for entry in entries if entry is not None]

    def _list_plain(self, path: str) -> Entries:
        # `LIST -a` without a path is the portable way to include dot-files:
        # several servers read `LIST -a folder` as a path named "-a folder".
        lines: Lines = []
        try:
            self._ftp.cwd(self._absolute(path))
        except ftplib.error_perm as error:
            raise self._no_such_folder(path, error) from error
        try:
            self._ftp.retrlines("LIST -a", lines.append)
        except ftplib.error_perm as error:
            # Some servers reply 550 to a listing of an empty folder.
            logger.debug("LIST of %s failed (%s); reading it as empty", path, error)
            lines = []
        finally:
            self._ftp.cwd(self._home)
        entries = (parse_list_line(line) for line in lines)
        return [entry for entry in entries if entry is not None]

    def _empty_or_raise(self, path: str, error: ftplib.error_perm) -> Entries:
        """Read a failed listing as an empty folder when the folder exists.

        Some servers reply 550 to a listing of an empty folder.
        """
        if self._is_folder(path):
            return []
        raise self._no_such_folder(path, error) from error

    def _no_such_folder(self, path: str, error: ftplib.error_perm) -> RemoteNotFound:
        return RemoteNotFound(
            f"cannot list {path or 'the deposit root'} on {self.display_url}: no such "
            f"folder ({reply_text(error)}); check the path and the deposit URL",
            path=path,
        )

    def _exists(self, path: str) -> bool:
        """Tell whether `path` exists; True when that cannot be found out."""
        try:
            return self.stat(path) is not None
        except DigitaleoError as error:
            logger.debug("cannot stat %s (%s)", path, error)
            return True

    def _is_folder(self, path: str) -> bool:
        try:
            self._ftp.cwd(self._absolute(path))
        except ftplib.error_perm:
            return False
        self._ftp.cwd(self._home)
        return True

    def _size(self, path: str) -> int | None:
        try:
            return self._ftp.size(self._absolute(path))
        except ftplib.error_perm:
            return None

    @contextmanager
    def _translated(
        self, operation: str, path: str, *, must_exist: bool = False
    ) -> Iterator[None]:
        """Translate ftplib and socket errors into the SDK's, chaining the original.

        With `must_exist`, a 550 reply that names no cause (vsftpd's "Delete
        operation failed.") is read as "not found" when `path` is missing.
        """
        try:
            yield
        except ftplib.error_perm as error:
            missing = must_exist and _is_vague(error) and not self._exists(path)
            _raise_denial(operation, path, self.display_url, error, missing=missing)
        except ftplib.error_temp as error:
            # 421, 425 and 426 concern the connection itself, so the client's
            # retry policies treat them as connection failures.
            kind = (
                DepositConnectionError
                if reply_text(error).startswith(_CONNECTION_REPLIES)
                else TransferError
            )
            raise kind(
                f"{operation} of {path} on {self.display_url} failed temporarily "
                f"({reply_text(error)}); try again later",
                path=path,
            ) from error
        except (ftplib.error_reply, ftplib.error_proto) as error:
            raise TransferError(
                f"{operation} of {path} on {self.display_url} got an unexpected "
                f"reply ({reply_text(error)}); check that the server speaks FTP",
                path=path,
            ) from error
        except TimeoutError as error:
            raise DepositConnectionError(
                f"{self.display_url} did not respond within {self._ftp.timeout:g} s "
                f"during {operation} of {path}; retry, or raise the operation timeout",
                path=path,
            ) from error
        except (OSError, EOFError) as error:
            raise DepositConnectionError(
                f"connection to {self.display_url} lost during {operation} of "
                f"{path} ({error or type(error).__name__}); reconnect and retry",
                path=path,
            ) from error


class _ByteCounter:
    """Count transferred bytes and report them to a progress callback."""

    def __init__(self, progress: ProgressCallback | None, total: int | None) -> None:
        self.count = 0
        self._progress = progress
        self._total = total

    def add(self, block: bytes) -> None:
        self.count += len(block)
        if self._progress is not None:
            self._progress(self.count, self._total)


def _is_vague(error: ftplib.error_perm) -> bool:
    """Tell whether a 550 reply names neither a missing path nor a denial."""
    lowered = reply_text(error).lower()
    words = (*_NOT_FOUND_WORDS, *_DENIED_WORDS)
    return lowered.startswith("550") and not any(word in lowered for word in words)


def _raise_denial(
    operation: str,
    path: str,
    url: str,
    error: ftplib.error_perm,
    *,
    missing: bool = False,
) -> NoReturn:
    reply = reply_text(error)
    lowered = reply.lower()
    where = f"{operation} of {path} on {url}"
    if any(word in lowered for word in _DENIED_WORDS) or reply.startswith("553"):
        raise RemotePermissionDenied(
            f"{where} was denied ({reply}); the deposit accepts writes only in "
            "in/ folders and the import-mode dot-files",
            path=path,
        ) from error
    if missing or any(word in lowered for word in _NOT_FOUND_WORDS):
        raise RemoteNotFound(
            f"{where} failed: not found ({reply}); check the path and the deposit URL",
            path=path,
        ) from error
    raise TransferError(f"{where} failed ({reply})", path=path) from error
