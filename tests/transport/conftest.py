"""Deposits served over every transport, for the shared contract suite.

Each deposit is a folder with the published layout on this machine. The
`remote` fixture opens a transport to it over one protocol, and the test
reads and writes the folder directly to check what the transport did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import paramiko
import pytest
from pyftpdlib.handlers import FTPHandler

from digitaleo_client.config import ConnectionSettings
from digitaleo_client.transport import open_transport
from fake_server.ftp import FTPFrontEnd
from fake_server.sessions import Account, SessionRegistry
from fake_server.ssh import SSHListener, known_hosts_line, load_or_create_host_key
from fake_server.tls import CertificateFiles, ensure_certificate
from tests.sshd import OpenSSHServer, sshd_missing_reason
from tests.transport.deposits import (
    PASSWORD,
    USER,
    ListOnlyFTPHandler,
    Remote,
    accept_test_user,
    ftp_settings,
    make_deposit,
)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    return ensure_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def ftp_front_end(
    tmp_path: Path,
) -> Iterator[Callable[..., FTPFrontEnd]]:
    """Start FTP front ends on a deposit in `tmp_path / "deposit"`; stop them after."""
    started: list[FTPFrontEnd] = []

    def start(
        submitted: list[Path] | None = None,
        *,
        certificate: CertificateFiles | None = None,
        handler_base: type[FTPHandler] | None = None,
        masquerade_address: str | None = None,
    ) -> FTPFrontEnd:
        root = make_deposit(tmp_path / "deposit")
        front_end = FTPFrontEnd(
            root,
            accept_test_user,
            (submitted if submitted is not None else []).append,
            certificate=certificate,
            handler_base=handler_base,
            masquerade_address=masquerade_address,
        )
        front_end.start()
        started.append(front_end)
        return front_end

    yield start
    for front_end in started:
        front_end.stop()


@pytest.fixture(scope="session")
def openssh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenSSHServer]:
    """Debian's OpenSSH sshd on 127.0.0.1, shared by the whole session."""
    reason = sshd_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    with OpenSSHServer(tmp_path_factory.mktemp("sshd")) as server:
        yield server


def openssh_settings(
    request: pytest.FixtureRequest, root: Path, tmp_path: Path
) -> ConnectionSettings:
    server: OpenSSHServer = request.getfixturevalue("openssh_server")
    return ConnectionSettings(
        url=server.url(root),
        key_file=server.client_key,
        known_hosts=server.write_known_hosts(tmp_path / "known_hosts"),
        connect_timeout=5.0,
    )


@pytest.fixture(scope="session")
def sftp_host_key(tmp_path_factory: pytest.TempPathFactory) -> paramiko.PKey:
    return load_or_create_host_key(tmp_path_factory.mktemp("sftp-state"))


@pytest.fixture
def sftp_front_end(
    tmp_path: Path, sftp_host_key: paramiko.PKey
) -> Iterator[Callable[[list[Path]], ConnectionSettings]]:
    """Start the fake server's SFTP front end, without its processor, on a deposit.

    Finished uploads are appended to the list given to the starter instead
    of being processed, so the tests see the files stay where they landed.
    """
    listeners: list[SSHListener] = []

    def start(submitted: list[Path]) -> ConnectionSettings:
        root = make_deposit(tmp_path / "deposit").resolve()
        host_key = sftp_host_key
        accounts = {USER: Account(USER, PASSWORD)}
        registry = SessionRegistry(root, accounts, submitted.append)
        listener = SSHListener("127.0.0.1", 0, host_key, registry)
        listener.start(timeout=10)
        listeners.append(listener)
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(
            known_hosts_line("127.0.0.1", listener.port, host_key) + "\n"
        )
        return ConnectionSettings(
            url=f"sftp://{USER}@127.0.0.1:{listener.port}",
            password=PASSWORD,
            known_hosts=known_hosts,
            connect_timeout=5.0,
        )

    yield start
    for listener in listeners:
        listener.stop()


TRANSPORT_KINDS = ["local", "ftp", "ftps", "ftp-list", "sftp-fake", "sftp-openssh"]


@pytest.fixture(params=TRANSPORT_KINDS)
def remote(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    ftp_front_end: Callable[..., FTPFrontEnd],
    certificate: CertificateFiles,
) -> Iterator[Remote]:
    kind: str = request.param
    submitted: list[Path] = []
    if kind == "sftp-fake":
        settings = request.getfixturevalue("sftp_front_end")(submitted)
        root = tmp_path / "deposit"
        enforced = True
    elif kind in ("local", "sftp-openssh"):
        root = make_deposit(tmp_path / "deposit")
        if kind == "local":
            settings = ConnectionSettings(url=f"file://{root}")
        else:
            settings = openssh_settings(request, root, tmp_path)
        enforced = False
    else:
        front_end = ftp_front_end(
            submitted,
            certificate=certificate if kind == "ftps" else None,
            handler_base=ListOnlyFTPHandler if kind == "ftp-list" else None,
        )
        root = tmp_path / "deposit"
        settings = ftp_settings(front_end, ca_file=certificate.certificate)
        enforced = True
    transport = open_transport(settings)
    yield Remote(kind, root, transport, submitted, enforced)
    transport.close()
