"""Deposits served over every transport, for the shared contract suite.

Each deposit is a folder with the published layout on this machine. The
`remote` fixture opens a transport to it over one protocol, and the test
reads and writes the folder directly to check what the transport did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pyftpdlib.handlers import FTPHandler

from digitaleo_client.config import ConnectionSettings
from digitaleo_client.transport import open_transport
from fake_server.ftp import FTPFrontEnd
from fake_server.tls import CertificateFiles, ensure_certificate
from tests.sshd import OpenSSHServer, sshd_missing_reason
from tests.transport.deposits import (
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


TRANSPORT_KINDS = ["local", "ftp", "ftps", "ftp-list", "sftp-openssh"]


@pytest.fixture(params=TRANSPORT_KINDS)
def remote(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    ftp_front_end: Callable[..., FTPFrontEnd],
    certificate: CertificateFiles,
) -> Iterator[Remote]:
    kind: str = request.param
    submitted: list[Path] = []
    if kind in ("local", "sftp-openssh"):
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
