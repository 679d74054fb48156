"""What the FTP and FTPS transport does beyond the shared contract.

Passive mode, certificate checks, TLS session reuse, logins and the plain-FTP
warning, each against the fake server's FTP front end on 127.0.0.1.
"""

from __future__ import annotations

import ftplib
import io
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from OpenSSL._util import lib as openssl_lib
from pyftpdlib.handlers import TLS_DTPHandler

from digitaleo_client.config import ConnectionSettings
from digitaleo_client.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectTimeout,
    DepositConnectionError,
    RemoteNotFound,
)
from digitaleo_client.transport import open_transport
from fake_server.ftp import DepositFTPHandler, DepositFTPSHandler, FTPFrontEnd
from fake_server.tls import CertificateFiles, ensure_certificate
from tests.transport.deposits import PASSWORD, USER, ListOnlyFTPHandler, ftp_settings

IN = "contacts/import/in"
# A private address that no test machine reaches: data sent there is lost.
FOREIGN_ADDRESS = "10.255.255.1"

StartFTP = Callable[..., FTPFrontEnd]


def upload_and_list(
    front_end: FTPFrontEnd, certificate: CertificateFiles, tmp_path: Path
) -> list[str]:
    """Upload `list.csv` into contacts/import/in/, then list that folder."""
    source = tmp_path / "list.csv"
    source.write_bytes(b"Email\n")
    with open_transport(
        ftp_settings(front_end, ca_file=certificate.certificate)
    ) as remote:
        remote.upload(source, f"{IN}/list.csv")
        return remote.list_names(IN)


@pytest.fixture
def data_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record the host of every connection ftplib opens, control and data."""
    hosts: list[str] = []
    real_create_connection = socket.create_connection

    def recording(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        hosts.append(address[0])
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(ftplib.socket, "create_connection", recording)
    yield hosts


@pytest.mark.parametrize("secure", [False, True], ids=["ftp", "ftps"])
def test_pasv_foreign_address_ignored(
    ftp_front_end: StartFTP,
    certificate: CertificateFiles,
    data_connections: list[str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    secure: bool,
) -> None:
    front_end = ftp_front_end(
        certificate=certificate if secure else None,
        masquerade_address=FOREIGN_ADDRESS,
    )
    caplog.set_level(logging.DEBUG, logger="digitaleo_client.transport.ftp_session")

    names = upload_and_list(front_end, certificate, tmp_path)

    assert names == ["list.csv"]
    assert len(data_connections) >= 3
    assert set(data_connections) == {"127.0.0.1"}
    assert f"ignoring address {FOREIGN_ADDRESS} in the PASV reply" in caplog.text


def test_ftps_wrong_ca_fails(
    ftp_front_end: StartFTP, certificate: CertificateFiles, tmp_path: Path
) -> None:
    front_end = ftp_front_end(certificate=certificate)
    other_ca = ensure_certificate(tmp_path / "other-ca").certificate

    with pytest.raises(DepositConnectionError) as caught:
        open_transport(ftp_settings(front_end, ca_file=other_ca))

    message = str(caught.value)
    assert type(caught.value) is DepositConnectionError
    assert "TLS certificate" in message
    assert "failed verification" in message
    assert "--ca-file" in message
    assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)


def test_ftps_system_cas_reject_self_signed(
    ftp_front_end: StartFTP, certificate: CertificateFiles
) -> None:
    front_end = ftp_front_end(certificate=certificate)

    with pytest.raises(DepositConnectionError) as caught:
        open_transport(ftp_settings(front_end))

    assert "self-signed certificate" in str(caught.value)
    assert "--ca-file" in str(caught.value)


def test_ftps_unreadable_ca_file(
    ftp_front_end: StartFTP, certificate: CertificateFiles, tmp_path: Path
) -> None:
    front_end = ftp_front_end(certificate=certificate)
    missing = tmp_path / "missing-ca.pem"

    with pytest.raises(ConfigurationError) as caught:
        open_transport(ftp_settings(front_end, ca_file=missing))

    assert str(missing) in str(caught.value)
    assert "--ca-file" in str(caught.value)


class SessionReuseRequiredDTP(TLS_DTPHandler):  # type: ignore[misc]
    """A data channel that, like vsftpd's require_ssl_reuse, drops new TLS sessions."""

    def handle_ssl_established(self) -> None:
        # NOTE: pyOpenSSL has no public call for this; its cffi binding does.
        if not openssl_lib.SSL_session_reused(self.socket._ssl):
            self.cmd_channel.respond(
                "522 SSL connection failed: session reuse required"
            )
            self.close()
            return
        super().handle_ssl_established()


class SessionReuseRequiredHandler(DepositFTPSHandler):
    dtp_handler = SessionReuseRequiredDTP


def test_ftps_data_channel_resumes_session(
    ftp_front_end: StartFTP, certificate: CertificateFiles, tmp_path: Path
) -> None:
    front_end = ftp_front_end(
        certificate=certificate, handler_base=SessionReuseRequiredHandler
    )

    names = upload_and_list(front_end, certificate, tmp_path)

    assert names == ["list.csv"]


def test_reuse_check_rejects_plain_ftplib(
    ftp_front_end: StartFTP, certificate: CertificateFiles
) -> None:
    # Shows that the server above really rejects a data channel that starts
    # a new TLS session, as the standard library's FTP_TLS does.
    front_end = ftp_front_end(
        certificate=certificate, handler_base=SessionReuseRequiredHandler
    )
    context = ssl.create_default_context(cafile=str(certificate.certificate))
    client = ftplib.FTP_TLS(context=context, timeout=5)
    client.connect("127.0.0.1", front_end.port)
    client.login(USER, PASSWORD)
    client.prot_p()

    with pytest.raises((ftplib.error_perm, ssl.SSLError, OSError)):
        client.nlst("/contacts")
    client.close()


def test_wrong_password(ftp_front_end: StartFTP) -> None:
    front_end = ftp_front_end()

    with pytest.raises(AuthenticationFailed) as caught:
        open_transport(ftp_settings(front_end, password="wrong"))

    assert f"login of {USER!r}" in str(caught.value)
    assert "DIGITALEO_PASSWORD" in str(caught.value)


def test_plain_ftp_warns_credentials_in_clear(
    ftp_front_end: StartFTP, caplog: pytest.LogCaptureFixture
) -> None:
    front_end = ftp_front_end()

    with open_transport(ftp_settings(front_end)):
        pass

    warnings = [
        record for record in caplog.records if record.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    assert "password and the files travel unencrypted" in warnings[0].getMessage()
    assert "ftps://" in warnings[0].getMessage()


def test_ftps_does_not_warn(
    ftp_front_end: StartFTP,
    certificate: CertificateFiles,
    caplog: pytest.LogCaptureFixture,
) -> None:
    front_end = ftp_front_end(certificate=certificate)

    with open_transport(ftp_settings(front_end, ca_file=certificate.certificate)):
        pass

    assert [
        record for record in caplog.records if record.levelno >= logging.WARNING
    ] == []


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port once the probe socket is closed.

    with pytest.raises(DepositConnectionError) as caught:
        open_transport(ftp_settings_for_port(port))

    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "check the host, the port" in str(caught.value)


def test_connect_timeout_when_server_is_silent() -> None:
    # A listening socket that never accepts: the TCP handshake completes but
    # no greeting ever comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]

        with pytest.raises(ConnectTimeout) as caught:
            open_transport(ftp_settings_for_port(port, connect_timeout=0.3))

    assert "timed out after 0.3 s" in str(caught.value)


def ftp_settings_for_port(port: int, **changes: object) -> ConnectionSettings:
    settings = ConnectionSettings(
        url=f"ftp://{USER}@127.0.0.1:{port}/", password=PASSWORD
    )
    return settings.with_changes(**changes)


@pytest.mark.parametrize(
    "path",
    ["contacts/import", "contacts/import/", "/contacts/import", "%2Fcontacts/import"],
    ids=["relative", "trailing-slash", "absolute", "absolute-escaped"],
)
def test_url_path_is_deposit_root(ftp_front_end: StartFTP, path: str) -> None:
    # The fake server's login folder is its root, so relative and absolute
    # paths name the same folder there.
    front_end = ftp_front_end()
    settings = ftp_settings(front_end)
    settings = settings.with_changes(url=settings.url + path)

    with open_transport(settings) as remote:
        names = sorted(remote.list_names(""))
        inside = remote.list_names("in")

    assert names == ["in", "ko", "ok", "on"]
    assert inside == []


def test_connection_lost_mid_session(ftp_front_end: StartFTP) -> None:
    front_end = ftp_front_end()
    settings = ftp_settings(front_end)
    remote = open_transport(settings)
    front_end.stop()

    with pytest.raises(DepositConnectionError) as caught:
        remote.list(IN)
    remote.close()

    assert f"connection to {settings.url}" in str(caught.value)
    assert f"lost during list of {IN}" in str(caught.value)
    assert "reconnect and retry" in str(caught.value)


class SilentSizeHandler(DepositFTPHandler):
    """A server that never replies to SIZE, as a stalled server would."""

    def ftp_SIZE(self, path: str) -> None:
        return None


def test_operation_timeout(ftp_front_end: StartFTP, tmp_path: Path) -> None:
    front_end = ftp_front_end(handler_base=SilentSizeHandler)
    # The ftp_front_end fixture serves tmp_path / "deposit".
    (tmp_path / "deposit" / IN / "list.csv").write_bytes(b"Email\n")
    remote = open_transport(ftp_settings(front_end, operation_timeout=0.3))

    with pytest.raises(DepositConnectionError) as caught:
        remote.get(f"{IN}/list.csv", io.BytesIO())
    remote.close()

    assert "did not respond within 0.3 s during download of" in str(caught.value)
    assert "raise the operation timeout" in str(caught.value)


class DataChannelFailsHandler(DepositFTPHandler):
    """A server whose data connections fail, as behind a broken firewall."""

    def ftp_MLSD(self, path: str) -> None:
        self.respond("425 Can't open data connection.")


def test_data_channel_failure_is_connection_error(ftp_front_end: StartFTP) -> None:
    front_end = ftp_front_end(handler_base=DataChannelFailsHandler)
    remote = open_transport(ftp_settings(front_end))

    with pytest.raises(DepositConnectionError) as caught:
        remote.list(IN)
    remote.close()

    assert f"list of {IN}" in str(caught.value)
    assert "failed temporarily (425 Can't open data connection.)" in str(caught.value)


class EmptyFolderRefusedHandler(DepositFTPHandler):
    """A server that replies 550 to a listing of an empty folder, as some do."""

    def ftp_MLSD(self, path: str) -> Any:
        if self.fs.isdir(path) and not self.fs.listdir(path):
            self.respond("550 No files found.")
            return None
        return super().ftp_MLSD(path)

    def ftp_LIST(self, path: str) -> Any:
        if self.fs.isdir(path) and not self.fs.listdir(path):
            self.respond("550 No files found.")
            return None
        return super().ftp_LIST(path)


class EmptyFolderRefusedListOnlyHandler(EmptyFolderRefusedHandler, ListOnlyFTPHandler):
    pass


@pytest.mark.parametrize(
    "handler",
    [EmptyFolderRefusedHandler, EmptyFolderRefusedListOnlyHandler],
    ids=["mlsd", "list"],
)
def test_empty_folder_550_reads_empty(ftp_front_end: StartFTP, handler: type) -> None:
    front_end = ftp_front_end(handler_base=handler)

    with open_transport(ftp_settings(front_end)) as remote:
        empty = remote.list("contacts/import/on")
        with pytest.raises(RemoteNotFound) as caught:
            remote.list("contacts/nowhere")

    assert empty == []
    assert "contacts/nowhere" in str(caught.value)


class VagueRepliesHandler(ListOnlyFTPHandler):
    """A server without MLSD whose 550 replies name no cause, as vsftpd's."""

    def ftp_CWD(self, path: str) -> Any:
        if not self.fs.isdir(path):
            self.respond("550 Failed to change directory.")
            return None
        return super().ftp_CWD(path)

    def ftp_RETR(self, file: str) -> Any:
        if not self.fs.lexists(file):
            self.respond("550 Failed to open file.")
            return None
        return super().ftp_RETR(file)

    def ftp_DELE(self, path: str) -> Any:
        if not self.fs.lexists(path):
            self.respond("550 Delete operation failed.")
            return None
        return super().ftp_DELE(path)


VAGUE_CALLS = {
    "list": (
        lambda remote: remote.list("contacts/nowhere"),
        "550 Failed to change directory.",
    ),
    "download": (
        lambda remote: remote.get(f"{IN}/missing.csv", io.BytesIO()),
        "550 Failed to open file.",
    ),
    "remove": (
        lambda remote: remote.remove(f"{IN}/missing.csv"),
        "550 Delete operation failed.",
    ),
}


@pytest.mark.parametrize(
    ("call", "reply"), VAGUE_CALLS.values(), ids=VAGUE_CALLS.keys()
)
def test_vague_550_on_missing_path(
    ftp_front_end: StartFTP, call: Callable[[Any], object], reply: str
) -> None:
    front_end = ftp_front_end(handler_base=VagueRepliesHandler)
    remote = open_transport(ftp_settings(front_end))

    with pytest.raises(RemoteNotFound) as caught:
        call(remote)
    remote.close()

    assert f"({reply})" in str(caught.value)
    assert "check the path and the deposit URL" in str(caught.value)


@pytest.mark.parametrize("scheme", ["ftp", "ftps"])
def test_ssh_port_named_at_once(scheme: str, digitaleo_fake_server: Any) -> None:
    port = digitaleo_fake_server.port
    settings = ConnectionSettings(
        url=f"{scheme}://{USER}@127.0.0.1:{port}/",
        password=PASSWORD,
        connect_timeout=30.0,
    )

    started = time.monotonic()
    with pytest.raises(DepositConnectionError) as caught:
        open_transport(settings)

    assert time.monotonic() - started < 10.0
    assert f"127.0.0.1:{port} is an SSH server (it greeted with SSH-2.0-" in str(
        caught.value
    )
    assert f"use sftp://127.0.0.1:{port} as the deposit URL" in str(caught.value)
    assert caught.value.details["transient"] is False


def test_ftp_port_named_for_sftp_url(
    ftp_front_end: Callable[..., FTPFrontEnd], tmp_path: Path
) -> None:
    front_end = ftp_front_end()
    port = front_end.port
    settings = ConnectionSettings(
        url=f"sftp://{USER}@127.0.0.1:{port}/",
        password=PASSWORD,
        known_hosts=tmp_path / "known_hosts",
        connect_timeout=30.0,
    )

    started = time.monotonic()
    with pytest.raises(DepositConnectionError) as caught:
        open_transport(settings)

    assert time.monotonic() - started < 10.0
    assert str(caught.value) == (
        f"127.0.0.1:{port} is an FTP server (it greeted with code 220), not an SSH "
        f"server; use ftps://127.0.0.1:{port} or ftp:// as the deposit URL"
    )
    assert caught.value.details["transient"] is False
