"""DigitaleoClient's upload, wait and mode over OpenSSH sshd, with a hand-driven deposit.

No processor runs here: the test plays the deposit by moving files between
stage folders whenever the client's injected clock is asked to sleep, so
every poll sees a known state and no real time passes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from digitaleo_client import retry
from digitaleo_client.client import DigitaleoClient, PollPolicy, StageChange, Upload
from digitaleo_client.client.retrying import RetryPolicies
from digitaleo_client.config import ConnectionSettings
from digitaleo_client.deposit import (
    Action,
    ActionFolder,
    ImportMode,
    Media,
    Stage,
    all_remote_folders,
)
from digitaleo_client.errors import (
    ConfigurationError,
    RemoteNotFound,
    TransferError,
    WaitTimeout,
)

pytestmark = pytest.mark.sshd

IMPORT = ActionFolder(Action.IMPORT)


class ScriptedClock:
    """A clock whose sleeps run the next deposit step instead of pausing."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.time = start
        self.sleeps: list[float] = []
        self.steps: list[Callable[[], None]] = []

    def now(self) -> float:
        return self.time

    def monotonic(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.time += seconds
        if self.steps:
            self.steps.pop(0)()


@pytest.fixture
def deposit(sshd_deposit: Path) -> Path:
    for folder in all_remote_folders():
        (sshd_deposit / folder).mkdir(parents=True, exist_ok=True)
    return sshd_deposit


@pytest.fixture
def clock() -> ScriptedClock:
    return ScriptedClock()


@pytest.fixture
def client(
    sshd_settings: ConnectionSettings, deposit: Path, clock: ScriptedClock
) -> Iterator[DigitaleoClient]:
    policy = PollPolicy(initial_interval=0.2, factor=1.5, max_interval=1.0)
    with DigitaleoClient(sshd_settings, clock=clock, poll_policy=policy) as connected:
        yield connected


def move(deposit: Path, source: str, target: str) -> Callable[[], None]:
    def step() -> None:
        os.rename(deposit / source, deposit / target)

    return step


def upload_list(
    client: DigitaleoClient, tmp_path: Path, name: str = "list.csv"
) -> Upload:
    local = tmp_path / "local.csv"
    local.write_bytes(b"Email\npierre.dupont@example.com\n")
    return client.upload(local, IMPORT, name)


def test_upload_publishes_exact_bytes(
    client: DigitaleoClient, deposit: Path, tmp_path: Path
) -> None:
    upload = upload_list(client, tmp_path)

    assert upload.remote_path == "contacts/import/in/list.csv"
    assert upload.size == 32
    assert upload.uploaded_at == 1_800_000_000.0
    assert os.listdir(deposit / "contacts/import/in") == ["list.csv"]
    assert (deposit / "contacts/import/in/list.csv").read_bytes() == (
        b"Email\npierre.dupont@example.com\n"
    )


def test_wait_follows_in_on_ok(
    client: DigitaleoClient, deposit: Path, tmp_path: Path, clock: ScriptedClock
) -> None:
    upload = upload_list(client, tmp_path)
    clock.steps = [
        lambda: None,
        move(
            deposit,
            "contacts/import/in/list.csv",
            "contacts/import/on/1447797847_list.csv",
        ),
        move(
            deposit,
            "contacts/import/on/1447797847_list.csv",
            "contacts/import/ok/1447797847_list.csv",
        ),
    ]
    seen: list[StageChange] = []

    outcome = client.wait(upload, timeout=60, on_stage=seen.append)

    assert [change.stage for change in seen] == [Stage.IN, Stage.ON, Stage.OK]
    assert outcome.stage is Stage.OK
    assert outcome.remote_path == "contacts/import/ok/1447797847_list.csv"
    assert outcome.picked_up_at == 1447797847.0
    assert outcome.list_name == "list"
    assert clock.sleeps == [0.2, 0.3, 0.45]
    assert outcome.finished_at == pytest.approx(1_800_000_000.95)


def test_wait_ignores_older_file_of_same_name(
    client: DigitaleoClient, deposit: Path, tmp_path: Path, clock: ScriptedClock
) -> None:
    # An earlier push of list.csv succeeded; this one ends in ko/, with a
    # server timestamp far behind the client's clock.
    (deposit / "contacts/import/ok/1447000000_list.csv").write_bytes(b"old")
    upload = upload_list(client, tmp_path)
    clock.steps = [
        move(deposit, "contacts/import/in/list.csv", "contacts/import/ko/1000_list.csv")
    ]

    outcome = client.wait(upload, timeout=60)

    assert upload.earlier_names == frozenset({"1447000000_list.csv"})
    assert outcome.stage is Stage.KO
    assert outcome.remote_path == "contacts/import/ko/1000_list.csv"
    assert outcome.picked_up_at == 1000.0


def test_wait_times_out_with_last_stage(
    client: DigitaleoClient, tmp_path: Path, clock: ScriptedClock
) -> None:
    upload = upload_list(client, tmp_path)

    with pytest.raises(WaitTimeout) as caught:
        client.wait(upload, timeout=3)

    message = str(caught.value)
    assert (
        "list.csv reached neither ok/ nor ko/ within 3 s (last seen in in/)" in message
    )
    assert "--timeout" in message
    assert caught.value.details["stage"] == "in"
    # 0.2 + 0.3 + 0.45 + 0.675 + 1.0 = 2.625, then the 0.375 s left.
    assert clock.sleeps == [0.2, 0.3, 0.45, 0.675, 1.0, 0.375]


def test_upload_rejects_waiting_file(
    client: DigitaleoClient, deposit: Path, tmp_path: Path
) -> None:
    (deposit / "contacts/import/in/list.csv").write_bytes(b"waiting")

    with pytest.raises(TransferError) as caught:
        upload_list(client, tmp_path)

    assert "contacts/import/in/list.csv already waits on sftp://" in str(caught.value)
    assert (deposit / "contacts/import/in/list.csv").read_bytes() == b"waiting"


def test_push_as_is_without_wait(
    client: DigitaleoClient, deposit: Path, tmp_path: Path
) -> None:
    local = tmp_path / "Clients.csv"
    local.write_bytes(b"Email\nsylvie.martin@example.com\n")
    (deposit / "contacts/import/.addToExistingList").write_bytes(b"")

    result = client.push(local, convert=False, wait=False, list_name="Newsletter FR")

    assert result.mode is ImportMode.ADD
    assert result.mode_change is None
    assert result.remote_name == "Newsletter FR.csv"
    assert result.list_name == "Newsletter FR"
    assert [outcome.stage for outcome in result.outcomes] == [Stage.IN]
    assert result.pending
    assert not result.ok
    assert os.listdir(deposit / "contacts/import/in") == ["Newsletter FR.csv"]


def test_push_optout_goes_to_media_folder(
    client: DigitaleoClient, deposit: Path, tmp_path: Path
) -> None:
    local = tmp_path / "stop.csv"
    local.write_bytes(b"Mobile\n0612345678\n")

    result = client.push(
        local, action=Action.OPTOUT, media=Media.SMS, convert=False, wait=False
    )

    assert result.mode is None
    assert result.outcomes[0].remote_path == "contacts/optoutSMS/in/stop.csv"
    assert result.list_name is None
    assert os.listdir(deposit / "contacts/optoutSMS/in") == ["stop.csv"]


@pytest.mark.parametrize(
    ("action", "media", "expected"),
    [
        (Action.OPTOUT, None, "the optout action needs a media; give --media EMAIL"),
        (
            Action.IMPORT,
            Media.SMS,
            "the import action takes no media; drop --media SMS",
        ),
        (
            Action.DELETE,
            Media.EMAIL,
            "the delete action takes no media; drop --media EMAIL",
        ),
    ],
    ids=["optout-without-media", "import-with-media", "delete-with-media"],
)
def test_push_checks_media(
    client: DigitaleoClient,
    tmp_path: Path,
    action: Action,
    media: Media | None,
    expected: str,
) -> None:
    local = tmp_path / "file.csv"
    local.write_bytes(b"Email\na@example.com\n")

    with pytest.raises(ConfigurationError) as caught:
        client.push(local, action=action, media=media, convert=False, wait=False)

    assert expected in str(caught.value)


def test_push_mode_with_other_action(client: DigitaleoClient, tmp_path: Path) -> None:
    local = tmp_path / "file.csv"
    local.write_bytes(b"Email\na@example.com\n")

    with pytest.raises(ConfigurationError) as caught:
        client.push(local, action=Action.DELETE, mode=ImportMode.SYNC, convert=False)

    assert "an import mode applies to imports only, not to delete" in str(caught.value)


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        ([], ImportMode.CREATE),
        ([".createNewList"], ImportMode.CREATE),
        ([".addToExistingList"], ImportMode.ADD),
        ([".syncExistingList"], ImportMode.SYNC),
    ],
    ids=["none", "create", "add", "sync"],
)
def test_get_mode(
    client: DigitaleoClient, deposit: Path, present: list[str], expected: ImportMode
) -> None:
    for name in present:
        (deposit / "contacts/import" / name).write_bytes(b"")

    assert client.get_mode() is expected


def test_get_mode_with_several_files(client: DigitaleoClient, deposit: Path) -> None:
    (deposit / "contacts/import/.addToExistingList").write_bytes(b"")
    (deposit / "contacts/import/.syncExistingList").write_bytes(b"")

    with pytest.raises(ConfigurationError) as caught:
        client.get_mode()

    message = str(caught.value)
    assert (
        "several import mode files (.addToExistingList, .syncExistingList)" in message
    )
    assert "digitaleo mode set" in message


def mode_files(deposit: Path) -> list[str]:
    return sorted(
        name for name in os.listdir(deposit / "contacts/import") if name.startswith(".")
    )


@pytest.mark.parametrize(
    ("present", "mode", "previous", "changed"),
    [
        ([], ImportMode.SYNC, ImportMode.CREATE, True),
        ([".syncExistingList"], ImportMode.SYNC, ImportMode.SYNC, False),
        ([".addToExistingList"], ImportMode.CREATE, ImportMode.ADD, True),
        ([".addToExistingList", ".createNewList"], ImportMode.ADD, None, True),
    ],
    ids=["none-to-sync", "sync-unchanged", "add-to-create", "several-to-add"],
)
def test_set_mode_leaves_one_file(
    client: DigitaleoClient,
    deposit: Path,
    present: list[str],
    mode: ImportMode,
    previous: ImportMode | None,
    changed: bool,
) -> None:
    for name in present:
        (deposit / "contacts/import" / name).write_bytes(b"")

    change = client.set_mode(mode)

    assert mode_files(deposit) == [mode.dotfile]
    assert change.previous is previous
    assert change.changed is changed


def test_closed_client_rejects_calls(
    sshd_settings: ConnectionSettings, deposit: Path
) -> None:
    client = DigitaleoClient(sshd_settings)
    client.close()

    with pytest.raises(ConfigurationError) as caught:
        client.get_mode()

    assert "is closed; create a new DigitaleoClient" in str(caught.value)


def test_find_upload_in_in(
    client: DigitaleoClient, deposit: Path, clock: ScriptedClock
) -> None:
    (deposit / "contacts/import/ok/1447000000_list.csv").write_bytes(b"old")
    (deposit / "contacts/import/in/list.csv").write_bytes(b"new")
    clock.steps = [
        move(deposit, "contacts/import/in/list.csv", "contacts/import/ok/1000_list.csv")
    ]

    upload = client.find_upload("list")
    outcome = client.wait(upload, timeout=60)

    assert upload.earlier_names == frozenset({"1447000000_list.csv"})
    assert upload.uploaded_at is None
    assert outcome.remote_path == "contacts/import/ok/1000_list.csv"
    assert outcome.as_dict()["uploaded_at"] is None


def test_find_upload_takes_newest(client: DigitaleoClient, deposit: Path) -> None:
    (deposit / "contacts/optinSMS/ok/1447000000_list.csv").write_bytes(b"old")
    (deposit / "contacts/optinSMS/ko/1447000900_list.csv").write_bytes(b"new")

    upload = client.find_upload("list.csv", action=Action.OPTIN, media=Media.SMS)
    outcome = client.wait(upload, timeout=60)

    assert upload.earlier_names == frozenset({"1447000000_list.csv"})
    assert outcome.stage is Stage.KO
    assert outcome.remote_path == "contacts/optinSMS/ko/1447000900_list.csv"


def test_find_upload_missing(client: DigitaleoClient) -> None:
    with pytest.raises(RemoteNotFound) as caught:
        client.find_upload("absent")

    assert (
        "no file named absent.csv in the in/, on/, ok/ or ko/ folders of contacts/import/"
        in (str(caught.value))
    )


def test_reconnects_after_dropped_connection(
    client: DigitaleoClient, deposit: Path
) -> None:
    pauses: list[float] = []
    policy = retry.RetryPolicy("read", jitter=0.0, sleep=pauses.append)
    client.retry_policies = RetryPolicies(read=policy)
    (deposit / "contacts/import/.addToExistingList").write_bytes(b"")
    first = client.transport
    # Cut the SSH connection under the client, as a network failure would.
    first._ssh.sock.close()  # type: ignore[attr-defined]

    mode = client.get_mode()

    assert mode is ImportMode.ADD
    assert client.transport is not first
    assert pauses == [1.0]
