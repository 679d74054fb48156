"""The journal of pushes: stages, duplicates, status and wait after a crash."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digitaleo_client.cli import app
from digitaleo_client.client import StageChange
from digitaleo_client.client.retrying import RetryPolicies
from digitaleo_client.deposit import ImportMode
from digitaleo_client.errors import DepositConnectionError, DuplicatePush, ExitCode
from digitaleo_client.journal import Journal
from fake_server.server import FakeServer
from tests.resilience.support import (
    cli_env,
    deposit_csv,
    journaled_client,
    list_sizes,
    write_export,
)

CONTENT = deposit_csv(1, 3)
BAD_CONTENT = b"Nom;Ville\nDupont;Rennes\n"
CONTENT_SHA256 = "23e22d0a6d619b5d813c19098cc4fed4fcae7ff63bb54de84d9e6dd6ce16f871"


class Crash(Exception):
    """Stands for the process dying in the middle of a push."""


def test_push_recorded_stage_by_stage(
    digitaleo_fake_server: FakeServer, journal: Journal, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)

    with journaled_client(digitaleo_fake_server, journal) as client:
        result = client.push(source, convert=False, mode=ImportMode.ADD, timeout=30)

    record = journal.push(result.push_id or 0)
    assert record is not None
    assert record.deposit == digitaleo_fake_server.url
    # `sha256sum` of CONTENT's bytes, written to a file by hand.
    assert record.content_sha256 == CONTENT_SHA256
    assert record.source == str(source)
    assert (record.action, record.media, record.mode) == ("import", None, "add")
    assert record.list_name == "clients"
    assert (record.stage, record.outcome, record.error) == ("ok", "ok", None)
    assert record.finished_at is not None
    assert record.created_at <= record.finished_at
    assert [item["stage"] for item in record.uploads] == ["ok"]
    assert record.uploads[0]["remote_path"] == result.outcomes[0].remote_path
    assert record.uploads[0]["size"] == len(CONTENT)


def test_duplicate_push_rejected(
    digitaleo_fake_server: FakeServer, journal: Journal, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    again = write_export(tmp_path / "again", "clients.csv", CONTENT)

    with journaled_client(digitaleo_fake_server, journal) as client:
        first = client.push(source, convert=False, timeout=30)
        with pytest.raises(DuplicatePush) as caught:
            client.push(again, convert=False, timeout=30)
        lists_after_refusal = list_sizes(digitaleo_fake_server)
        forced = client.push(again, convert=False, timeout=30, force=True)

    message = str(caught.value)
    assert f"has the same content as push {first.push_id}" in message
    assert "to clients.csv in contacts/import on sftp://crm@127.0.0.1:" in message
    assert "could create a second list" in message
    assert "or push anyway with --force" in message
    assert caught.value.exit_code == ExitCode.DUPLICATE == 7
    assert lists_after_refusal == [("clients", 3)]
    assert forced.ok
    assert list_sizes(digitaleo_fake_server) == [("clients", 3), ("clients", 3)]
    assert len(journal.pushes()) == 2


@pytest.mark.parametrize(
    ("first_name", "second_name", "content"),
    [
        ("clients.csv", "others.csv", CONTENT),
        ("bad.csv", "bad.csv", BAD_CONTENT),
    ],
    ids=["other-list", "after-ko"],
)
def test_repeat_push_allowed(
    digitaleo_fake_server: FakeServer,
    journal: Journal,
    tmp_path: Path,
    first_name: str,
    second_name: str,
    content: bytes,
) -> None:
    first = write_export(tmp_path / "first", first_name, content)
    second = write_export(tmp_path / "second", second_name, content)

    with journaled_client(digitaleo_fake_server, journal) as client:
        client.push(first, convert=False, timeout=30)
        result = client.push(second, convert=False, timeout=30)

    assert result.push_id == 2
    assert [record.outcome for record in journal.pushes()] == [
        "ok" if content == CONTENT else "ko"
    ] * 2


def test_failed_upload_allows_repeat(journal: Journal, tmp_path: Path) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    single_try = RetryPolicies(upload=replace(RetryPolicies().upload, max_attempts=1))

    with FakeServer(tmp_path / "deposit", faults=["drop-upload-after=10"]) as server:
        with journaled_client(server, journal, single_try) as client:
            with pytest.raises(DepositConnectionError):
                client.push(source, convert=False, timeout=30)
            retried = client.push(source, convert=False, timeout=30)

        failed = journal.push(1)
        assert failed is not None
        assert (failed.stage, failed.outcome, failed.uploads) == (
            "uploading",
            "failed",
            [],
        )
        assert "lost during contacts/import/in/.clients.csv.part" in (
            failed.error or ""
        )
        assert retried.ok
        assert list_sizes(server) == [("clients", 3)]


def test_crash_then_status_and_wait(
    journal: Journal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)

    def crash_on_first_stage(change: StageChange) -> None:
        raise Crash(f"crashed with {change.upload.remote_name} in {change.stage}")

    with FakeServer(tmp_path / "deposit", faults=["processing-delay=0.5"]) as server:
        with journaled_client(server, journal) as client, pytest.raises(Crash):
            client.push(
                source, convert=False, timeout=30, on_stage=crash_on_first_stage
            )
        crashed = journal.push(1)
        again = write_export(tmp_path / "again", "clients.csv", CONTENT)
        with journaled_client(server, journal) as client, pytest.raises(DuplicatePush):
            client.push(again, convert=False, timeout=30)

        env = cli_env(server, tmp_path, journal.path)
        waited = CliRunner().invoke(app, ["wait", "1", "--json"], env=env)
        status = CliRunner().invoke(app, ["status", "--json"], env=env)

        assert crashed is not None
        assert crashed.outcome is None
        assert crashed.stage in ("in", "on")
        assert "crashed with clients.csv" in (crashed.error or "")
        assert waited.exit_code == ExitCode.OK, waited.output
        document = json.loads(waited.stdout)
        assert document["ok"] is True
        assert document["push"]["outcome"] == "ok"
        assert document["push"]["uploads"][0]["stage"] == "ok"
        assert status.exit_code == ExitCode.OK
        pushes = json.loads(status.stdout)["pushes"]
        assert [(item["id"], item["outcome"]) for item in pushes] == [(1, "ok")]
        assert list_sizes(server) == [("clients", 3)]


def test_status_refreshes_open_push(journal: Journal, tmp_path: Path) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    with FakeServer(tmp_path / "deposit", faults=["processing-delay=0.5"]) as server:
        with journaled_client(server, journal) as client:
            client.push(source, convert=False, wait=False)
        env = cli_env(server, tmp_path, journal.path)

        offline = CliRunner().invoke(app, ["status", "--no-refresh", "--json"], env=env)
        server.processor.wait_idle(10)
        refreshed = CliRunner().invoke(app, ["status"], env=env)

    assert json.loads(offline.stdout)["pushes"][0]["outcome"] is None
    assert refreshed.exit_code == ExitCode.OK
    assert "clients.csv" in refreshed.stdout
    assert "import/clients.csv" in refreshed.stdout
    record = journal.push(1)
    assert record is not None
    assert (record.stage, record.outcome) == ("ok", "ok")


def test_cli_duplicate_exits_7(
    digitaleo_fake_server: FakeServer, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "crm", "Newsletter.csv", CONTENT)
    env = cli_env(digitaleo_fake_server, tmp_path)
    push = ["push", str(source), "--no-convert", "--json"]

    first = CliRunner().invoke(app, push, env=env)
    second = CliRunner().invoke(app, push, env=env)
    forced = CliRunner().invoke(app, [*push, "--force"], env=env)

    assert first.exit_code == ExitCode.OK
    assert json.loads(first.stdout)["push_id"] == 1
    assert second.exit_code == ExitCode.DUPLICATE
    error = json.loads(second.stdout)["error"]
    assert error["type"] == "DuplicatePush"
    assert error["exit_code"] == 7
    assert "same content as push 1" in error["message"]
    assert "--force" in second.stderr
    assert forced.exit_code == ExitCode.OK
    assert json.loads(forced.stdout)["push_id"] == 2
    assert list_sizes(digitaleo_fake_server) == [("Newsletter", 3), ("Newsletter", 3)]


# Run by two processes at once: each records 150 pushes of its own content,
# updating each one as a push would, and both try to claim the same content.
_WORKER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from digitaleo_client.errors import DuplicatePush
    from digitaleo_client.journal import Journal, NewPush

    path, name = Path(sys.argv[1]), sys.argv[2]
    claimed = False
    with Journal(path) as journal:
        for number in range(150):
            if number == 75:
                shared = NewPush("sftp://crm@127.0.0.1:2222", "0" * 64, "/crm/shared.csv",
                                 "import", None, "shared.csv", 1)
                try:
                    journal.begin_push(shared)
                    claimed = True
                except DuplicatePush:
                    pass
            push = NewPush("sftp://crm@127.0.0.1:2222", f"{name}{number:062d}",
                           f"/crm/{name}{number}.csv", "import", None,
                           f"{name}{number}.csv", 1)
            push_id = journal.begin_push(push)
            journal.update_push(push_id, mode="sync")
            journal.record_upload(push_id, {"part": 1, "stage": "in"})
            journal.update_push(push_id, stage="ok", outcome="ok")
    print(json.dumps({"claimed": claimed}))
    """
)


def test_two_processes_share_journal(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "journal.sqlite3"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(path), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    results = [worker.communicate(timeout=120) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0], results
    claims = [json.loads(stdout)["claimed"] for stdout, _ in results]
    assert sorted(claims) == [False, True]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT COUNT(*) FROM pushes").fetchone() == (301,)
        finished = db.execute(
            "SELECT COUNT(*) FROM pushes WHERE outcome = 'ok' AND mode = 'sync'"
        ).fetchone()
        assert finished == (300,)


def test_resumed_ok_clears_error(journal: Journal, tmp_path: Path) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", deposit_csv(1, 3))

    def lose_connection(change: StageChange) -> None:
        raise Crash("cannot connect to 127.0.0.1:1: Connection refused")

    with FakeServer(tmp_path / "deposit", faults=["processing-delay=0.5"]) as server:
        with journaled_client(server, journal) as client, pytest.raises(Crash):
            client.push(source, convert=False, timeout=30, on_stage=lose_connection)
        crashed = journal.push(1)
        env = cli_env(server, tmp_path, journal.path)
        waited = CliRunner().invoke(app, ["wait", "1", "--json"], env=env)
        status = CliRunner().invoke(app, ["status", "--json"], env=env)

    assert crashed is not None
    assert crashed.error == "cannot connect to 127.0.0.1:1: Connection refused"
    assert waited.exit_code == ExitCode.OK, waited.output
    push = json.loads(waited.stdout)["push"]
    assert (push["outcome"], push["error"]) == ("ok", None)
    pushes = json.loads(status.stdout)["pushes"]
    assert [(item["outcome"], item["error"]) for item in pushes] == [("ok", None)]


def test_status_with_deposit_down(journal: Journal, tmp_path: Path) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", deposit_csv(1, 3))
    with FakeServer(tmp_path / "deposit", faults=["processing-delay=30"]) as server:
        with journaled_client(server, journal) as client:
            client.push(source, convert=False, wait=False)
        env = cli_env(server, tmp_path, journal.path)

    status = CliRunner().invoke(app, ["status", "--json"], env=env)

    assert status.exit_code == ExitCode.OK, status.output
    pushes = json.loads(status.stdout)["pushes"]
    assert [(item["id"], item["outcome"]) for item in pushes] == [(1, None)]
    assert pushes[0]["stage"] in ("in", "on")
    assert "the stages of open pushes could not be refreshed" in status.stderr
    assert "Connection refused" in status.stderr
