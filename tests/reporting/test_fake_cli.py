"""The fake server's `campaign` and `report` commands."""

from __future__ import annotations

import json
from pathlib import Path

from fake_contacts import add_contacts
from typer.testing import CliRunner

from fake_server.cli import app
from fake_server.store import Store

runner = CliRunner()


def test_campaign_then_report(tmp_path: Path) -> None:
    store = Store.for_root(tmp_path)
    add_contacts(store)
    store.close()

    created = runner.invoke(
        app,
        [
            "campaign",
            "--root",
            str(tmp_path),
            "--name",
            "Noël #2",
            "--id",
            "77",
            "--media",
            "EMAIL",
            "--media",
            "SMS",
            "--opened",
            "1",
            "--day",
            "2026-12-20",
        ],
    )
    written = runner.invoke(
        app, ["report", "--root", str(tmp_path), "--day", "2026-12-20"]
    )

    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout) == {
        "id": 77,
        "name": "Noël #2",
        "day": "2026-12-20",
        "events": [
            {"media": "EMAIL", "event": "opened", "count": 1},
            {"media": "SMS", "event": "opened", "count": 1},
        ],
    }
    assert written.exit_code == 0, written.output
    assert written.stdout.splitlines() == [
        "reporting/2026-12-20/2026-12-20_Daily.zip",
        "reporting/2026-12-20/2026-12-20_77_Noël #2.zip",
    ]


def test_campaign_error_exits_2(tmp_path: Path) -> None:
    Store.for_root(tmp_path).close()

    result = runner.invoke(
        app, ["campaign", "--root", str(tmp_path), "--name", "A", "--opened", "1"]
    )

    assert result.exit_code == 2
    assert "error: 1 contacts requested on EMAIL but only 0 have Email" in result.stderr


def test_report_missing_root_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--root", str(tmp_path / "none")])

    assert result.exit_code == 2
    assert (
        f"error: fake deposit root {tmp_path / 'none'} is not a folder" in result.stderr
    )


def test_report_invalid_day_exits_2(tmp_path: Path) -> None:
    Store.for_root(tmp_path).close()

    result = runner.invoke(
        app, ["report", "--root", str(tmp_path), "--day", "31/12/2026"]
    )

    assert result.exit_code == 2
    assert (
        "error: day '31/12/2026' is not a date; write it as YYYY-MM-DD" in result.stderr
    )
