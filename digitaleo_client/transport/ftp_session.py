"""Opening an FTP or FTPS session with ftplib: TLS, passive mode, login.

Passive mode always connects data channels to the control connection's peer,
whatever address the server puts in its PASV reply: servers behind NAT often
announce a private or wrong address. FTPS verifies the server certificate
(system CAs, or the `ca_file` setting), protects the data channel and resumes
the control channel's TLS session on it, which servers such as vsftpd with
`require_ssl_reuse` demand.
"""

from __future__ import annotations

import ftplib
import logging
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digitaleo_client.config import ConnectionSettings, ParsedUrl
from digitaleo_client.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectTimeout,
    DepositConnectionError,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FTPSession:
    """A logged-in ftplib client, its login folder, and whether it has MLSD."""

    client: ftplib.FTP
    home: str
    use_mlsd: bool


def open_session(url: ParsedUrl, settings: ConnectionSettings) -> FTPSession:
    """Connect, secure (for `ftps://`), log in and set binary mode.

    Raises ConnectTimeout, AuthenticationFailed, ConfigurationError for an
    unreadable CA file, and DepositConnectionError for other failures,
    including a server certificate that fails verification.
    """
    client = _new_client(url, settings)
    try:
        home = _log_in(client, url, settings)
        use_mlsd = _select_mlsd_facts(client, url)
    except BaseException:
        client.close()
        raise
    client.timeout = settings.operation_timeout
    if client.sock is not None:
        client.sock.settimeout(settings.operation_timeout)
    return FTPSession(client, home, use_mlsd)


def reply_text(error: ftplib.Error) -> str:
    """Return the server's reply carried by an ftplib error, such as `550 ...`."""
    return str(error).strip()


def _peer_passive_address(client: ftplib.FTP) -> tuple[str, int]:
    """Send PASV and return the control connection's peer with the given port.

    The address in the reply is ignored: servers behind NAT often announce a
    private or wrong one, and data must never go to another host.
    """
    assert client.sock is not None
    announced, port = ftplib.parse227(client.sendcmd("PASV"))
    peer = str(client.sock.getpeername()[0])
    if announced != peer:
        logger.debug(
            "ignoring address %s in the PASV reply; connecting to %s:%d",
            announced,
            peer,
            port,
        )
    return peer, port


class _NotFTPServer(ftplib.Error):
    """The server greeted with another protocol's banner."""


class _CheckedFTP(ftplib.FTP):
    """An FTP client that fails at once when the server sends an SSH banner."""

    def getline(self) -> str:
        line: str = super().getline()
        # ftplib reads "SSH-2.0-..." as the start of a multi-line reply, since
        # its fourth character is "-", and would wait for its end until timing out.
        if line.startswith("SSH-"):
            raise _NotFTPServer(line.strip())
        return line


class _PlainFTP(_CheckedFTP):
    def makepasv(self) -> tuple[str, int]:
        if self.af != socket.AF_INET:
            return super().makepasv()
        return _peer_passive_address(self)


class _ResumingFTPS(_CheckedFTP, ftplib.FTP_TLS):
    """FTP_TLS whose data channels resume the control channel's TLS session."""

    def makepasv(self) -> tuple[str, int]:
        if self.af != socket.AF_INET:
            return super().makepasv()
        return _peer_passive_address(self)

    def ntransfercmd(
        self, cmd: str, rest: int | str | None = None
    ) -> tuple[socket.socket, int | None]:
        # Only called after PROT P, so every data channel is protected.
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        assert isinstance(self.sock, ssl.SSLSocket)
        data = self.context.wrap_socket(
            conn, server_hostname=self.host, session=self.sock.session
        )
        logger.debug("data channel resumed the TLS session: %s", data.session_reused)
        return data, size


def _new_client(url: ParsedUrl, settings: ConnectionSettings) -> ftplib.FTP:
    if url.scheme == "ftp":
        return _PlainFTP(encoding="utf-8")
    return _ResumingFTPS(context=_tls_context(settings.ca_file), encoding="utf-8")


def _tls_context(ca_file: Path | None) -> ssl.SSLContext:
    if ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(
            f"cannot read the CA file {ca_file} ({error}); give a PEM file of "
            "trusted certificates with --ca-file or DIGITALEO_CA_FILE",
            key="ca_file",
        ) from error


def _log_in(client: ftplib.FTP, url: ParsedUrl, settings: ConnectionSettings) -> str:
    """Connect, secure, log in and set binary mode; return the login folder."""
    secure = isinstance(client, ftplib.FTP_TLS)
    _connect_step(
        lambda: client.connect(url.host, url.port, timeout=settings.connect_timeout),
        url,
        settings,
    )
    if isinstance(client, ftplib.FTP_TLS):
        _connect_step(client.auth, url, settings)
    _connect_step(lambda: _login(client, url, settings), url, settings)
    if isinstance(client, ftplib.FTP_TLS):
        _connect_step(client.prot_p, url, settings)
    if not secure:
        logger.warning(
            "%s uses plain FTP: the password and the files travel unencrypted; "
            "use ftps:// if the server offers it",
            url.display,
        )
    _prefer_utf8(client, url)
    _connect_step(lambda: client.voidcmd("TYPE I"), url, settings)
    home: str = _connect_step(client.pwd, url, settings)
    return home


def _connect_step(
    step: Callable[[], Any], url: ParsedUrl, settings: ConnectionSettings
) -> Any:
    """Run one step of the connection, translating its errors."""
    try:
        return step()
    except TimeoutError as error:
        raise ConnectTimeout(
            f"connecting to {url.display} timed out after {settings.connect_timeout:g} s; "
            "check the host, the port and the firewall, or raise the connect timeout",
            host=url.host,
        ) from error
    except _NotFTPServer as error:
        raise DepositConnectionError(
            f"{url.host}:{url.port} is an SSH server (it greeted with {error}), "
            f"not an FTP server; use sftp://{url.host}:{url.port} as the deposit URL",
            host=url.host,
            transient=False,
        ) from error
    except ssl.SSLCertVerificationError as error:
        raise DepositConnectionError(
            f"the TLS certificate of {url.display} failed verification "
            f"({error.verify_message}); give the CA that signed it with --ca-file "
            "or DIGITALEO_CA_FILE",
            host=url.host,
        ) from error
    except (OSError, EOFError, ftplib.Error) as error:
        raise DepositConnectionError(
            f"cannot connect to {url.display} ({error or type(error).__name__}); "
            "check the host, the port and the scheme (ftp:// or ftps://)",
            host=url.host,
        ) from error


def _login(client: ftplib.FTP, url: ParsedUrl, settings: ConnectionSettings) -> None:
    username = settings.username or url.username or "anonymous"
    try:
        client.login(username, settings.password or "")
    except ftplib.error_perm as error:
        if any(word in reply_text(error).lower() for word in ("tls", "ssl")):
            raise DepositConnectionError(
                f"{url.display} requires TLS before login ({reply_text(error)}); "
                f"use ftps://{url.host}:{url.port}{url.path}",
                host=url.host,
                transient=False,
            ) from error
        raise AuthenticationFailed(
            f"{url.display} rejected the login of {username!r} ({reply_text(error)}); "
            "check the user name and DIGITALEO_PASSWORD",
            host=url.host,
        ) from error


def _features(client: ftplib.FTP) -> set[str]:
    """Return the first word of each feature the server lists in reply to FEAT."""
    try:
        reply = client.sendcmd("FEAT")
    except (ftplib.error_perm, ftplib.error_reply):
        return set()
    lines = reply.splitlines()[1:-1]
    return {line.split()[0].upper() for line in lines if line.strip()}


def _select_mlsd_facts(client: ftplib.FTP, url: ParsedUrl) -> bool:
    """Ask for the MLSD facts the listing reads; tell whether MLSD is available."""
    if "MLST" not in _features(client):
        logger.info("%s does not list MLST among its features; using LIST", url.display)
        return False
    try:
        client.sendcmd("OPTS MLST type;size;modify;")
    except ftplib.error_perm as error:
        # The server then sends its default facts; a missing size reads as 0.
        logger.debug("%s rejected OPTS MLST (%s)", url.display, error)
    return True


def _prefer_utf8(client: ftplib.FTP, url: ParsedUrl) -> None:
    try:
        client.sendcmd("OPTS UTF8 ON")
    except ftplib.error_perm as error:
        # No RFC defines this command; servers that always use UTF-8 may reject it.
        logger.debug("%s rejected OPTS UTF8 ON (%s)", url.display, error)
