"""The SFTP transport against Debian's OpenSSH sshd over 127.0.0.1."""

from __future__ import annotations

import io
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from digitaleo_client.config import ConnectionSettings
from digitaleo_client.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectTimeout,
    DepositConnectionError,
    RemoteNotFound,
    TransferError,
)
from digitaleo_client.transport.sftp import LARGE_REQUEST_SIZE, SFTPTransport
from tests.sshd import OpenSSHServer

pytestmark = pytest.mark.sshd


@pytest.fixture
def transport(sshd_settings: ConnectionSettings) -> Iterator[SFTPTransport]:
    with SFTPTransport.connect(sshd_settings) as connected:
        yield connected


@pytest.mark.parametrize(
    "size",
    [0, 1, LARGE_REQUEST_SIZE, LARGE_REQUEST_SIZE + 1, 3 * 1024 * 1024 + 17],
    ids=["empty", "one-byte", "one-request", "request-plus-one", "three-mib-odd"],
)
def test_upload_download_round_trip(
    transport: SFTPTransport, sshd_deposit: Path, tmp_path: Path, size: int
) -> None:
    data = os.urandom(size)
    source = tmp_path / "source.bin"
    source.write_bytes(data)

    sent = transport.upload(source, "file.bin")
    received = transport.download("file.bin", tmp_path / "back.bin")

    assert sent == size
    assert received == size
    assert (sshd_deposit / "file.bin").read_bytes() == data
    assert (tmp_path / "back.bin").read_bytes() == data
    assert sorted(os.listdir(sshd_deposit)) == ["file.bin"]


def test_upload_removes_leftover_part(
    transport: SFTPTransport, sshd_deposit: Path, tmp_path: Path
) -> None:
    (sshd_deposit / ".list.csv.part").write_bytes(b"half a file")
    source = tmp_path / "list.csv"
    source.write_bytes(b"Email\na@example.com\n")

    transport.upload(source, "list.csv")

    assert sorted(os.listdir(sshd_deposit)) == ["list.csv"]


def test_put_reports_progress(transport: SFTPTransport) -> None:
    seen: list[int] = []

    transport.put(
        io.BytesIO(b"x" * 2_500_000),
        "progress.bin",
        lambda done, total: seen.append(done),
    )

    assert seen == [1_048_576, 2_097_152, 2_500_000]


def test_list_and_stat(transport: SFTPTransport, sshd_deposit: Path) -> None:
    (sshd_deposit / "in").mkdir()
    (sshd_deposit / "in" / "a.csv").write_bytes(b"12345")

    entries = {entry.name: entry for entry in transport.list("")}
    file_entry = transport.stat("in/a.csv")

    assert sorted(entries) == ["in"]
    assert entries["in"].is_dir
    assert file_entry is not None
    assert file_entry.size == 5
    assert not file_entry.is_dir
    assert transport.stat("in/missing.csv") is None


def test_list_missing_folder(transport: SFTPTransport) -> None:
    with pytest.raises(RemoteNotFound) as caught:
        transport.list("contacts/import/in")

    assert "contacts/import/in not found on sftp://" in str(caught.value)
    assert isinstance(caught.value.__cause__, OSError)


def test_rename_onto_existing_fails(
    transport: SFTPTransport, sshd_deposit: Path
) -> None:
    (sshd_deposit / "a.csv").write_bytes(b"a")
    (sshd_deposit / "b.csv").write_bytes(b"b")

    with pytest.raises(TransferError) as caught:
        transport.rename("a.csv", "b.csv")

    assert "b.csv already exists" in str(caught.value)
    assert (sshd_deposit / "b.csv").read_bytes() == b"b"


def test_remove_and_mkdir(transport: SFTPTransport, sshd_deposit: Path) -> None:
    (sshd_deposit / "gone.csv").write_bytes(b"a")

    transport.remove("gone.csv")
    transport.mkdir("new")
    transport.mkdir("new")

    assert sorted(os.listdir(sshd_deposit)) == ["new"]


def test_remove_missing_file(transport: SFTPTransport) -> None:
    with pytest.raises(RemoteNotFound) as caught:
        transport.remove("missing.csv")

    assert "missing.csv not found" in str(caught.value)


def test_closed_transport_rejects_calls(sshd_settings: ConnectionSettings) -> None:
    transport = SFTPTransport.connect(sshd_settings)
    transport.close()

    with pytest.raises(ConfigurationError) as caught:
        transport.list("")

    assert "is closed; open a new one" in str(caught.value)


def test_prefers_aes128_gcm(transport: SFTPTransport) -> None:
    assert transport._ssh.local_cipher == "aes128-gcm@openssh.com"


def test_wrong_key_rejected(
    sshd: OpenSSHServer, sshd_settings: ConnectionSettings, tmp_path: Path
) -> None:
    other_key = tmp_path / "other_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_key)],
        check=True,
    )
    settings = sshd_settings.with_changes(key_file=other_key)

    with pytest.raises(AuthenticationFailed) as caught:
        SFTPTransport.connect(settings)

    assert f"rejected the login of {sshd.username} (key {other_key} rejected)" in str(
        caught.value
    )


def test_missing_credentials(sshd_settings: ConnectionSettings) -> None:
    settings = sshd_settings.with_changes(key_file=None, password=None)

    with pytest.raises(ConfigurationError) as caught:
        SFTPTransport.connect(settings)

    assert "no credentials for" in str(caught.value)
    assert "DIGITALEO_PASSWORD" in str(caught.value)


def test_missing_key_file(sshd_settings: ConnectionSettings, tmp_path: Path) -> None:
    settings = sshd_settings.with_changes(key_file=tmp_path / "nowhere")

    with pytest.raises(ConfigurationError) as caught:
        SFTPTransport.connect(settings)

    assert f"private key file {tmp_path / 'nowhere'} not found" in str(caught.value)


def test_connection_refused(sshd_settings: ConnectionSettings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = sshd_settings.with_changes(url=f"sftp://crm@127.0.0.1:{port}")

    with pytest.raises(DepositConnectionError) as caught:
        SFTPTransport.connect(settings)

    assert f"cannot connect to 127.0.0.1:{port}" in str(caught.value)


def test_silent_server_times_out(sshd_settings: ConnectionSettings) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        settings = sshd_settings.with_changes(
            url=f"sftp://crm@127.0.0.1:{port}", connect_timeout=0.5
        )

        with pytest.raises(ConnectTimeout) as caught:
            SFTPTransport.connect(settings)

    assert "did not complete the SSH handshake within 0.5 s" in str(caught.value)


def test_paths_given_as_strings(sshd_settings: ConnectionSettings) -> None:
    assert sshd_settings.key_file is not None
    settings = ConnectionSettings(
        url=sshd_settings.url,
        key_file=str(sshd_settings.key_file),  # type: ignore[arg-type]
        known_hosts=str(sshd_settings.known_hosts),  # type: ignore[arg-type]
        connect_timeout=5.0,
    )

    with SFTPTransport.connect(settings) as transport:
        identity = transport.server_identity

    assert settings.known_hosts == sshd_settings.known_hosts
    assert settings.key_file == sshd_settings.key_file
    assert identity.startswith("ssh-ed25519 SHA256:")
