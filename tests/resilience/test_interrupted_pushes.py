"""Pushes stopped by Ctrl-C or SIGTERM: the output of `wait`, `status` and the hints.

A multi-part push stopped after its first part was published leaves the
list with that part's contacts only. Waiting for it must not call it done.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from digitaleo_client.cli import app
from digitaleo_client.client import DigitaleoClient, PushResult, StageChange
from digitaleo_client.client.resume import resume_push
from digitaleo_client.contacts.convert import ConvertOptions
from digitaleo_client.deposit import ImportMode, Stage
from digitaleo_client.errors import (
    DepositConnectionError,
    DuplicatePush,
    ExitCode,
    IncompletePush,
)
from digitaleo_client.journal import Journal
from fake_server.server import FakeServer
from tests.resilience.support import (
    cli_env,
    deposit_csv,
    journaled_client,
    list_sizes,
    write_export,
)
from tests.resilience.test_abandoned_pushes import ended_process_id

# Four contacts of 37 bytes each under a 17-byte header: a part of at most
# 100 bytes contains two of them (17 + 2 * 37 = 91), so the file has two parts.
CONTENT = deposit_csv(1, 4)
TWO_PARTS = ConvertOptions(max_part_bytes=100, zip="never")


def push_in_two_parts(
    client: DigitaleoClient, source: Path, **keywords: Any
) -> PushResult:
    """Push `source` in two parts in sync mode, with more push `keywords`."""
    return client.push(
        source, mode=ImportMode.SYNC, options=TWO_PARTS, timeout=30, **keywords
    )


def interrupt_after_part_one(change: StageChange) -> None:
    """Stand for Ctrl-C pressed once part 1 reached ok/."""
    if change.upload.part == 1 and change.stage is Stage.OK:
        raise KeyboardInterrupt


def last_column(table: str) -> str:
    """Return the last column of a one-row rich table, its wrapped lines joined."""
    rows = [line.split("│") for line in table.splitlines() if "│" in line]
    return " ".join(cells[-2].strip() for cells in rows if cells[-2].strip())


def push_interrupted(server: FakeServer, journal: Journal, source: Path) -> int:
    """Push `source` in two parts in sync mode, stopped after part 1; return its id."""
    with journaled_client(server, journal) as client, pytest.raises(KeyboardInterrupt):
        push_in_two_parts(client, source, on_stage=interrupt_after_part_one)
    return journal.pushes(1)[0].id


def resume_incomplete(
    server: FakeServer, journal: Journal, push_id: int
) -> IncompletePush:
    """Resume push `push_id` with `resume_push`; return the IncompletePush it raises."""
    record = journal.push(push_id)
    assert record is not None
    with (
        journaled_client(server, journal) as client,
        pytest.raises(IncompletePush) as caught,
    ):
        resume_push(client, journal, record, timeout=30)
    return caught.value


def test_interrupted_push_recorded(
    digitaleo_fake_server: FakeServer,
    journal: Journal,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    caplog.set_level(logging.WARNING, logger="digitaleo_client")

    push_id = push_interrupted(digitaleo_fake_server, journal, source)

    record = journal.push(push_id)
    assert record is not None
    assert record.parts == 2
    assert [item["part"] for item in record.uploads] == [1]
    assert record.outcome is None
    assert record.error == "interrupted (Ctrl-C)"
    assert list_sizes(digitaleo_fake_server) == [("clients", 2)]
    # Other records (paramiko's, on a reset connection) may come after the hint.
    hints = [
        message
        for message in caplog.messages
        if message.startswith(f"push {push_id} stopped with part 1 of 2 uploaded")
    ]
    assert len(hints) == 1
    hint = hints[0]
    assert "part 2 of 2 was never uploaded" in hint
    assert f"push {source} again with --force" in hint
    assert "`digitaleo wait" not in hint


def test_resume_reports_missing_part(
    digitaleo_fake_server: FakeServer, journal: Journal, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    push_id = push_interrupted(digitaleo_fake_server, journal, source)

    error = resume_incomplete(digitaleo_fake_server, journal, push_id)

    message = str(error)
    assert message.startswith(f"push {push_id} of clients.csv is incomplete: ")
    assert "part 2 of 2 was never uploaded" in message
    assert "the list clients contains only the contacts of part 1" in message
    assert f"push {source} again with --force" in message
    assert error.exit_code == ExitCode.INCOMPLETE == 10
    assert error.details["missing_parts"] == [2]
    after = journal.push(push_id)
    assert after is not None
    assert after.outcome is None


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_cli_wait_incomplete_push(
    digitaleo_fake_server: FakeServer,
    journal: Journal,
    tmp_path: Path,
    as_json: bool,
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    push_id = push_interrupted(digitaleo_fake_server, journal, source)
    env = cli_env(digitaleo_fake_server, tmp_path, journal.path)

    arguments = ["wait", str(push_id)] + (["--json"] if as_json else [])
    waited = CliRunner().invoke(app, arguments, env=env)

    assert waited.exit_code == ExitCode.INCOMPLETE, waited.output
    assert "part 2 of 2 was never uploaded" in waited.stderr
    assert ": ok" not in waited.stdout
    if as_json:
        document = json.loads(waited.stdout)
        assert document["ok"] is False
        assert document["error"]["type"] == "IncompletePush"
        assert document["error"]["exit_code"] == 10
        assert document["error"]["details"]["push_id"] == push_id


def test_force_push_finishes_interrupted(
    digitaleo_fake_server: FakeServer, journal: Journal, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    push_interrupted(digitaleo_fake_server, journal, source)

    with journaled_client(digitaleo_fake_server, journal) as client:
        result = push_in_two_parts(client, source, force=True)

    assert result.ok
    assert list_sizes(digitaleo_fake_server) == [("clients", 4)]


def test_status_shows_incomplete_push(
    digitaleo_fake_server: FakeServer, journal: Journal, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    push_id = push_interrupted(digitaleo_fake_server, journal, source)
    env = cli_env(digitaleo_fake_server, tmp_path, journal.path)

    table = CliRunner().invoke(app, ["status", "--no-refresh"], env=env)
    document = CliRunner().invoke(app, ["status", "--no-refresh", "--json"], env=env)

    assert table.exit_code == ExitCode.OK
    assert last_column(table.stdout) == (
        "incomplete: part 2 of 2 was never uploaded (interrupted (Ctrl-C))"
    )
    pushes = json.loads(document.stdout)["pushes"]
    assert [(item["id"], item["missing_parts"]) for item in pushes] == [(push_id, [2])]


def wait_for_upload(journal_path: Path, deadline: float) -> None:
    """Return once push 1 of the journal at `journal_path` published its file."""
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{journal_path}?mode=ro", uri=True) as db:
                row = db.execute("SELECT stage FROM pushes WHERE id = 1").fetchone()
        except sqlite3.OperationalError:
            row = None
        if row is not None and row[0] in ("in", "on"):
            return
        time.sleep(0.05)
    raise AssertionError(f"push 1 in {journal_path} published no file in time")


@pytest.mark.parametrize(
    ("signal_number", "exit_code", "recorded", "printed", "as_json"),
    [
        (signal.SIGTERM, 143, "interrupted (SIGTERM)", "interrupted (SIGTERM)", False),
        (signal.SIGINT, 130, "interrupted (Ctrl-C)", "interrupted", False),
        (signal.SIGTERM, 143, "interrupted (SIGTERM)", "interrupted (SIGTERM)", True),
    ],
    ids=["sigterm", "sigint", "sigterm-json"],
)
def test_signal_stops_push_cleanly(
    tmp_path: Path,
    signal_number: signal.Signals,
    exit_code: int,
    recorded: str,
    printed: str,
    as_json: bool,
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    journal_path = tmp_path / "journal.sqlite3"

    # The delay keeps the file in on/ while the push waits, until the signal.
    with FakeServer(tmp_path / "deposit", faults=["processing-delay=60"]) as server:
        env = {
            **os.environ,
            **cli_env(server, tmp_path, journal_path),
            "TMPDIR": str(scratch),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "digitaleo_client", "push", str(source)]
            + (["--json"] if as_json else []),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for_upload(journal_path, time.monotonic() + 60)
            os.kill(process.pid, signal_number)
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert process.returncode == exit_code, stderr
    assert "the file was uploaded as push 1; resume with `digitaleo wait 1`" in stderr
    assert stderr.rstrip().endswith(printed)
    assert sorted(scratch.glob("digitaleo-push-*")) == []
    if as_json:
        assert json.loads(stdout) == {
            "ok": False,
            "error": {
                "type": "Terminated",
                "message": "interrupted (SIGTERM)",
                "exit_code": 143,
                "details": {},
            },
        }
    with Journal(journal_path) as journal:
        record = journal.push(1)
    assert record is not None
    assert (record.outcome, record.error) == (None, recorded)


def lose_connection_after_part_one(change: StageChange) -> None:
    """Stand for the connection lost once part 1 reached ok/."""
    if change.upload.part == 1 and change.stage is Stage.OK:
        raise DepositConnectionError("connection to the deposit lost")


def test_lost_connection_names_missing_part(
    digitaleo_fake_server: FakeServer, journal: Journal, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)

    with (
        journaled_client(digitaleo_fake_server, journal) as client,
        pytest.raises(DepositConnectionError) as caught,
    ):
        push_in_two_parts(client, source, on_stage=lose_connection_after_part_one)

    message = str(caught.value)
    assert message.startswith(
        "connection to the deposit lost; push 1 stopped with part 1 of 2 uploaded: "
        "part 2 of 2 was never uploaded"
    )
    assert f"push {source} again with --force" in message
    assert caught.value.details["push_id"] == 1


@pytest.mark.parametrize(
    ("process", "text"),
    [
        (
            "ended",
            (
                "part 2 of 2 was never uploaded, so the list clients contains only the "
                "contacts of part 1 of 2"
            ),
        ),
        ("running", "part 2 of 2 is not uploaded yet and process "),
    ],
    ids=["abandoned", "running"],
)
def test_resume_without_recorded_error(
    digitaleo_fake_server: FakeServer,
    journal: Journal,
    tmp_path: Path,
    process: str,
    text: str,
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    push_id = push_interrupted(digitaleo_fake_server, journal, source)
    # As if a SIGKILL had stopped the push: no error recorded, and the
    # process either ended or, for all the journal can tell, still runs.
    journal.update_push(push_id, clear_error=True)
    pid = ended_process_id() if process == "ended" else os.getpid()
    with sqlite3.connect(journal.path) as db:
        db.execute("UPDATE pushes SET pid = ? WHERE id = ?", (pid, push_id))
    db.close()

    error = resume_incomplete(digitaleo_fake_server, journal, push_id)

    assert str(error).startswith(f"push {push_id} of clients.csv is incomplete: {text}")
    assert error.missing_parts == [2]


def test_interrupt_in_part_two_restores_mode(
    digitaleo_fake_server: FakeServer, journal: Journal, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    seen_ok: list[int] = []

    def note_ok(change: StageChange) -> None:
        if change.stage is Stage.OK:
            seen_ok.append(change.upload.part)

    def interrupt_part_two(done: int, total: int | None) -> None:
        # Pressed while part 2 is being written, after the mode became add.
        if seen_ok:
            raise KeyboardInterrupt

    started = time.monotonic()
    with journaled_client(digitaleo_fake_server, journal) as client:
        with pytest.raises(KeyboardInterrupt):
            push_in_two_parts(
                client, source, on_stage=note_ok, on_progress=interrupt_part_two
            )
        mode_after = client.get_mode()

    assert time.monotonic() - started < 10.0
    assert seen_ok == [1]
    assert mode_after is ImportMode.SYNC


def test_mode_left_named_when_restore_fails(
    tmp_path: Path, journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    caplog.set_level(logging.WARNING, logger="digitaleo_client")

    with FakeServer(tmp_path / "deposit") as server:

        def stop_server(done: int, total: int | None) -> None:
            if list_sizes(server):
                server.stop()
                raise KeyboardInterrupt

        with (
            journaled_client(server, journal) as client,
            pytest.raises(KeyboardInterrupt),
        ):
            push_in_two_parts(client, source, on_progress=stop_server)

    assert any(
        message.startswith(
            "could not set the import mode back to sync after the failed push"
        )
        and message.endswith("run `digitaleo mode set sync` before the next push")
        for message in caplog.messages
    )


def test_repeat_of_incomplete_push_says_force(
    digitaleo_fake_server: FakeServer, journal: Journal, tmp_path: Path
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    push_id = push_interrupted(digitaleo_fake_server, journal, source)

    with (
        journaled_client(digitaleo_fake_server, journal) as client,
        pytest.raises(DuplicatePush) as caught,
    ):
        push_in_two_parts(client, source)

    message = str(caught.value)
    assert f"has the same content as push {push_id} (" in message
    assert "1 of 2 parts uploaded, last seen in stage ok)" in message
    assert message.endswith(
        "the list holds only the uploaded parts' contacts. Once that push's process "
        "has ended, push again with --force to send the whole file"
    )
