"""The transport contract, checked over every protocol against a real server.

Each test runs once per transport kind (see `remote` in conftest.py) and
checks the effect on the deposit folder itself, not through the transport.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digitaleo_client.errors import (
    ConfigurationError,
    RemoteNotFound,
    RemotePermissionDenied,
    TransferError,
)
from digitaleo_client.transport import RemoteEntry
from tests.transport.deposits import Remote, read_only_folder

IN = "contacts/import/in"
OK = "contacts/import/ok"
# Larger than two of the largest transfer blocks (1 MiB), so an upload reports
# progress several times before it finishes.
LARGE_SIZE = 2_500_000


def write(remote: Remote, path: str, content: bytes) -> Path:
    local = remote.root / path
    local.write_bytes(content)
    return local


def test_list_files_and_folders(remote: Remote) -> None:
    write(remote, f"{IN}/a.csv", b"abc")
    write(remote, f"{IN}/b.csv", b"")

    entries = sorted(remote.transport.list(IN), key=lambda entry: entry.name)
    folders = {
        entry.name: entry.is_dir for entry in remote.transport.list("contacts/import")
    }

    assert [(entry.name, entry.size, entry.is_dir) for entry in entries] == [
        ("a.csv", 3, False),
        ("b.csv", 0, False),
    ]
    assert folders == {"in": True, "on": True, "ok": True, "ko": True}


def test_list_shows_hidden_files(remote: Remote) -> None:
    write(remote, f"{IN}/.list.csv.part", b"partial")

    assert remote.transport.list_names(IN) == [".list.csv.part"]


def test_list_empty_folder(remote: Remote) -> None:
    assert remote.transport.list("contacts/import/on") == []


def test_list_missing_folder(remote: Remote) -> None:
    with pytest.raises(RemoteNotFound) as caught:
        remote.transport.list("contacts/nowhere")

    assert "contacts/nowhere" in str(caught.value)
    assert caught.value.path == "contacts/nowhere"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"{IN}/a.csv", ("a.csv", 3, False)),
        ("contacts/import/ok", ("ok", None, True)),
        (f"{IN}/missing.csv", None),
        ("contacts/nowhere/missing.csv", None),
    ],
    ids=["file", "folder", "missing-file", "missing-folder"],
)
def test_stat(
    remote: Remote, path: str, expected: tuple[str, int | None, bool] | None
) -> None:
    write(remote, f"{IN}/a.csv", b"abc")

    entry = remote.transport.stat(path)

    if expected is None:
        assert entry is None
        return
    assert entry is not None
    name, size, is_dir = expected
    assert entry.name == name
    assert entry.is_dir is is_dir
    if size is not None:
        assert entry.size == size


def test_upload_content(remote: Remote, tmp_path: Path) -> None:
    content = os.urandom(LARGE_SIZE)
    source = tmp_path / "list.csv"
    source.write_bytes(content)

    sent = remote.transport.upload(source, f"{IN}/list.csv")

    assert sent == LARGE_SIZE
    assert (remote.root / IN / "list.csv").read_bytes() == content
    assert sorted(os.listdir(remote.root / IN)) == ["list.csv"]


def test_upload_writes_hidden_part_first(remote: Remote, tmp_path: Path) -> None:
    source = tmp_path / "list.csv"
    source.write_bytes(os.urandom(LARGE_SIZE))
    folder = remote.root / IN
    seen_during_upload: list[list[str]] = []

    def look_at_folder(sent: int, total: int | None) -> None:
        seen_during_upload.append(sorted(os.listdir(folder)))

    remote.transport.upload(source, f"{IN}/list.csv", progress=look_at_folder)

    assert len(seen_during_upload) >= 2
    assert all(names == [".list.csv.part"] for names in seen_during_upload)
    assert sorted(os.listdir(folder)) == ["list.csv"]


def test_upload_submits_visible_name_once(remote: Remote, tmp_path: Path) -> None:
    if not remote.enforces_access_rules:
        pytest.skip("only the fake server reports finished uploads")
    source = tmp_path / "list.csv"
    source.write_bytes(b"Email\na@example.com\n")

    remote.transport.upload(source, f"{IN}/list.csv")

    assert [path.name for path in remote.submitted] == ["list.csv"]


def test_upload_replaces_leftover_part(remote: Remote, tmp_path: Path) -> None:
    write(remote, f"{IN}/.list.csv.part", b"left by an interrupted run")
    source = tmp_path / "list.csv"
    source.write_bytes(b"Email\n")

    remote.transport.upload(source, f"{IN}/list.csv")

    assert sorted(os.listdir(remote.root / IN)) == ["list.csv"]
    assert (remote.root / IN / "list.csv").read_bytes() == b"Email\n"


@pytest.mark.parametrize(
    "name",
    ["Clients été 2026.csv", "Ñandú-Zoë.csv", "東京 顧客.csv", "emoji 🎉.csv"],
    ids=["latin-accents", "latin-tilde", "cjk", "emoji"],
)
def test_non_ascii_names(remote: Remote, tmp_path: Path, name: str) -> None:
    source = tmp_path / "source.csv"
    source.write_bytes(b"Email\n")

    remote.transport.upload(source, f"{IN}/{name}")

    assert os.listdir(remote.root / IN) == [name]
    assert remote.transport.list_names(IN) == [name]


def test_download(remote: Remote, tmp_path: Path) -> None:
    content = os.urandom(LARGE_SIZE)
    write(remote, f"{OK}/1447797847_list.csv", content)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    target = downloads / "list.csv"
    calls: list[tuple[int, int | None]] = []

    received = remote.transport.download(
        f"{OK}/1447797847_list.csv",
        target,
        lambda done, total: calls.append((done, total)),
    )

    assert received == LARGE_SIZE
    assert target.read_bytes() == content
    assert calls[-1] == (LARGE_SIZE, LARGE_SIZE)
    assert os.listdir(downloads) == ["list.csv"]


def test_download_missing(remote: Remote, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    target = downloads / "list.csv"

    with pytest.raises(RemoteNotFound) as caught:
        remote.transport.download(f"{OK}/missing.csv", target)

    assert f"{OK}/missing.csv" in str(caught.value)
    assert os.listdir(downloads) == []


def test_rename(remote: Remote) -> None:
    write(remote, f"{IN}/.list.csv.part", b"abc")

    remote.transport.rename(f"{IN}/.list.csv.part", f"{IN}/list.csv")

    assert os.listdir(remote.root / IN) == ["list.csv"]


def test_rename_onto_existing_fails(remote: Remote) -> None:
    write(remote, f"{IN}/.list.csv.part", b"new")
    write(remote, f"{IN}/list.csv", b"old")

    with pytest.raises(TransferError) as caught:
        remote.transport.rename(f"{IN}/.list.csv.part", f"{IN}/list.csv")

    assert "already exists" in str(caught.value)
    assert f"{IN}/list.csv" in str(caught.value)
    assert (remote.root / IN / "list.csv").read_bytes() == b"old"
    assert (remote.root / IN / ".list.csv.part").read_bytes() == b"new"


def test_remove(remote: Remote) -> None:
    write(remote, f"{IN}/list.csv", b"abc")

    remote.transport.remove(f"{IN}/list.csv")

    assert os.listdir(remote.root / IN) == []


def test_remove_missing(remote: Remote) -> None:
    with pytest.raises(RemoteNotFound) as caught:
        remote.transport.remove(f"{IN}/missing.csv")

    assert f"{IN}/missing.csv" in str(caught.value)


def test_mkdir_existing_is_no_error(remote: Remote) -> None:
    remote.transport.mkdir(IN)

    assert (remote.root / IN).is_dir()


def test_upload_into_ok_is_denied(remote: Remote, tmp_path: Path) -> None:
    source = tmp_path / "list.csv"
    source.write_bytes(b"Email\n")

    if remote.enforces_access_rules:
        with pytest.raises(RemotePermissionDenied) as caught:
            remote.transport.upload(source, f"{OK}/list.csv")
    else:
        with (
            read_only_folder(remote.root / OK),
            pytest.raises(RemotePermissionDenied) as caught,
        ):
            remote.transport.upload(source, f"{OK}/list.csv")

    assert f"{OK}/.list.csv.part" in str(caught.value)
    assert "in/ folders" in str(caught.value)
    assert os.listdir(remote.root / OK) == []


CLOSED_CALLS = {
    "list": lambda transport, tmp: transport.list(IN),
    "stat": lambda transport, tmp: transport.stat(IN),
    "upload": lambda transport, tmp: transport.upload(
        tmp / "source.csv", f"{IN}/a.csv"
    ),
    "download": lambda transport, tmp: transport.download(f"{IN}/a.csv", tmp / "a.csv"),
    "rename": lambda transport, tmp: transport.rename(f"{IN}/a.csv", f"{IN}/b.csv"),
    "remove": lambda transport, tmp: transport.remove(f"{IN}/a.csv"),
    "mkdir": lambda transport, tmp: transport.mkdir(IN),
    "context": lambda transport, tmp: transport.__enter__(),
}


@pytest.mark.parametrize("call", CLOSED_CALLS.values(), ids=CLOSED_CALLS.keys())
def test_closed_transport_raises(remote: Remote, tmp_path: Path, call) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "source.csv").write_bytes(b"Email\n")
    remote.transport.close()
    remote.transport.close()

    with pytest.raises(ConfigurationError) as caught:
        call(remote.transport, tmp_path)

    assert "is closed" in str(caught.value)
    assert remote.transport.display_url in str(caught.value)
    assert remote.transport.closed


def test_entry_type(remote: Remote) -> None:
    write(remote, f"{IN}/a.csv", b"abc")

    (entry,) = remote.transport.list(IN)

    assert isinstance(entry, RemoteEntry)
    assert entry.mtime is None or entry.mtime > 1_700_000_000
