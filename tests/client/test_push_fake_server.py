"""Pushing contact files to the fake deposit over SFTP, checked in its store.

Every expectation is worked out by hand from the deposit's rules: create
mode makes a new list per file even when the name exists, add mode adds to
the list named after the file, sync mode leaves exactly the file's contacts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from digitaleo_client.client import DigitaleoClient, PollPolicy
from digitaleo_client.config import ConnectionSettings
from digitaleo_client.contacts.convert import ConvertOptions
from digitaleo_client.deposit import Action, ImportMode, Media, Stage
from digitaleo_client.errors import RemotePermissionDenied
from fake_server.server import FakeServer

PIERRE = "pierre.dupont@example.com"
SYLVIE = "sylvie.martin@example.com"
MICHEL = "michel.durand@example.com"
LUCIE = "lucie.lefevre@example.com"
JEAN = "jean.moreau@example.com"

FIRST_EXPORT = f"Email;Prénom;Nom\n{PIERRE};Pierre;Dupont\n{SYLVIE};Sylvie;Martin\n"
SECOND_EXPORT = f"Email;Prénom\n{SYLVIE};Sylvie\n{MICHEL};Michel\n"
FOUR_CONTACTS = (
    f"Email;Prénom\n{SYLVIE};Sylvie\n{MICHEL};Michel\n{LUCIE};Lucie\n{JEAN};Jean\n"
)


@pytest.fixture
def settings(digitaleo_fake_server: FakeServer) -> ConnectionSettings:
    return ConnectionSettings(
        url=digitaleo_fake_server.url,
        password=digitaleo_fake_server.password,
        known_hosts=digitaleo_fake_server.known_hosts_path,
        connect_timeout=5.0,
    )


@pytest.fixture
def client(settings: ConnectionSettings) -> Iterator[DigitaleoClient]:
    policy = PollPolicy(initial_interval=0.05, factor=1.5, max_interval=0.5)
    with DigitaleoClient(settings, poll_policy=policy) as connected:
        yield connected


def export(tmp_path: Path, folder: str, text: str, name: str = "clients.csv") -> Path:
    path = tmp_path / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def lists_with_members(server: FakeServer) -> list[tuple[str, list[str]]]:
    return [
        (
            item["name"],
            sorted(
                contact["fields"]["Email"]
                for contact in server.store.list_members(item["id"])
            ),
        )
        for item in server.store.lists()
    ]


def mode_files(server: FakeServer) -> list[str]:
    folder = server.root / "contacts" / "import"
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (
            ImportMode.CREATE,
            [("clients", [PIERRE, SYLVIE]), ("clients", [MICHEL, SYLVIE])],
        ),
        (ImportMode.ADD, [("clients", [MICHEL, PIERRE, SYLVIE])]),
        (ImportMode.SYNC, [("clients", [MICHEL, SYLVIE])]),
    ],
    ids=["create-two-lists", "add-union", "sync-second-only"],
)
def test_mode_pushed_twice(
    client: DigitaleoClient,
    digitaleo_fake_server: FakeServer,
    tmp_path: Path,
    mode: ImportMode,
    expected: list[tuple[str, list[str]]],
) -> None:
    first = client.push(export(tmp_path, "first", FIRST_EXPORT), mode=mode, timeout=30)
    second = client.push(
        export(tmp_path, "second", SECOND_EXPORT), mode=mode, timeout=30
    )

    assert first.ok
    assert second.ok
    assert second.mode_change is not None
    assert not second.mode_change.changed
    assert lists_with_members(digitaleo_fake_server) == expected
    assert len(digitaleo_fake_server.store.contacts()) == 3
    assert mode_files(digitaleo_fake_server) == [mode.dotfile]


def test_outcome_names_this_upload(
    client: DigitaleoClient, digitaleo_fake_server: FakeServer, tmp_path: Path
) -> None:
    first = client.push(export(tmp_path, "first", FIRST_EXPORT), timeout=30)
    second = client.push(export(tmp_path, "second", SECOND_EXPORT), timeout=30)

    records = digitaleo_fake_server.store.files()
    assert first.mode is ImportMode.CREATE
    assert [record["stage"] for record in records] == ["ok", "ok"]
    assert first.outcomes[0].remote_path == f"contacts/import/ok/{records[0]['name']}"
    assert second.outcomes[0].remote_path == f"contacts/import/ok/{records[1]['name']}"
    assert second.outcomes[0].list_name == "clients"
    assert second.outcomes[0].finished_at is not None


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (ImportMode.SYNC, [("clients", [JEAN, LUCIE, MICHEL, SYLVIE])]),
        (
            ImportMode.CREATE,
            [("clients", [PIERRE, SYLVIE]), ("clients", [JEAN, LUCIE, MICHEL, SYLVIE])],
        ),
    ],
    ids=["sync", "create"],
)
def test_parts_keep_mode_meaning(
    client: DigitaleoClient,
    digitaleo_fake_server: FakeServer,
    tmp_path: Path,
    mode: ImportMode,
    expected: list[tuple[str, list[str]]],
) -> None:
    client.push(export(tmp_path, "first", FIRST_EXPORT), mode=mode, timeout=30)
    split = ConvertOptions(max_part_bytes=80, zip="never")

    result = client.push(
        export(tmp_path, "second", FOUR_CONTACTS), mode=mode, options=split, timeout=30
    )

    assert result.parts >= 2
    assert result.ok
    assert not result.pending
    assert [outcome.stage for outcome in result.outcomes] == [Stage.OK] * result.parts
    assert lists_with_members(digitaleo_fake_server) == expected
    assert mode_files(digitaleo_fake_server) == [mode.dotfile]
    assert any("add mode" in note for note in result.notes)


def test_bad_file_ends_in_ko(
    client: DigitaleoClient, digitaleo_fake_server: FakeServer, tmp_path: Path
) -> None:
    bad = export(tmp_path, "bad", "Nom;Ville\nDupont;Rennes\n", name="bad.csv")

    result = client.push(bad, convert=False, timeout=30)

    assert result.rejected
    assert not result.pending
    assert result.outcomes[0].stage is Stage.KO
    assert result.outcomes[0].remote_path.startswith("contacts/import/ko/")
    assert result.outcomes[0].remote_path.endswith("_bad.csv")
    assert digitaleo_fake_server.store.lists() == []


def test_optout_applies_to_media(
    client: DigitaleoClient, digitaleo_fake_server: FakeServer, tmp_path: Path
) -> None:
    client.push(export(tmp_path, "first", FIRST_EXPORT), timeout=30)
    stop = export(tmp_path, "stop", f"Email;Nom\n{PIERRE};Dupont\n", name="stop.csv")

    result = client.push(stop, action=Action.OPTOUT, media=Media.EMAIL, timeout=30)

    optouts = {
        contact["fields"]["Email"]: contact["optout"]
        for contact in digitaleo_fake_server.store.contacts()
    }
    assert result.ok
    assert result.outcomes[0].remote_path.startswith("contacts/optoutEMAIL/ok/")
    assert optouts == {PIERRE: ["EMAIL"], SYLVIE: []}


def test_write_to_ok_denied(client: DigitaleoClient, tmp_path: Path) -> None:
    local = export(tmp_path, "ok", FIRST_EXPORT)

    with pytest.raises(RemotePermissionDenied) as caught:
        client.transport.upload(local, "contacts/import/ok/clients.csv")

    assert "denied access to contacts/import/ok/.clients.csv.part" in str(caught.value)
    assert "only the in/ folders and the import mode files" in str(caught.value)


def test_no_wait_push_followed_later(
    client: DigitaleoClient, digitaleo_fake_server: FakeServer, tmp_path: Path
) -> None:
    # The way the README gives to follow a push made with wait=False.
    source = export(tmp_path, "crm", "Email\nzoe@example.com\n", name="Later.csv")

    result = client.push(source, wait=False)
    outcome = client.wait(client.find_upload(result.remote_name), timeout=30)

    assert outcome.stage is Stage.OK
    assert outcome.remote_path.endswith("_Later.csv")
