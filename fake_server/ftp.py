"""FTP and FTPS front end of the fake deposit, on pyftpdlib.

`DepositFS` serves the deposit folder through the rules of
`fake_server.access`, the same rules as the SFTP front end: clients see
`contacts/` and `reporting/` only, and write only files in `in/` folders and
the import-mode dot-files. A file that a client finishes uploading, or renames
to a visible name, in an `in/` folder is handed to a submit callback; the
front end knows nothing about how files are processed.

`FTPFrontEnd` runs one server, on 127.0.0.1 by default, in a thread of its
own; its passive data ports are on the same address.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.exceptions import FilesystemError
from pyftpdlib.filesystems import AbstractedFS
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer

from fake_server import access
from fake_server.access import AccessError, ClientPath, PathNotFound
from fake_server.tls import CertificateFiles

logger = logging.getLogger(__name__)

# pyftpdlib's loop installs a stderr handler of its own, and turns off the
# thread and process fields of every log record, when the application has
# configured no handler (pyftpdlib 2.x, ioloop.py). A NullHandler prevents it.
logging.getLogger("pyftpdlib").addHandler(logging.NullHandler())

# Called with the real path of a file that a client finished writing.
SubmitCallback = Callable[[Path], None]
# Called with a user name and a password; tells whether they match an account.
PasswordCheck = Callable[[str, str], bool]

# Every FTP permission letter: the access rules, not pyftpdlib, decide.
_ALL_PERMISSIONS = "elradfmwMT"
# How long one turn of the server loop waits for events, in seconds. It
# bounds how long `stop` waits for the loop to notice.
_POLL_SECONDS = 0.05

P = ParamSpec("P")
R = TypeVar("R")


def _as_os_errors(
    method: Callable[Concatenate[DepositFS, P], R],
) -> Callable[Concatenate[DepositFS, P], R]:
    """Turn access rule errors into pyftpdlib's FilesystemError.

    pyftpdlib replies 550 with the text of a FilesystemError, so the client
    reads the path and the reason; for an OSError it sends only the errno's
    standard text.
    """

    @functools.wraps(method)
    def wrapper(self: DepositFS, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except PathNotFound as error:
            logger.debug("%r asked for %s", self.username, error)
            raise FilesystemError(f"No such file or directory: {error}") from error
        except AccessError as error:
            logger.info("rejected request of %r: %s", self.username, error)
            raise FilesystemError(f"Permission denied: {error}") from error

    return wrapper


class DepositFS(AbstractedFS):  # type: ignore[misc]
    """The deposit folder as one FTP session sees it.

    pyftpdlib hands every method a real path below the root; each method maps
    it back to the client's path and applies the access rules to that.
    """

    @property
    def username(self) -> str:
        return str(self.cmd_channel.username)

    def client_path(self, real: str) -> ClientPath:
        return access.parse_client_path(self.fs2ftp(real))

    def checked(self, real: str, *, writing: bool = False) -> str:
        """Return `real` once the client may see it (or write it, if `writing`)."""
        client_path = self.client_path(real)
        if writing:
            access.check_write(client_path)
        return str(access.real_path(Path(self.root), client_path, writing=writing))

    # -- reading -------------------------------------------------------------

    @_as_os_errors
    def chdir(self, path: str) -> None:
        # The default changes the process's working folder, which other
        # threads of the fake server share.
        real = self.checked(path)
        if not stat.S_ISDIR(os.lstat(real).st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory")
        self.cwd = self.fs2ftp(real)

    @_as_os_errors
    def listdir(self, path: str) -> list[str]:
        folder = self.client_path(path)
        with os.scandir(self.checked(path)) as entries:
            return [entry.name for entry in entries if _is_listed(folder, entry)]

    listdirinfo = listdir

    @_as_os_errors
    def stat(self, path: str) -> os.stat_result:
        return os.lstat(self.checked(path))

    # Symbolic links are never followed, so lstat and stat are the same.
    lstat = stat

    @_as_os_errors
    def readlink(self, path: str) -> str:
        raise PathNotFound(self.client_path(path).text, "not a symbolic link")

    def isfile(self, path: str) -> bool:
        return self._has_mode(path, stat.S_ISREG)

    def isdir(self, path: str) -> bool:
        return self._has_mode(path, stat.S_ISDIR)

    def islink(self, path: str) -> bool:
        return False

    def lexists(self, path: str) -> bool:
        return self._has_mode(path, lambda mode: True)

    def getsize(self, path: str) -> int:
        return self.stat(path).st_size

    def getmtime(self, path: str) -> float:
        return self.stat(path).st_mtime

    def _has_mode(self, path: str, test: Callable[[int], bool]) -> bool:
        try:
            return test(self.stat(path).st_mode)
        except (OSError, FilesystemError):
            return False

    # -- writing -------------------------------------------------------------

    @_as_os_errors
    def open(self, filename: str, mode: str) -> Any:
        writing = any(flag in mode for flag in "wa+")
        return open(self.checked(filename, writing=writing), mode)

    @_as_os_errors
    def mkstemp(self, *args: Any, **kwargs: Any) -> Any:
        raise access.PermissionDenied(
            self.cwd, "STOU is not supported; use STOR with a file name"
        )

    @_as_os_errors
    def remove(self, path: str) -> None:
        os.remove(self.checked(path, writing=True))
        logger.info("%r removed %s", self.username, self.client_path(path).text)

    @_as_os_errors
    def rename(self, src: str, dst: str) -> None:
        source, target = self.client_path(src), self.client_path(dst)
        access.check_rename(source, target)
        real_source = access.real_path(Path(self.root), source, writing=True)
        real_target = access.real_path(Path(self.root), target, writing=True)
        # A hard link then an unlink never replaces an existing target,
        # as OpenSSH's SFTP server does.
        os.link(real_source, real_target, follow_symlinks=False)
        os.unlink(real_source)
        logger.info("%r renamed %s to %s", self.username, source.text, target.text)
        if access.is_submitted_upload(target):
            self.cmd_channel.submit_upload(target, real_target)

    @_as_os_errors
    def mkdir(self, path: str) -> None:
        client_path = self.client_path(path)
        if access.is_visible(client_path) and os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, f"{client_path.text} already exists")
        access.check_folder_change(client_path)

    @_as_os_errors
    def rmdir(self, path: str) -> None:
        access.check_folder_change(self.client_path(path))

    @_as_os_errors
    def chmod(self, path: str, mode: int) -> None:
        raise access.PermissionDenied(
            self.client_path(path).text, "the deposit decides file permissions"
        )

    @_as_os_errors
    def utime(self, path: str, timeval: float) -> None:
        os.utime(self.checked(path, writing=True), (timeval, timeval))


def _is_listed(folder: ClientPath, entry: os.DirEntry[str]) -> bool:
    """Tell whether a listing shows `entry`: no links, nothing hidden at the root."""
    if entry.is_symlink() or not access.is_visible(folder.child(entry.name)):
        return False
    return entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False)


class DepositAuthorizer(DummyAuthorizer):  # type: ignore[misc]
    """Log users in against the fake server's accounts, all at the deposit root."""

    def __init__(self, root: Path, check_password: PasswordCheck) -> None:
        super().__init__()
        self._root = str(root)
        self._check_password = check_password

    def validate_authentication(
        self, username: str, password: str, handler: Any
    ) -> None:
        if not self._check_password(username, password):
            logger.info("rejected FTP login of %r", username)
            raise AuthenticationFailed("Authentication failed.")

    def has_user(self, username: str) -> bool:
        return True

    def get_home_dir(self, username: str) -> str:
        return self._root

    def has_perm(self, username: str, perm: str, path: str | None = None) -> bool:
        return True

    def get_perms(self, username: str) -> str:
        return _ALL_PERMISSIONS

    def get_msg_login(self, username: str) -> str:
        return "Welcome to the fake Digitaleo deposit."

    def get_msg_quit(self, username: str) -> str:
        return "Goodbye."


class _DepositHandlerMixin:
    """Hooks shared by the plain and the TLS command handlers."""

    submit: SubmitCallback
    fs: DepositFS
    username: str

    def on_file_received(self, file: str) -> None:
        client_path = self.fs.client_path(file)
        if access.is_submitted_upload(client_path):
            self.submit_upload(client_path, Path(file))

    def on_incomplete_file_received(self, file: str) -> None:
        # The file stays where it is, as on a real server, but the
        # processor is not told about it.
        logger.info("%r did not finish uploading %s", self.username, file)

    def submit_upload(self, client_path: ClientPath, real: Path) -> None:
        logger.info("%r deposited %s", self.username, client_path.text)
        self.submit(real)


class DepositFTPHandler(_DepositHandlerMixin, FTPHandler):  # type: ignore[misc]
    """Plain FTP command handler of the deposit."""


class DepositFTPSHandler(_DepositHandlerMixin, TLS_FTPHandler):  # type: ignore[misc]
    """FTPS command handler of the deposit; TLS is required before login."""

    tls_control_required = True
    tls_data_required = True


class FTPFrontEnd:
    """One FTP or FTPS server over the deposit folder, in its own thread.

    Binds `host`, 127.0.0.1 unless given; port 0 picks a free port, read
    from `port` after `start`. `certificate` turns on FTPS (explicit TLS, required on the
    control and data channels). `masquerade_address`, if given, is the
    address announced in PASV replies instead of 127.0.0.1, to test clients
    that must ignore it.
    """

    def __init__(
        self,
        root: Path,
        check_password: PasswordCheck,
        submit: SubmitCallback,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        certificate: CertificateFiles | None = None,
        masquerade_address: str | None = None,
        handler_base: type[FTPHandler] | None = None,
    ) -> None:
        """Prepare the server; `handler_base` replaces the command handler class."""
        self._root = root.resolve()
        self._host = host
        self._port = port
        self._tls = certificate is not None
        self._handler = _handler_class(
            handler_base,
            self._root,
            check_password,
            submit,
            certificate,
            masquerade_address,
        )
        self._server: FTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the FTP front end is not running; call start() first")
        return int(self._server.address[1])

    @property
    def url(self) -> str:
        """The URL a client connects to, such as `ftps://127.0.0.1:40123/`."""
        scheme = "ftps" if self._tls else "ftp"
        return f"{scheme}://{self._host}:{self.port}/"

    def start(self) -> None:
        """Bind the port and serve in a background thread.

        Raises RuntimeError if already running, OSError if the port is taken.
        """
        if self._server is not None:
            raise RuntimeError(f"the FTP front end already runs on port {self.port}")
        self._server = FTPServer((self._host, self._port), self._handler)
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._serve, name="fake-deposit-ftp", daemon=True
        )
        self._thread.start()
        logger.info("FTP front end listening on %s", self.url)

    def stop(self, timeout: float = 10.0) -> None:
        """Close every connection and the listening socket; waits up to `timeout` s."""
        if self._server is None or self._thread is None:
            return
        self._stopping.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("FTP front end thread still running after %s s", timeout)
        self._server = None
        self._thread = None
        logger.info("FTP front end stopped")

    def _serve(self) -> None:
        server = self._server
        assert server is not None
        try:
            while not self._stopping.is_set():
                # One turn of the loop; serve_forever would log each turn.
                server.ioloop.loop(_POLL_SECONDS, blocking=False)
        finally:
            server.close_all()


def _handler_class(
    base: type[FTPHandler] | None,
    root: Path,
    check_password: PasswordCheck,
    submit: SubmitCallback,
    certificate: CertificateFiles | None,
    masquerade_address: str | None,
) -> type[FTPHandler]:
    """Build a handler class bound to one deposit, as pyftpdlib configures handlers."""
    if base is None:
        base = DepositFTPHandler if certificate is None else DepositFTPSHandler
    attributes: dict[str, Any] = {
        "authorizer": DepositAuthorizer(root, check_password),
        "abstracted_fs": DepositFS,
        "submit": staticmethod(submit),
        "masquerade_address": masquerade_address,
        "banner": "fake Digitaleo deposit ready.",
        # pyftpdlib delays the reply to a failed login by 3 s against password
        # guessing; a short delay keeps tests of wrong passwords fast.
        "auth_failed_timeout": 0.1,
    }
    if certificate is not None:
        attributes["certfile"] = str(certificate.certificate)
        attributes["keyfile"] = str(certificate.key)
        # The class caches its TLS context; a fresh class needs its own.
        attributes["ssl_context"] = None
    return type(f"Bound{base.__name__}", (base,), attributes)
