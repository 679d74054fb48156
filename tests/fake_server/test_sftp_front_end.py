"""The SFTP front end over a real socket, with a paramiko client in the test.

The server here is the front end alone: files it hands to the processor are
recorded instead of processed, so each test checks exactly what was submitted.
"""

import errno
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko
import pytest

from digitaleo_client.deposit import all_remote_folders
from fake_server.sessions import Account, SessionRegistry
from fake_server.ssh import SSHListener, known_hosts_line, load_or_create_host_key

PASSWORD = "correct horse"

READ_ONLY_MESSAGE = (
    "read-only; only files in contacts/<action>/in/ and the import-mode "
    "dot-files in contacts/import/ are writable"
)


class FrontEnd:
    """An SFTP listener over a deposit folder, recording submitted files."""

    def __init__(self, root: Path, accounts: dict[str, Account]) -> None:
        self.root = root
        self.submitted: list[Path] = []
        self._lock = threading.Lock()
        for folder in all_remote_folders():
            (root / folder).mkdir(parents=True, exist_ok=True)
        state = root / ".fake-server"
        state.mkdir()
        (state / "store.sqlite").write_bytes(b"state")
        self.host_key = load_or_create_host_key(state)
        self.registry = SessionRegistry(root, accounts, self._record)
        self.listener = SSHListener("127.0.0.1", 0, self.host_key, self.registry)
        self.known_hosts = root.parent / "known_hosts"
        self.known_hosts.write_text(
            known_hosts_line("127.0.0.1", self.listener.port, self.host_key) + "\n"
        )

    def _record(self, path: Path) -> None:
        with self._lock:
            self.submitted.append(path)


@pytest.fixture
def client_key():
    return paramiko.ECDSAKey.generate()


@pytest.fixture
def front_end(tmp_path, client_key):
    root = tmp_path / "deposit"
    root.mkdir()
    public_key = f"{client_key.get_name()} {client_key.get_base64()} test"
    accounts = {
        "crm": Account.from_config("crm", PASSWORD, None),
        "robot": Account.from_config("robot", None, public_key),
    }
    server = FrontEnd(root, accounts)
    server.listener.start(timeout=5)
    yield server
    server.listener.stop()


@pytest.fixture
def sftp(front_end, connect_sftp):
    with connect_sftp(
        front_end.listener.port, front_end.known_hosts, "crm", PASSWORD
    ) as client:
        yield client


# -- writing in in/ ------------------------------------------------------------


def test_upload_in_in_folder_is_submitted(sftp, front_end, wait_until):
    with sftp.open("/contacts/import/in/list.csv", "wb") as remote:
        remote.write(b"Email\na@example.com\n")

    target = front_end.root / "contacts/import/in/list.csv"
    wait_until(lambda: front_end.submitted == [target])
    assert target.read_bytes() == b"Email\na@example.com\n"


@pytest.mark.parametrize("rename", ["rename", "posix_rename"])
def test_hidden_upload_submitted_on_rename(sftp, front_end, wait_until, rename):
    with sftp.open("contacts/optoutSMS/in/.stop.csv.part", "wb") as remote:
        remote.write(b"Mobile\n0612345678\n")
    assert front_end.submitted == []

    getattr(sftp, rename)(
        "contacts/optoutSMS/in/.stop.csv.part", "contacts/optoutSMS/in/stop.csv"
    )

    target = front_end.root / "contacts/optoutSMS/in/stop.csv"
    wait_until(lambda: front_end.submitted == [target])
    assert sorted(sftp.listdir("contacts/optoutSMS/in")) == ["stop.csv"]


def test_rename_onto_existing_file_fails(sftp, front_end):
    for name in (".a.csv.part", "b.csv"):
        (front_end.root / "contacts/import/in" / name).write_bytes(name.encode())

    with pytest.raises(OSError) as caught:
        sftp.rename("contacts/import/in/.a.csv.part", "contacts/import/in/b.csv")

    assert str(caught.value) == "File exists"
    assert (front_end.root / "contacts/import/in/b.csv").read_bytes() == b"b.csv"


def test_posix_rename_replaces_existing_file(sftp, front_end):
    for name in (".a.csv.part", "b.csv"):
        (front_end.root / "contacts/import/in" / name).write_bytes(name.encode())

    sftp.posix_rename("contacts/import/in/.a.csv.part", "contacts/import/in/b.csv")

    assert (front_end.root / "contacts/import/in/b.csv").read_bytes() == b".a.csv.part"


def test_remove_in_in_folder(sftp, front_end):
    (front_end.root / "contacts/delete/in/.old.part").write_bytes(b"x")

    sftp.remove("/contacts/delete/in/.old.part")

    assert not (front_end.root / "contacts/delete/in/.old.part").exists()


@pytest.mark.parametrize(
    "dotfile", [".createNewList", ".addToExistingList", ".syncExistingList"]
)
def test_mode_dotfile_created_and_removed(sftp, front_end, dotfile):
    sftp.open(f"/contacts/import/{dotfile}", "wb").close()
    assert (front_end.root / "contacts/import" / dotfile).is_file()

    sftp.remove(f"/contacts/import/{dotfile}")

    assert not (front_end.root / "contacts/import" / dotfile).exists()
    assert front_end.submitted == []


def test_interrupted_upload_not_submitted(front_end, connect_sftp, wait_until):
    with connect_sftp(
        front_end.listener.port, front_end.known_hosts, "crm", PASSWORD
    ) as client:
        remote = client.open("/contacts/import/in/cut.csv", "wb")
        remote.write(b"Email\n")
        remote.flush()
        wait_until(
            lambda: (front_end.root / "contacts/import/in/cut.csv").stat().st_size == 6
        )
    # Leaving the block closes the connection with the file still open.

    wait_until(lambda: front_end.registry.sessions() == [])
    assert front_end.submitted == []


# -- what stays read-only --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/contacts/import/ok/list.csv", "/contacts/import/ok/list.csv"),
        ("/contacts/import/on/1_list.csv", "/contacts/import/on/1_list.csv"),
        ("/contacts/optoutSMS/ko/list.csv", "/contacts/optoutSMS/ko/list.csv"),
        ("/contacts/list.csv", "/contacts/list.csv"),
        ("/contacts/import/list.csv", "/contacts/import/list.csv"),
        ("/contacts/import/in/sub/list.csv", "/contacts/import/in/sub/list.csv"),
        ("/reporting/2015-04-27_Daily.zip", "/reporting/2015-04-27_Daily.zip"),
        ("/list.csv", "/list.csv"),
        ("/.fake-server/store.sqlite", "/.fake-server/store.sqlite"),
        ("/contacts/import/in/../../../../tmp/x.csv", "/tmp/x.csv"),
        ("contacts/import/in/../ok/x.csv", "/contacts/import/ok/x.csv"),
        ("/tmp/x.csv", "/tmp/x.csv"),
    ],
    ids=[
        "ok",
        "on",
        "ko",
        "contacts",
        "import-folder",
        "below-in",
        "reporting",
        "root",
        "state-folder",
        "dotdot-out-of-root",
        "dotdot-into-ok",
        "absolute-outside",
    ],
)
def test_write_outside_in_denied(sftp, front_end, tmp_path, path, shown):
    with pytest.raises(PermissionError) as caught:
        sftp.open(path, "wb")

    assert caught.value.errno == errno.EACCES
    assert caught.value.strerror == f"{shown}: {READ_ONLY_MESSAGE}"
    assert not (tmp_path / "x.csv").exists()
    assert (front_end.root / ".fake-server/store.sqlite").read_bytes() == b"state"


def test_remove_in_ok_denied(sftp, front_end):
    (front_end.root / "contacts/import/ok/1_list.csv").write_bytes(b"done")

    with pytest.raises(PermissionError) as caught:
        sftp.remove("/contacts/import/ok/1_list.csv")

    assert (
        caught.value.strerror == f"/contacts/import/ok/1_list.csv: {READ_ONLY_MESSAGE}"
    )
    assert (front_end.root / "contacts/import/ok/1_list.csv").read_bytes() == b"done"


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        (
            "/contacts/import/in/a.csv",
            "/contacts/import/ok/a.csv",
            f"/contacts/import/ok/a.csv: {READ_ONLY_MESSAGE}",
        ),
        (
            "/contacts/import/in/a.csv",
            "/contacts/delete/in/a.csv",
            (
                "/contacts/delete/in/a.csv: a file can only be renamed within its own "
                "folder, /contacts/import/in"
            ),
        ),
    ],
    ids=["into-ok", "other-action"],
)
def test_rename_out_of_in_denied(sftp, front_end, source, target, message):
    (front_end.root / "contacts/import/in/a.csv").write_bytes(b"x")

    with pytest.raises(PermissionError) as caught:
        sftp.rename(source, target)

    assert caught.value.strerror == message
    assert (front_end.root / "contacts/import/in/a.csv").exists()


@pytest.mark.parametrize(
    ("operation", "path"),
    [
        ("mkdir", "/contacts/import/in/sub"),
        ("mkdir", "/contacts/newaction"),
        ("rmdir", "/contacts/import/ko"),
    ],
    ids=["mkdir-in-in", "mkdir-in-contacts", "rmdir"],
)
def test_folder_changes_denied(sftp, front_end, operation, path):
    with pytest.raises(PermissionError) as caught:
        getattr(sftp, operation)(path)

    assert caught.value.strerror == (
        f"{path}: the deposit's folders are fixed; clients cannot add or remove them"
    )
    assert (front_end.root / "contacts/import/ko").is_dir()
    assert not (front_end.root / "contacts/import/in/sub").exists()
    assert not (front_end.root / "contacts/newaction").exists()


def test_mkdir_existing_folder_fails(sftp):
    with pytest.raises(OSError) as caught:
        sftp.mkdir("/contacts/import/in")

    assert str(caught.value) == "/contacts/import/in already exists"


def test_symlink_creation_denied(sftp, front_end):
    with pytest.raises(PermissionError) as caught:
        sftp.symlink("/etc/passwd", "/contacts/import/in/passwd")

    assert caught.value.strerror == (
        "/contacts/import/in/passwd: the deposit does not allow symbolic links"
    )
    assert not os.path.lexists(front_end.root / "contacts/import/in/passwd")


def test_nul_in_path_denied(sftp):
    with pytest.raises(PermissionError) as caught:
        sftp.open("/contacts/import/in/a.csv\x00.txt", "wb")

    assert (
        caught.value.strerror
        == "'/contacts/import/in/a.csv\\x00.txt': the path contains a NUL character"
    )


# -- what the client can see -----------------------------------------------------


def test_root_lists_contacts_and_reporting_only(sftp, front_end):
    (front_end.root / "notes.txt").write_text("private")

    assert sorted(sftp.listdir("/")) == ["contacts", "reporting"]
    assert sorted(sftp.listdir("/..")) == ["contacts", "reporting"]


@pytest.mark.parametrize(
    "path",
    [
        "/.fake-server",
        "/.fake-server/store.sqlite",
        "/contacts/../.fake-server",
        "/etc/passwd",
        "/../etc",
    ],
    ids=[
        "state-folder",
        "store-file",
        "state-through-dotdot",
        "absolute-outside",
        "dotdot-outside",
    ],
)
def test_hidden_paths_not_found(sftp, path):
    with pytest.raises(FileNotFoundError) as caught:
        sftp.stat(path)
    assert caught.value.errno == errno.ENOENT

    with pytest.raises(FileNotFoundError):
        sftp.listdir(path)
    with pytest.raises(FileNotFoundError):
        sftp.open(path, "rb")


def test_canonical_path_stays_in_root(sftp):
    assert sftp.normalize("../../contacts/./import/in/..") == "/contacts/import"


def test_reads_stage_files(sftp, front_end):
    (front_end.root / "contacts/import/ok/1447797847_list.csv").write_bytes(b"Email\n")

    assert sftp.listdir("/contacts/import/ok") == ["1447797847_list.csv"]
    assert sftp.stat("/contacts/import/ok/1447797847_list.csv").st_size == 6
    with sftp.open("/contacts/import/ok/1447797847_list.csv", "rb") as remote:
        assert remote.read() == b"Email\n"


def test_planted_file_symlink_not_followed(sftp, front_end, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    os.symlink(secret, front_end.root / "contacts/import/in/link.csv")

    assert sftp.listdir("/contacts/import/in") == []
    with pytest.raises(FileNotFoundError) as read_error:
        sftp.open("/contacts/import/in/link.csv", "rb")
    with pytest.raises(PermissionError) as write_error:
        sftp.open("/contacts/import/in/link.csv", "wb")

    assert (
        read_error.value.strerror
        == "/contacts/import/in/link.csv: symbolic links are not followed"
    )
    assert (
        write_error.value.strerror
        == "/contacts/import/in/link.csv: symbolic links are not followed"
    )
    assert secret.read_text() == "outside"
    assert front_end.submitted == []


def test_planted_folder_symlink_not_followed(sftp, front_end, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "report.zip").write_bytes(b"zip")
    os.symlink(outside, front_end.root / "reporting/2015-04-27")

    assert sftp.listdir("/reporting") == []
    with pytest.raises(FileNotFoundError) as caught:
        sftp.listdir("/reporting/2015-04-27")
    assert (
        caught.value.strerror
        == "/reporting/2015-04-27: symbolic links are not followed"
    )
    with pytest.raises(FileNotFoundError):
        sftp.open("/reporting/2015-04-27/report.zip", "rb")


# -- authentication and connections ------------------------------------------------


def test_key_login(front_end, connect_sftp, client_key):
    with connect_sftp(
        front_end.listener.port, front_end.known_hosts, "robot", key=client_key
    ) as client:
        assert sorted(client.listdir("/")) == ["contacts", "reporting"]


@pytest.mark.parametrize(
    ("username", "password", "use_other_key", "message"),
    [
        ("crm", "wrong", False, "Authentication failed."),
        ("nobody", PASSWORD, False, "Authentication failed."),
        ("crm", "", False, "Authentication failed."),
        ("robot", None, True, "Authentication failed."),
        ("crm", None, True, "Bad authentication type; allowed types: ['password']"),
    ],
    ids=[
        "wrong-password",
        "unknown-user",
        "empty-password",
        "unknown-key",
        "key-for-password-user",
    ],
)
def test_login_rejected(
    front_end, connect_sftp, username, password, use_other_key, message
):
    key = paramiko.ECDSAKey.generate() if use_other_key else None

    with (
        pytest.raises(paramiko.AuthenticationException) as caught,
        connect_sftp(
            front_end.listener.port, front_end.known_hosts, username, password, key
        ),
    ):
        pass

    assert str(caught.value) == message


def test_many_connections_upload_at_once(front_end, connect_sftp, wait_until):
    def upload(number: int) -> str:
        name = f"list{number}.csv"
        port = front_end.listener.port
        with (
            connect_sftp(port, front_end.known_hosts, "crm", PASSWORD) as client,
            client.open(f"/contacts/import/in/{name}", "wb") as remote,
        ):
            remote.write(f"Email\nn{number}@example.com\n".encode())
        return name

    with ThreadPoolExecutor(max_workers=12) as pool:
        uploaded = list(pool.map(upload, range(12)))

    wait_until(lambda: len(front_end.submitted) == 12)
    assert sorted(path.name for path in front_end.submitted) == sorted(uploaded)


def test_closed_connections_leave_no_threads(front_end, connect_sftp, wait_until):
    threads_before = threading.active_count()

    for _ in range(5):
        with connect_sftp(
            front_end.listener.port, front_end.known_hosts, "crm", PASSWORD
        ) as client:
            client.listdir("/")

    wait_until(lambda: threading.active_count() == threads_before)
    wait_until(lambda: front_end.listener.connection_count() == 0)
    assert front_end.registry.sessions() == []


def test_connections_disable_nagle(front_end, connect_sftp):
    with connect_sftp(front_end.listener.port, front_end.known_hosts, "crm", PASSWORD):
        transports = front_end.listener._transports
        options = [
            transport.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            for transport in transports
        ]

    assert options == [1]
