"""Host key policies against OpenSSH sshd: known_hosts, pinned, accept-new."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from digitaleo_client.config import ConnectionSettings
from digitaleo_client.errors import ConfigurationError, HostKeyMismatch, UnknownHostKey
from digitaleo_client.transport.hostkeys import known_hosts_name, normalise_fingerprint
from digitaleo_client.transport.sftp import SFTPTransport
from tests.sshd import OpenSSHServer

pytestmark = pytest.mark.sshd

# A valid ed25519 public key that no test server holds.
OTHER_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
)


def connect(settings: ConnectionSettings) -> None:
    with SFTPTransport.connect(settings) as transport:
        transport.list("")


def test_unknown_host_key_rejected(
    sshd: OpenSSHServer, sshd_settings: ConnectionSettings, tmp_path: Path
) -> None:
    empty = tmp_path / "empty_known_hosts"
    expected = sshd.fingerprint("ed25519")

    with pytest.raises(UnknownHostKey) as caught:
        connect(sshd_settings.with_changes(known_hosts=empty))

    message = str(caught.value)
    assert (
        f"host key of [127.0.0.1]:{sshd.port} is unknown: ssh-ed25519 {expected}"
        in message
    )
    assert f"--host-key-fingerprint {expected}" in message
    assert "--accept-new" in message
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1 >> {empty}" in message
    assert caught.value.fingerprint == expected
    assert not empty.exists()


def test_pinned_fingerprint_accepted(
    sshd: OpenSSHServer, sshd_settings: ConnectionSettings, tmp_path: Path
) -> None:
    settings = sshd_settings.with_changes(
        known_hosts=tmp_path / "empty", host_key_fingerprint=sshd.fingerprint("ed25519")
    )

    connect(settings)


def test_wrong_pin_rejected(
    sshd: OpenSSHServer, sshd_settings: ConnectionSettings
) -> None:
    wrong = "SHA256:" + "A" * 43
    expected = sshd.fingerprint("ed25519")

    with pytest.raises(HostKeyMismatch) as caught:
        connect(sshd_settings.with_changes(host_key_fingerprint=wrong))

    message = str(caught.value)
    assert f"is ssh-ed25519 {expected}, not the pinned {wrong}" in message
    assert f"--host-key-fingerprint {expected}" in message


def test_accept_new_then_strict(
    sshd: OpenSSHServer, sshd_settings: ConnectionSettings, tmp_path: Path
) -> None:
    known_hosts = tmp_path / "ssh" / "known_hosts"
    ed25519_line = next(
        line for line in sshd.known_hosts_lines() if "ssh-ed25519" in line
    )

    connect(
        sshd_settings.with_changes(known_hosts=known_hosts, accept_new_host_key=True)
    )
    recorded = known_hosts.read_text()
    connect(sshd_settings.with_changes(known_hosts=known_hosts))

    assert recorded == ed25519_line + "\n"


def test_accept_new_rejects_changed_key(
    sshd: OpenSSHServer, sshd_settings: ConnectionSettings, tmp_path: Path
) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {OTHER_KEY}\n")

    with pytest.raises(HostKeyMismatch) as caught:
        connect(
            sshd_settings.with_changes(
                known_hosts=known_hosts, accept_new_host_key=True
            )
        )

    message = str(caught.value)
    assert f"host key of [127.0.0.1]:{sshd.port} has changed" in message
    assert f"ssh-keygen -R '[127.0.0.1]:{sshd.port}'" in message
    assert known_hosts.read_text() == f"[127.0.0.1]:{sshd.port} {OTHER_KEY}\n"


def test_hashed_known_hosts_accepted(
    sshd: OpenSSHServer, sshd_settings: ConnectionSettings, tmp_path: Path
) -> None:
    known_hosts = sshd.write_known_hosts(tmp_path / "hashed")
    subprocess.run(
        ["ssh-keygen", "-H", "-f", str(known_hosts)], check=True, capture_output=True
    )

    assert "127.0.0.1" not in known_hosts.read_text()
    connect(sshd_settings.with_changes(known_hosts=known_hosts))


def test_recorded_key_type_preferred(
    sshd: OpenSSHServer, sshd_settings: ConnectionSettings, tmp_path: Path
) -> None:
    # The server has ed25519 and ecdsa keys; known_hosts records only ecdsa.
    known_hosts = tmp_path / "ecdsa_only"
    ecdsa_line = next(line for line in sshd.known_hosts_lines() if "ecdsa" in line)
    known_hosts.write_text(ecdsa_line + "\n")

    connect(sshd_settings.with_changes(known_hosts=known_hosts))


def test_entry_for_other_port_ignored(
    sshd: OpenSSHServer, sshd_settings: ConnectionSettings, tmp_path: Path
) -> None:
    known_hosts = tmp_path / "other_port"
    line = sshd.known_hosts_lines()[0].replace(f"]:{sshd.port} ", f"]:{sshd.port + 1} ")
    known_hosts.write_text(line + "\n")

    with pytest.raises(UnknownHostKey) as caught:
        connect(sshd_settings.with_changes(known_hosts=known_hosts))

    assert "is unknown" in str(caught.value)


def test_unreadable_lines_skipped(
    sshd: OpenSSHServer, sshd_settings: ConnectionSettings, tmp_path: Path
) -> None:
    known_hosts = tmp_path / "messy"
    known_hosts.write_text(
        "# a comment\n"
        "[127.0.0.1]:1 ssh-ed25519 not-base64!\n"
        "@cert-authority *.example.com ssh-ed25519 AAAA\n"
        + "\n".join(sshd.known_hosts_lines())
        + "\n"
    )

    connect(sshd_settings.with_changes(known_hosts=known_hosts))


def test_revoked_key_rejected(
    sshd: OpenSSHServer, sshd_settings: ConnectionSettings, tmp_path: Path
) -> None:
    known_hosts = sshd.write_known_hosts(tmp_path / "revoked")
    ed25519 = next(line for line in sshd.known_hosts_lines() if "ssh-ed25519" in line)
    with known_hosts.open("a") as extra:
        extra.write("@revoked * " + ed25519.split(" ", 1)[1] + "\n")
    expected = sshd.fingerprint("ed25519")

    with pytest.raises(HostKeyMismatch) as caught:
        connect(sshd_settings.with_changes(known_hosts=known_hosts))

    assert f"(ssh-ed25519 {expected}) is marked @revoked in {known_hosts}" in str(
        caught.value
    )


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("deposit.example", 22, "deposit.example"),
        ("127.0.0.1", 2222, "[127.0.0.1]:2222"),
    ],
    ids=["default-port", "other-port"],
)
def test_known_hosts_name(host: str, port: int, expected: str) -> None:
    assert known_hosts_name(host, port) == expected


@pytest.mark.parametrize(
    "value",
    ["MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48", "SHA256:short", "nonsense"],
    ids=["md5", "too-short", "no-prefix"],
)
def test_unreadable_pin_rejected(value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        normalise_fingerprint(value)

    assert f"host key fingerprint {value!r} is not a SHA256 fingerprint" in str(
        caught.value
    )
