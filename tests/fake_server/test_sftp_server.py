"""FakeServer end to end: real sockets, real processor, paramiko and OpenSSH clients."""

import base64
import errno
import hashlib
import re
import shutil
import subprocess

import paramiko
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from fake_server.clock import ManualClock
from fake_server.config import load_server_config
from fake_server.processor import Processor
from fake_server.server import FakeServer, ServerStateError
from fake_server.sessions import OpenUploads
from fake_server.store import Store

# 2015-11-17 22:50:47 UTC, the deposit time of the published example name.
DEPOSIT_TIME = 1447797847

CONTACTS = b"Email\npierre.dupont@example.com\n"


@pytest.fixture
def server(tmp_path):
    with FakeServer(
        tmp_path / "deposit", clock=ManualClock(DEPOSIT_TIME), password="pw"
    ) as running:
        yield running


@pytest.fixture
def sftp(server, connect_sftp):
    with connect_sftp(server.port, server.known_hosts_path, "crm", "pw") as client:
        yield client


def write_remote(sftp, path, data):
    with sftp.open(path, "wb") as remote:
        remote.write(data)


# -- deposits ------------------------------------------------------------------------


def test_atomic_upload_processed_into_ok(server, sftp):
    write_remote(sftp, "/contacts/import/in/.list.csv.part", CONTACTS)
    sftp.rename("/contacts/import/in/.list.csv.part", "/contacts/import/in/list.csv")

    assert server.processor.wait_idle(10)
    assert sftp.listdir("/contacts/import/in") == []
    assert sftp.listdir("/contacts/import/ok") == ["1447797847_list.csv"]
    assert [(entry["name"], entry["size"]) for entry in server.store.lists()] == [
        ("list", 1)
    ]


def test_visible_upload_processed_on_close(server, sftp):
    write_remote(sftp, "/contacts/import/in/Newsletter.csv", CONTACTS)

    assert server.processor.wait_idle(10)
    assert sftp.listdir("/contacts/import/ok") == ["1447797847_Newsletter.csv"]
    assert [record["stage"] for record in server.store.files()] == ["ok"]


def test_hidden_upload_left_alone(server, sftp):
    write_remote(sftp, "/contacts/import/in/.list.csv.part", CONTACTS)

    assert server.processor.wait_idle(10)
    assert sftp.listdir("/contacts/import/in") == [".list.csv.part"]
    assert server.store.files() == []


def test_file_without_contact_column_goes_to_ko(server, sftp):
    write_remote(sftp, "/contacts/import/in/bad.csv", b"Nom;Ville\nDupont;Rennes\n")

    assert server.processor.wait_idle(10)
    assert sftp.listdir("/contacts/import/ko") == ["1447797847_bad.csv"]
    assert [record["stage"] for record in server.store.files()] == ["ko"]


def test_write_to_ok_denied(sftp):
    with pytest.raises(PermissionError) as caught:
        write_remote(sftp, "/contacts/import/ok/list.csv", CONTACTS)

    assert caught.value.strerror == (
        "/contacts/import/ok/list.csv: read-only; only files in contacts/<action>/in/ "
        "and the import-mode dot-files in contacts/import/ are writable"
    )


# -- what clients are given -----------------------------------------------------------


def test_url_names_user_and_port(server):
    assert server.url == f"sftp://crm@127.0.0.1:{server.port}"
    assert server.username == "crm"
    assert server.password == "pw"
    assert server.port > 0


def test_known_hosts_line_and_fingerprint(server):
    match = re.fullmatch(
        r"\[127\.0\.0\.1\]:(\d+) ssh-ed25519 (AAAA\S+)", server.known_hosts_line
    )

    assert match is not None
    assert int(match.group(1)) == server.port
    digest = hashlib.sha256(base64.b64decode(match.group(2))).digest()
    expected = "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
    assert server.host_key_fingerprint == expected
    assert server.known_hosts_path.read_text() == server.known_hosts_line + "\n"


@pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="needs OpenSSH's ssh-keygen"
)
def test_fingerprint_matches_ssh_keygen(server):
    output = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(server.known_hosts_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert output.split()[1] == server.host_key_fingerprint


def test_ready_info(server):
    assert server.ready_info() == {
        "url": server.url,
        "username": "crm",
        "password": "pw",
        "host_key_fingerprint": server.host_key_fingerprint,
        "known_hosts_line": server.known_hosts_line,
    }


def test_write_known_hosts(server, tmp_path):
    path = server.write_known_hosts(tmp_path / "hosts")

    assert path == tmp_path / "hosts"
    assert path.read_text() == f"{server.known_hosts_line}\n"


def test_host_key_kept_across_restarts(tmp_path):
    with FakeServer(tmp_path / "deposit") as first:
        fingerprint = first.host_key_fingerprint
    with FakeServer(tmp_path / "deposit") as second:
        assert second.host_key_fingerprint == fingerprint


def test_generated_password_logs_in(tmp_path, connect_sftp):
    with FakeServer(tmp_path / "deposit") as server:
        assert server.password is not None
        assert len(server.password) >= 16
        with connect_sftp(
            server.port, server.known_hosts_path, "crm", server.password
        ) as client:
            assert sorted(client.listdir("/")) == ["contacts", "reporting"]


def test_creates_folder_tree(server):
    assert (server.root / "contacts/optoutVOICEMAIL/ko").is_dir()
    assert (server.root / "contacts/delete/in").is_dir()
    assert (server.root / "reporting").is_dir()


# -- lifecycle ------------------------------------------------------------------------


def test_start_twice_raises(server):
    with pytest.raises(ServerStateError) as caught:
        server.start()

    assert str(caught.value) == (
        f"the fake server on {server.root} is running; create a new FakeServer to serve again"
    )


def test_stopped_server_raises(tmp_path):
    server = FakeServer(tmp_path / "deposit")
    server.start()
    server.stop()
    server.stop()

    with pytest.raises(ServerStateError) as caught:
        server.url  # noqa: B018

    assert str(caught.value) == (
        f"the fake server on {server.root} is stopped; create a new FakeServer "
        "on the same root to serve it again"
    )


def test_unstarted_server_raises(tmp_path):
    server = FakeServer(tmp_path / "deposit")

    with pytest.raises(ServerStateError) as caught:
        server.store  # noqa: B018

    assert str(caught.value) == (
        f"the fake server on {server.root} is not started; call start() or use it in "
        "a with block"
    )


def test_stop_closes_connections(tmp_path, connect_sftp, wait_until):
    server = FakeServer(tmp_path / "deposit", password="pw").start()
    with connect_sftp(server.port, server.known_hosts_path, "crm", "pw") as client:
        assert server.connection_count() == 1

        server.stop()
        # The client sees the end of the connection a moment later, in its
        # own reader thread.
        transport = client.get_channel().get_transport()
        wait_until(lambda: not transport.is_active())

        with pytest.raises(OSError) as caught:
            client.listdir("/")
    assert str(caught.value) == "Socket is closed"


def test_port_in_use_raises(server):
    with pytest.raises(OSError) as caught:
        FakeServer(server.root.parent / "other", port=server.port).start()

    assert caught.value.errno == errno.EADDRINUSE


# -- configuration and other clients ----------------------------------------------------


@pytest.fixture
def client_key_files(tmp_path):
    """An Ed25519 key pair in OpenSSH files, as `ssh-keygen` writes them."""
    key = Ed25519PrivateKey.generate()
    private = tmp_path / "id_ed25519"
    private.write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
    )
    private.chmod(0o600)
    public = (
        key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    )
    return private, public


@pytest.fixture
def key_server(tmp_path, client_key_files):
    _, public = client_key_files
    config = tmp_path / "deposit.toml"
    config.write_text(f'[[users]]\nname = "robot"\npublic_key = "{public} robot@crm"\n')
    with FakeServer(
        tmp_path / "deposit", config, clock=ManualClock(DEPOSIT_TIME)
    ) as running:
        yield running


def test_config_file_user_logs_in_by_key(key_server, connect_sftp, client_key_files):
    private, _ = client_key_files
    key = paramiko.Ed25519Key(filename=str(private))

    assert key_server.username == "robot"
    assert key_server.password is None
    assert key_server.url == f"sftp://robot@127.0.0.1:{key_server.port}"
    with connect_sftp(
        key_server.port, key_server.known_hosts_path, "robot", key=key
    ) as client:
        assert sorted(client.listdir("/")) == ["contacts", "reporting"]


@pytest.mark.skipif(shutil.which("sftp") is None, reason="needs OpenSSH's sftp client")
def test_openssh_sftp_client_deposits(key_server, client_key_files, tmp_path):
    private, _ = client_key_files
    local = tmp_path / "Clients.csv"
    local.write_bytes(CONTACTS)
    batch = (
        f"put {local} /contacts/import/in/.Clients.csv.part\n"
        "rename /contacts/import/in/.Clients.csv.part /contacts/import/in/Clients.csv\n"
        f"-put {local} /contacts/import/ok/Clients.csv\n"
    )

    result = subprocess.run(
        [
            "sftp",
            "-b",
            "-",
            "-i",
            str(private),
            "-P",
            str(key_server.port),
            "-o",
            f"UserKnownHostsFile={key_server.known_hosts_path}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "robot@127.0.0.1",
        ],
        input=batch,
        capture_output=True,
        check=False,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0, result.stderr
    assert "Permission denied" in result.stderr
    assert key_server.processor.wait_idle(10)
    assert sorted(
        path.name for path in (key_server.root / "contacts/import/ok").iterdir()
    ) == ["1447797847_Clients.csv"]


# -- files open for writing and the settle scan ------------------------------------------


def test_settle_scan_skips_files_open_for_writing(tmp_path):
    clock = ManualClock(DEPOSIT_TIME)
    uploads = OpenUploads()
    store = Store.for_root(tmp_path)
    processor = Processor(
        tmp_path,
        load_server_config(None, default_password="pw"),
        store,
        clock,
        settle_seconds=5,
        is_open_for_writing=uploads.contains,
    )
    processor.ensure_layout()
    path = tmp_path / "contacts/import/in/list.csv"
    path.write_bytes(CONTACTS)
    uploads.add(path)

    assert processor.scan() == []
    clock.advance(10)
    assert processor.scan() == []
    uploads.discard(path)
    assert processor.scan() == [path]
    store.close()


def test_open_uploads_track_sftp_handles(server, sftp):
    path = server.root.resolve() / "contacts/import/in/list.csv"
    uploads = server._listener.registry.open_uploads

    remote = sftp.open("/contacts/import/in/list.csv", "wb")
    remote.write(CONTACTS)
    remote.flush()
    assert uploads.contains(path)

    remote.close()
    assert not uploads.contains(path)
