"""Fixtures of the client tests: an OpenSSH sshd and a deposit folder it serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from digitaleo_client.config import ConnectionSettings
from fake_server.server import FakeServer
from tests.sshd import OpenSSHServer, sshd_missing_reason


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenSSHServer]:
    """An OpenSSH sshd on 127.0.0.1, shared by the tests of one module."""
    reason = sshd_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("sshd")
    with OpenSSHServer(folder, host_key_types=("ed25519", "ecdsa")) as server:
        yield server


@pytest.fixture
def sshd_deposit(tmp_path: Path) -> Path:
    """An empty folder that the tests reach through sshd as the deposit root."""
    root = tmp_path / "deposit"
    root.mkdir()
    return root


@pytest.fixture
def sshd_settings(
    sshd: OpenSSHServer, sshd_deposit: Path, tmp_path: Path
) -> ConnectionSettings:
    """Settings that log in to `sshd` with its client key and trust its host keys."""
    known_hosts = sshd.write_known_hosts(tmp_path / "known_hosts")
    return ConnectionSettings(
        url=sshd.url(sshd_deposit),
        key_file=sshd.client_key,
        known_hosts=known_hosts,
        connect_timeout=5.0,
        operation_timeout=10.0,
    )


@pytest.fixture
def env(digitaleo_fake_server: FakeServer, tmp_path: Path) -> dict[str, str]:
    """Environment that reaches the fake deposit, with no profile file."""
    return {
        "DIGITALEO_URL": digitaleo_fake_server.url,
        "DIGITALEO_PASSWORD": digitaleo_fake_server.password or "",
        "DIGITALEO_KNOWN_HOSTS": str(digitaleo_fake_server.known_hosts_path),
        "DIGITALEO_CONFIG": str(tmp_path / "no-config.toml"),
    }
