"""The client's SQLite journal: schema versions and pulled reports."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digitaleo_client.cli import app
from digitaleo_client.errors import ConfigurationError, ExitCode
from digitaleo_client.journal import MIGRATIONS, SCHEMA_VERSION, Journal, PulledReport

DEPOSIT = "sftp://crm@deposit.example.com:22"


def pulled(remote_path: str, day: str, campaign_id: str | None = "1") -> PulledReport:
    return PulledReport(
        deposit=DEPOSIT,
        remote_path=remote_path,
        day=day,
        campaign_id=campaign_id,
        campaign_name="Promo",
        size=10,
        mtime=1_700_000_000.0,
        sha256="ab" * 32,
        local_zip=Path("/reports") / day / "1_Promo.zip",
        local_folder=Path("/reports") / day / "1_Promo",
        pulled_at=1_700_000_100.0,
    )


def test_new_journal_has_schema(tmp_path: Path) -> None:
    with Journal(tmp_path / "state" / "journal.sqlite3") as journal:
        assert journal.schema_version == SCHEMA_VERSION
        assert journal.last_pulled_day(DEPOSIT) is None


def test_pulled_report_round_trip(tmp_path: Path) -> None:
    report = pulled("reporting/2026-11-02/a.zip", "2026-11-02")
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.record_pulled_report(report)

    with Journal(tmp_path / "j.sqlite3") as journal:
        assert journal.pulled_report(DEPOSIT, "reporting/2026-11-02/a.zip") == report
        assert journal.pulled_report(DEPOSIT, "reporting/2026-11-02/b.zip") is None


def test_record_replaces_earlier_pull(tmp_path: Path) -> None:
    first = pulled("reporting/2026-11-02/a.zip", "2026-11-02")
    second = PulledReport(**{**first.__dict__, "size": 99})
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.record_pulled_report(first)
        journal.record_pulled_report(second)

        assert journal.pulled_reports() == [second]


def test_pulled_reports_since(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        for day in ("2026-11-03", "2026-11-01", "2026-11-02"):
            journal.record_pulled_report(pulled(f"reporting/{day}/a.zip", day))

        assert [r.day for r in journal.pulled_reports(since="2026-11-02")] == [
            "2026-11-02",
            "2026-11-03",
        ]
        assert journal.last_pulled_day(DEPOSIT) == "2026-11-03"


def test_newer_schema_rejected(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    with pytest.raises(ConfigurationError) as raised:
        Journal(path)

    assert f"has schema version {SCHEMA_VERSION + 1}" in str(raised.value)
    assert "upgrade digitaleo-client" in str(raised.value)


def test_unreadable_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"not a database at all, just text" * 100)

    with pytest.raises(ConfigurationError) as raised:
        Journal(path)

    assert f"journal {path} is not a readable SQLite file" in str(raised.value)
    assert "move it aside" in str(raised.value)


def test_folder_as_journal_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Journal(tmp_path)

    assert str(raised.value) == (
        f"journal {tmp_path} is a folder; give the path of the journal file, "
        f"for instance {tmp_path}/journal.sqlite3"
    )


def test_journal_under_a_file_rejected(tmp_path: Path) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a folder")
    path = blocker / "journal.sqlite3"

    with pytest.raises(ConfigurationError) as raised:
        Journal(path)

    assert f"cannot open the journal {path} (" in str(raised.value)
    assert "give a writable file path with --journal or DIGITALEO_JOURNAL" in str(
        raised.value
    )


def test_cli_folder_journal_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["status", "--no-refresh", "--journal", str(tmp_path)]
    )

    assert result.exit_code == ExitCode.USAGE
    assert f"journal {tmp_path} is a folder" in " ".join(result.stderr.split())


def test_deposits_kept_apart(tmp_path: Path) -> None:
    staging = "sftp://crm@staging.example.com:22"
    first = pulled("reporting/2026-11-02/a.zip", "2026-11-02")
    other = PulledReport(**{**first.__dict__, "deposit": staging, "day": "2026-11-05"})
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.record_pulled_report(first)
        journal.record_pulled_report(other)

        assert journal.pulled_report(DEPOSIT, first.remote_path) == first
        assert journal.pulled_report(staging, first.remote_path) == other
        assert journal.last_pulled_day(DEPOSIT) == "2026-11-02"
        assert journal.pulled_reports(deposit=staging) == [other]
        assert journal.pulled_reports() == [first, other]


def test_version_1_rows_migrate(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with sqlite3.connect(path) as db:
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        db.execute(
            "INSERT INTO pulled_reports VALUES ('reporting/2026-11-02/a.zip', "
            "'2026-11-02', '1', 'Promo', 10, NULL, 'ab', '/r/a.zip', '/r/a', 5.0)"
        )
        db.execute("PRAGMA user_version = 1")

    with Journal(path) as journal:
        rows = journal.pulled_reports()

        assert journal.schema_version == SCHEMA_VERSION
    assert [(row.deposit, row.remote_path, row.size) for row in rows] == [
        ("", "reporting/2026-11-02/a.zip", 10)
    ]
