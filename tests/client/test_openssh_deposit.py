"""Push and wait through Debian's OpenSSH sshd, with the fake server's processor.

sshd serves a folder in which the fake deposit's processor runs in settle
mode: it takes a visible file of an in/ folder once it stayed unchanged for
a moment. The client pushes converted files and follows them to ok/ or ko/
as it would on a real deposit reached over OpenSSH.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from digitaleo_client.client import DigitaleoClient, PollPolicy
from digitaleo_client.config import ConnectionSettings
from digitaleo_client.deposit import ImportMode, Stage
from fake_server.clock import SystemClock as ServerClock
from fake_server.config import load_server_config
from fake_server.processor import Processor
from fake_server.store import Store

pytestmark = pytest.mark.sshd


@pytest.fixture
def store(sshd_deposit: Path) -> Iterator[Store]:
    store = Store.for_root(sshd_deposit)
    processor = Processor(
        sshd_deposit,
        load_server_config(None, default_password="unused"),
        store,
        ServerClock(),
        settle_seconds=0.2,
    )
    processor.ensure_layout()
    processor.start()
    yield store
    processor.stop()
    store.close()


@pytest.fixture
def client(
    sshd_settings: ConnectionSettings, store: Store
) -> Iterator[DigitaleoClient]:
    policy = PollPolicy(initial_interval=0.1, factor=1.5, max_interval=0.5)
    with DigitaleoClient(sshd_settings, poll_policy=policy) as connected:
        yield connected


def write_export(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def member_emails(store: Store, list_id: int) -> list[str]:
    return sorted(contact["fields"]["Email"] for contact in store.list_members(list_id))


def test_sync_twice_keeps_second_file(
    client: DigitaleoClient, store: Store, tmp_path: Path
) -> None:
    first = write_export(
        tmp_path / "first",
        "clients.csv",
        "Email;Prénom;Nom\n"
        "pierre.dupont@example.com;Pierre;Dupont\n"
        "sylvie.martin@example.com;Sylvie;Martin\n",
    )
    second = write_export(
        tmp_path / "second",
        "clients.csv",
        "Email;Prénom\nsylvie.martin@example.com;Sylvie\nmichel.durand@example.com;Michel\n",
    )

    first_result = client.push(first, mode=ImportMode.SYNC, timeout=30)
    second_result = client.push(second, timeout=30)

    lists = store.lists()
    assert first_result.ok
    assert first_result.mode_change is not None
    assert first_result.mode_change.changed
    assert second_result.ok
    assert second_result.mode is ImportMode.SYNC
    assert second_result.outcomes[0].stage is Stage.OK
    assert [(item["name"], item["size"]) for item in lists] == [("clients", 2)]
    assert member_emails(store, lists[0]["id"]) == [
        "michel.durand@example.com",
        "sylvie.martin@example.com",
    ]


def test_file_without_means_of_contact_ends_in_ko(
    client: DigitaleoClient, store: Store, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"Nom;Ville\nDupont;Rennes\n")

    result = client.push(bad, convert=False, timeout=30)

    assert result.rejected
    assert not result.ok
    assert result.outcomes[0].stage is Stage.KO
    assert result.outcomes[0].remote_path.startswith("contacts/import/ko/")
    assert [record["stage"] for record in store.files()] == ["ko"]
