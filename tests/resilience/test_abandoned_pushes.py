"""Pushes left open by a killed process: settled against the deposit, not refused.

A push is abandoned when the journal records it as open, on this host, by a
process that no longer exists. The deposit's folders tell whether its file
was published. The rename happened when `in/NAME` exists, or when on/, ok/
or ko/ contains a processed `<ts>_NAME` that was not there before the
upload. The hidden `.NAME.part` alone, or nothing, means it did not.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digitaleo_client.cli import app
from digitaleo_client.deposit import ImportMode
from digitaleo_client.errors import DuplicatePush, ExitCode
from digitaleo_client.journal import MIGRATIONS, Journal, NewPush
from fake_server.server import FakeServer
from tests.resilience.support import (
    cli_env,
    deposit_csv,
    journaled_client,
    list_sizes,
    write_export,
)

CONTENT = deposit_csv(1, 3)
# `sha256sum` of CONTENT's bytes, written to a file by hand.
CONTENT_SHA256 = "23e22d0a6d619b5d813c19098cc4fed4fcae7ff63bb54de84d9e6dd6ce16f871"
IMPORT = Path("contacts/import")


def ended_process_id() -> int:
    """Return the id of a real process that has ended and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def record_open_push(
    journal: Journal,
    server: FakeServer,
    *,
    pid: int,
    host: str | None = None,
    remote_name: str = "clients.csv",
) -> int:
    """Record a push of CONTENT as the pushing process does before its upload."""
    push = NewPush(
        deposit=server.url,
        content_sha256=CONTENT_SHA256,
        source=f"/crm/{remote_name}",
        action="import",
        media=None,
        remote_name=remote_name,
        parts=1,
        mode="add",
        pid=pid,
        host=host or socket.gethostname(),
    )
    return journal.begin_push(push)


def record_part_before_rename(
    journal: Journal,
    push_id: int,
    *,
    earlier: list[str],
    remote_name: str = "clients.csv",
) -> None:
    """Record part 1 as the pushing process does just before its rename."""
    journal.record_upload(
        push_id,
        {
            "part": 1,
            "parts": 1,
            "action": "import",
            "media": None,
            "remote_name": remote_name,
            "uploaded_at": None,
            "size": len(CONTENT),
            "earlier_names": earlier,
            "stage": "in",
            "remote_path": f"contacts/import/in/{remote_name}",
            "confirmed": False,
            "temporary_path": f"contacts/import/in/.{remote_name}.part",
        },
    )


def place(server: FakeServer, files: dict[str, bytes]) -> None:
    """Write files under contacts/import/ behind the server's back.

    The server processes such files only when its `processor.scan()` runs,
    so they stay where they are written.
    """
    for relative, content in files.items():
        path = server.root / IMPORT / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


@pytest.mark.parametrize(
    ("part_recorded", "earlier", "files"),
    [
        (False, [], {"in/.clients.csv.part": CONTENT[:40]}),
        (True, [], {"in/.clients.csv.part": CONTENT}),
        (True, [], {}),
        (
            True,
            ["1600000000_clients.csv"],
            {"ok/1600000000_clients.csv": CONTENT},
        ),
    ],
    ids=[
        "killed-writing-part",
        "killed-before-rename",
        "part-gone",
        "only-older-file-in-ok",
    ],
)
def test_unpublished_push_settled_failed(
    digitaleo_fake_server: FakeServer,
    journal: Journal,
    tmp_path: Path,
    part_recorded: bool,
    earlier: list[str],
    files: dict[str, bytes],
) -> None:
    pid = ended_process_id()
    old_id = record_open_push(journal, digitaleo_fake_server, pid=pid)
    if part_recorded:
        record_part_before_rename(journal, old_id, earlier=earlier)
    place(digitaleo_fake_server, files)
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)

    with journaled_client(digitaleo_fake_server, journal) as client:
        result = client.push(source, convert=False, mode=ImportMode.ADD, timeout=30)

    assert result.ok
    assert result.push_id == old_id + 1
    old = journal.push(old_id)
    assert old is not None
    assert (old.outcome, old.stage, old.uploads) == ("failed", "uploading", [])
    assert old.error == (
        f"process {pid} on {socket.gethostname()} ended before publishing "
        "clients.csv, so the deposit received no file of this push"
    )
    assert old.finished_at is not None
    assert list_sizes(digitaleo_fake_server) == [("clients", 3)]


@pytest.mark.parametrize(
    ("files", "stage", "outcome", "remote_path", "state"),
    [
        (
            {"in/clients.csv": CONTENT},
            "in",
            None,
            "contacts/import/in/clients.csv",
            "last seen in stage in",
        ),
        (
            {
                "ok/1600000000_clients.csv": CONTENT,
                "ok/1700000000_clients.csv": CONTENT,
            },
            "ok",
            "ok",
            "contacts/import/ok/1700000000_clients.csv",
            "ended in ok/",
        ),
        (
            {"ko/1700000000_clients.csv": CONTENT},
            "ko",
            "ko",
            "contacts/import/ko/1700000000_clients.csv",
            None,
        ),
    ],
    ids=["renamed-into-in", "renamed-then-ok", "renamed-then-ko"],
)
def test_renamed_part_confirmed(
    digitaleo_fake_server: FakeServer,
    journal: Journal,
    tmp_path: Path,
    files: dict[str, bytes],
    stage: str,
    outcome: str | None,
    remote_path: str,
    state: str | None,
) -> None:
    old_id = record_open_push(journal, digitaleo_fake_server, pid=ended_process_id())
    record_part_before_rename(journal, old_id, earlier=["1600000000_clients.csv"])
    place(digitaleo_fake_server, files)
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)

    with journaled_client(digitaleo_fake_server, journal) as client:
        if state is None:
            # A file in ko/ changed nothing, so the same content may go again.
            result = client.push(source, convert=False, mode=ImportMode.ADD, timeout=30)
            assert result.push_id == old_id + 1
        else:
            with pytest.raises(DuplicatePush) as caught:
                client.push(source, convert=False, mode=ImportMode.ADD, timeout=30)
            assert f"same content as push {old_id} " in str(caught.value)
            assert f", {state}) to clients.csv" in str(caught.value)
            assert caught.value.details["push_id"] == old_id

    old = journal.push(old_id)
    assert old is not None
    assert (old.stage, old.outcome) == (stage, outcome)
    assert len(old.uploads) == 1
    part = old.uploads[0]
    assert (part["stage"], part["remote_path"], part["confirmed"]) == (
        stage,
        remote_path,
        True,
    )
    assert part["earlier_names"] == ["1600000000_clients.csv"]


@pytest.mark.parametrize(
    ("alive", "host"),
    [(True, None), (False, "another-host.example")],
    ids=["process-alive", "other-host"],
)
def test_push_not_abandoned_still_refused(
    digitaleo_fake_server: FakeServer,
    journal: Journal,
    tmp_path: Path,
    alive: bool,
    host: str | None,
) -> None:
    pid = os.getpid() if alive else ended_process_id()
    old_id = record_open_push(journal, digitaleo_fake_server, pid=pid, host=host)
    record_part_before_rename(journal, old_id, earlier=[])
    place(digitaleo_fake_server, {"in/.clients.csv.part": CONTENT})
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)

    with (
        journaled_client(digitaleo_fake_server, journal) as client,
        pytest.raises(DuplicatePush) as caught,
    ):
        client.push(source, convert=False, mode=ImportMode.ADD, timeout=30)

    assert f"same content as push {old_id} " in str(caught.value)
    assert "last seen in stage uploading" in str(caught.value)
    assert "or push anyway with --force" in str(caught.value)
    old = journal.push(old_id)
    assert old is not None
    assert (old.outcome, old.error, old.stage) == (None, None, "uploading")
    assert [item["confirmed"] for item in old.uploads] == [False]
    assert (old.pid, old.host) == (pid, host or socket.gethostname())
    assert [record.id for record in journal.pushes()] == [old_id]
    assert list_sizes(digitaleo_fake_server) == []


def test_cli_push_after_abandoned_push(
    digitaleo_fake_server: FakeServer, journal: Journal, tmp_path: Path
) -> None:
    renamed = record_open_push(
        journal, digitaleo_fake_server, pid=ended_process_id(), remote_name="a.csv"
    )
    record_part_before_rename(journal, renamed, earlier=[], remote_name="a.csv")
    unpublished = record_open_push(
        journal, digitaleo_fake_server, pid=ended_process_id(), remote_name="b.csv"
    )
    record_part_before_rename(journal, unpublished, earlier=[], remote_name="b.csv")
    place(
        digitaleo_fake_server,
        {"ok/1700000000_a.csv": CONTENT, "in/.b.csv.part": CONTENT},
    )
    env = cli_env(digitaleo_fake_server, tmp_path)
    runs = {
        name: CliRunner().invoke(
            app,
            [
                "push",
                str(write_export(tmp_path / "crm", name, CONTENT)),
                "--no-convert",
                "--mode",
                "add",
                "--json",
            ],
            env=env,
        )
        for name in ("a.csv", "b.csv")
    }

    assert runs["a.csv"].exit_code == ExitCode.DUPLICATE == 7
    error = json.loads(runs["a.csv"].stdout)["error"]
    assert error["type"] == "DuplicatePush"
    assert f"same content as push {renamed} " in error["message"]
    assert "ended in ok/" in error["message"]
    assert runs["b.csv"].exit_code == ExitCode.OK, runs["b.csv"].output
    assert json.loads(runs["b.csv"].stdout)["push_id"] == 3
    outcomes = {record.id: record.outcome for record in journal.pushes()}
    assert outcomes == {renamed: "ok", unpublished: "failed", 3: "ok"}
    assert list_sizes(digitaleo_fake_server) == [("b", 3)]


def test_status_settles_abandoned_pushes(
    digitaleo_fake_server: FakeServer, journal: Journal, tmp_path: Path
) -> None:
    pid = ended_process_id()
    writing = record_open_push(
        journal, digitaleo_fake_server, pid=pid, remote_name="a.csv"
    )
    renamed = record_open_push(
        journal, digitaleo_fake_server, pid=pid, remote_name="b.csv"
    )
    record_part_before_rename(journal, renamed, earlier=[], remote_name="b.csv")
    running = record_open_push(
        journal, digitaleo_fake_server, pid=os.getpid(), remote_name="c.csv"
    )
    place(
        digitaleo_fake_server,
        {"in/.a.csv.part": CONTENT[:40], "in/b.csv": CONTENT},
    )
    env = cli_env(digitaleo_fake_server, tmp_path)

    listed = CliRunner().invoke(app, ["status", "--json"], env=env)
    table = CliRunner().invoke(app, ["status"], env=env)

    assert listed.exit_code == ExitCode.OK, listed.output
    pushes = {item["id"]: item for item in json.loads(listed.stdout)["pushes"]}
    assert (pushes[writing]["outcome"], pushes[writing]["stage"]) == (
        "failed",
        "uploading",
    )
    assert f"process {pid} on " in pushes[writing]["error"]
    assert (pushes[renamed]["outcome"], pushes[renamed]["stage"]) == (None, "in")
    assert pushes[renamed]["uploads"][0]["confirmed"] is True
    assert (pushes[running]["outcome"], pushes[running]["stage"]) == (
        None,
        "uploading",
    )
    assert pushes[running]["pid"] == os.getpid()
    assert table.exit_code == ExitCode.OK
    assert "failed" in table.stdout


@pytest.mark.parametrize(
    ("files", "exit_code", "outcome", "message"),
    [
        (
            {"in/.clients.csv.part": CONTENT},
            ExitCode.USAGE,
            "failed",
            "published no file (failed); push it again",
        ),
        ({"ok/1700000000_clients.csv": CONTENT}, ExitCode.OK, "ok", None),
    ],
    ids=["never-renamed", "renamed-then-ok"],
)
def test_cli_wait_settles_abandoned_push(
    digitaleo_fake_server: FakeServer,
    journal: Journal,
    tmp_path: Path,
    files: dict[str, bytes],
    exit_code: int,
    outcome: str,
    message: str | None,
) -> None:
    old_id = record_open_push(journal, digitaleo_fake_server, pid=ended_process_id())
    record_part_before_rename(journal, old_id, earlier=[])
    place(digitaleo_fake_server, files)
    env = cli_env(digitaleo_fake_server, tmp_path)

    waited = CliRunner().invoke(app, ["wait", str(old_id), "--json"], env=env)

    assert waited.exit_code == exit_code, waited.output
    document = json.loads(waited.stdout)
    if message is None:
        assert document["push"]["outcome"] == outcome
    else:
        assert message in document["error"]["message"]
    old = journal.push(old_id)
    assert old is not None
    assert old.outcome == outcome


def test_older_journal_pushes_never_abandoned(
    digitaleo_fake_server: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "older.sqlite3"
    with sqlite3.connect(path) as db:
        for statements in MIGRATIONS[:3]:
            for statement in statements:
                db.execute(statement)
        db.execute("PRAGMA user_version = 3")
        db.execute(
            "INSERT INTO pushes (deposit, content_sha256, source, action, "
            "remote_name, parts, uploads, stage, created_at, updated_at) VALUES "
            "(?, ?, '/crm/clients.csv', 'import', 'clients.csv', 1, '[]', "
            "'uploading', 0, 0)",
            (digitaleo_fake_server.url, CONTENT_SHA256),
        )
    db.close()
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)

    with Journal(path) as older:
        record = older.push(1)
        with (
            journaled_client(digitaleo_fake_server, older) as client,
            pytest.raises(DuplicatePush) as caught,
        ):
            client.push(source, convert=False, mode=ImportMode.ADD, timeout=30)
        version = older.schema_version

    assert version == 4
    assert record is not None
    assert (record.pid, record.host, record.outcome) == (None, None, None)
    assert "same content as push 1 " in str(caught.value)


# Pushes one file with a journal, then stops at STALL (writes the marker file
# and sleeps) until the test kills it: "upload" after the first MiB of the
# hidden file was sent, "rename" just before the rename, "published" just
# after it, before the push records the part as published.
_PUSHER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from digitaleo_client.client import DigitaleoClient
    from digitaleo_client.client.core import DigitaleoClient as Core
    from digitaleo_client.client.recording import PushRecorder
    from digitaleo_client.config import ConnectionSettings
    from digitaleo_client.deposit import ImportMode
    from digitaleo_client.journal import Journal

    url, known_hosts, journal_path, source, stall, marker = sys.argv[1:]

    def stop_here(*args, **kwargs):
        Path(marker).write_text(str(os.getpid()))
        time.sleep(600)

    if stall == "rename":
        Core._publish = stop_here
    elif stall == "published":
        PushRecorder.published = stop_here
    settings = ConnectionSettings(url=url, password=os.environ["PUSHER_PASSWORD"],
                                  known_hosts=Path(known_hosts), connect_timeout=5.0)
    with Journal(Path(journal_path)) as journal:
        with DigitaleoClient(settings, journal=journal) as client:
            client.push(source, convert=False, mode=ImportMode.ADD, wait=False,
                        on_progress=stop_here if stall == "upload" else None)
    """
)


def run_pusher_until_stalled(
    server: FakeServer, journal: Journal, source: Path, stall: str, tmp_path: Path
) -> int:
    """Run `_PUSHER` until it stalls at `stall`, SIGKILL it, and return its id."""
    marker = tmp_path / "stalled"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _PUSHER,
            server.url,
            str(server.known_hosts_path),
            str(journal.path),
            str(source),
            stall,
            str(marker),
        ],
        env={**os.environ, "PUSHER_PASSWORD": server.password or ""},
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not marker.exists() and process.poll() is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    _, errors = process.communicate(timeout=10)
    if not marker.exists():
        pytest.fail(f"pusher did not stall at {stall}: {errors}")
    assert process.returncode == -signal.SIGKILL
    return process.pid


@pytest.mark.parametrize(
    ("stall", "whole_part_sent", "recorded_parts"),
    [("upload", False, []), ("rename", True, [False])],
    ids=["killed-mid-upload", "killed-before-rename"],
)
def test_killed_pusher_then_push_again(
    digitaleo_fake_server: FakeServer,
    journal: Journal,
    tmp_path: Path,
    stall: str,
    whole_part_sent: bool,
    recorded_parts: list[bool],
) -> None:
    # About 1.5 MB, so that the first progress report, after 1 MiB, comes
    # while the rest of the file is still to be sent.
    content = deposit_csv(1, 30_000)
    source = write_export(tmp_path / "crm", "big.csv", content)

    pid = run_pusher_until_stalled(
        digitaleo_fake_server, journal, source, stall, tmp_path
    )
    in_folder = digitaleo_fake_server.root / IMPORT / "in"
    left = {path.name: path.stat().st_size for path in in_folder.iterdir()}
    before = journal.push(1)
    with journaled_client(digitaleo_fake_server, journal) as client:
        result = client.push(source, convert=False, mode=ImportMode.ADD, timeout=60)

    assert list(left) == [".big.csv.part"]
    assert (left[".big.csv.part"] == len(content)) is whole_part_sent
    assert before is not None
    assert (before.pid, before.stage, before.outcome) == (pid, "uploading", None)
    assert [item["confirmed"] for item in before.uploads] == recorded_parts
    assert result.ok
    assert result.push_id == 2
    killed = journal.push(1)
    assert killed is not None
    assert (killed.pid, killed.outcome, killed.uploads) == (pid, "failed", [])
    assert f"process {pid} on {socket.gethostname()} ended" in (killed.error or "")
    assert list_sizes(digitaleo_fake_server) == [("big", 30_000)]


def test_killed_after_rename_still_refused(
    digitaleo_fake_server: FakeServer, journal: Journal, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)

    pid = run_pusher_until_stalled(
        digitaleo_fake_server, journal, source, "published", tmp_path
    )
    digitaleo_fake_server.processor.wait_idle(10)
    before = journal.push(1)
    with (
        journaled_client(digitaleo_fake_server, journal) as client,
        pytest.raises(DuplicatePush) as caught,
    ):
        client.push(source, convert=False, mode=ImportMode.ADD, timeout=30)

    assert before is not None
    assert (before.pid, before.stage, before.outcome) == (pid, "uploading", None)
    assert [item["confirmed"] for item in before.uploads] == [False]
    assert "same content as push 1 " in str(caught.value)
    assert "ended in ok/" in str(caught.value)
    killed = journal.push(1)
    assert killed is not None
    assert (killed.stage, killed.outcome) == ("ok", "ok")
    assert [(item["stage"], item["confirmed"]) for item in killed.uploads] == [
        ("ok", True)
    ]
    assert list_sizes(digitaleo_fake_server) == [("clients", 3)]
