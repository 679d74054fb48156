"""`digitaleo reports` against the fake server over SFTP."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_contacts import add_contacts
from pulled_journal import record
from typer.testing import CliRunner

from digitaleo_client.cli import app
from digitaleo_client.journal import Journal
from fake_server.clock import ManualClock
from fake_server.server import FakeServer

# 2026-11-02 10:00 in Paris (UTC+1 in November).
START = 1_793_610_000.0
DAY = 86_400

runner = CliRunner()


class Deposit:
    """A running fake server with the options that point `digitaleo` at it."""

    def __init__(self, server: FakeServer, clock: ManualClock, tmp_path: Path) -> None:
        self.server = server
        self.clock = clock
        self.reporting = server.reporting
        known_hosts = server.write_known_hosts(tmp_path / "known_hosts")
        self.connection = ["--url", server.url, "--known-hosts", str(known_hosts)]
        self.journal = ["--journal", str(tmp_path / "journal.sqlite3")]
        self.dest = tmp_path / "reports"
        self.env = {"DIGITALEO_PASSWORD": server.password or ""}

    def run(self, *arguments: str, connect: bool = True):
        options = self.connection if connect else []
        return runner.invoke(app, [*arguments, *options, *self.journal], env=self.env)

    def pull(self, *arguments: str):
        return self.run(
            "reports", "pull", "--dest", str(self.dest), "--json", *arguments
        )


@pytest.fixture(autouse=True)
def restore_root_handlers() -> Iterator[None]:
    """Remove the stderr handler a command installs, whose stream CliRunner closes."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    level = root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def deposit(tmp_path: Path) -> Iterator[Deposit]:
    clock = ManualClock(START)
    with FakeServer(tmp_path / "deposit", clock=clock) as server:
        add_contacts(server.store)
        deposit = Deposit(server, clock, tmp_path)
        deposit.reporting.record_campaign(
            "Noël #1", campaign_id=5, media=["EMAIL", "SMS"], opened=2, optout=1
        )
        deposit.reporting.write_reports()
        yield deposit


def test_pull_json_then_nothing_new(deposit: Deposit) -> None:
    first = deposit.pull()
    second = deposit.pull()

    assert first.exit_code == 0, first.output
    document = json.loads(first.stdout)
    assert document["ok"] is True
    assert [pulled["remote_path"] for pulled in document["pulled"]] == [
        "reporting/2026-11-02/2026-11-02_Daily.zip",
        "reporting/2026-11-02/2026-11-02_5_Noël #1.zip",
    ]
    assert document["bytes_received"] > 0
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["bytes_received"] == 0
    assert json.loads(second.stdout)["unchanged"] == 2


def test_pull_gap_exits_9(deposit: Deposit) -> None:
    deposit.pull()
    for _ in range(8):
        deposit.clock.advance(DAY)
        deposit.reporting.write_reports()

    result = deposit.pull()

    assert result.exit_code == 9, result.output
    assert json.loads(result.stdout)["missing_days"] == ["2026-11-03"]
    assert "reports of 2026-11-03 were never pulled" in result.stderr


def test_pull_hostile_exits_8(deposit: Deposit) -> None:
    folder = deposit.server.root / "reporting" / "2026-11-02"
    with zipfile.ZipFile(folder / "2026-11-02_6_Link.zip", "w") as archive:
        info = zipfile.ZipInfo("EMAIL_opened.csv")
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        archive.writestr(info, "/etc/passwd")

    result = deposit.pull()

    assert result.exit_code == 8, result.output
    failed = json.loads(result.stdout)["failed"]
    assert [entry["remote_path"] for entry in failed] == [
        "reporting/2026-11-02/2026-11-02_6_Link.zip"
    ]
    assert "'EMAIL_opened.csv' that is a symbolic link" in failed[0]["error"]
    assert not (deposit.dest / "2026-11-02" / "6_Link").exists()


def test_list_json_marks_pulled(deposit: Deposit) -> None:
    deposit.pull("--campaign", "5")

    result = deposit.run("reports", "list", "--json")

    assert result.exit_code == 0, result.output
    day = json.loads(result.stdout)["days"][0]
    assert day["day"] == "2026-11-02"
    assert [(r["name"], r["pulled"]) for r in day["reports"]] == [
        ("2026-11-02_Daily.zip", False),
        ("2026-11-02_5_Noël #1.zip", True),
    ]


def test_events_csv(deposit: Deposit) -> None:
    deposit.pull()

    result = deposit.run("reports", "events", connect=False)

    # EMAIL reaches Zoé then Luc, SMS reaches Luc then Ana; the first of each
    # opts out.
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "day,campaign_id,campaign_name,media,event,Prénom,Nom,Email,Mobile",
        "2026-11-02,5,Noël #1,EMAIL,opened,Zoé,Martin,zoe@example.com,",
        "2026-11-02,5,Noël #1,EMAIL,opened,Luc,Durand,luc@example.com,0612345678",
        "2026-11-02,5,Noël #1,EMAIL,optout,Zoé,Martin,zoe@example.com,",
        "2026-11-02,5,Noël #1,SMS,opened,Luc,Durand,luc@example.com,0612345678",
        "2026-11-02,5,Noël #1,SMS,opened,Ana,Petit,,0612345679",
        "2026-11-02,5,Noël #1,SMS,optout,Luc,Durand,luc@example.com,0612345678",
    ]


def test_events_json_is_one_array(deposit: Deposit) -> None:
    deposit.pull()

    result = deposit.run("reports", "events", "--optouts-only", "--json", connect=False)

    document = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert [(item["media"], item["event"]) for item in document] == [
        ("EMAIL", "optout"),
        ("SMS", "optout"),
    ]
    assert document[0]["contact"] == {
        "Prénom": "Zoé",
        "Nom": "Martin",
        "Email": "zoe@example.com",
    }


def test_events_json_without_events(tmp_path: Path) -> None:
    journal = ["--journal", str(tmp_path / "journal.sqlite3")]

    result = runner.invoke(app, ["reports", "events", "--json", *journal])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_events_jsonl_optouts(deposit: Deposit) -> None:
    deposit.pull()

    result = deposit.run(
        "reports", "events", "--format", "jsonl", "--optouts-only", connect=False
    )

    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {
            "day": "2026-11-02",
            "campaign_id": "5",
            "campaign_name": "Noël #1",
            "media": "EMAIL",
            "event": "optout",
            "contact": {"Prénom": "Zoé", "Nom": "Martin", "Email": "zoe@example.com"},
        },
        {
            "day": "2026-11-02",
            "campaign_id": "5",
            "campaign_name": "Noël #1",
            "media": "SMS",
            "event": "optout",
            "contact": {
                "Prénom": "Luc",
                "Nom": "Durand",
                "Email": "luc@example.com",
                "Mobile": "0612345678",
            },
        },
    ]


def test_summary_json(deposit: Deposit) -> None:
    deposit.pull()

    result = deposit.run("reports", "summary", "--json", connect=False)

    assert result.exit_code == 0, result.output
    rows = [
        (row["media"], row["event"], row["count"])
        for row in json.loads(result.stdout)["rows"]
    ]
    assert rows == [
        ("EMAIL", "opened", 2),
        ("EMAIL", "optout", 1),
        ("SMS", "opened", 2),
        ("SMS", "optout", 1),
    ]


def test_summary_table(deposit: Deposit) -> None:
    deposit.pull()

    result = deposit.run("reports", "summary", connect=False)

    assert result.exit_code == 0, result.output
    assert "5 Noël #1" in result.stdout
    assert "█" * 20 in result.stdout
    assert "█" * 10 + " " in result.stdout


def test_since_invalid_exits_2(deposit: Deposit) -> None:
    result = deposit.run("reports", "events", "--since", "02/11/2026", connect=False)

    assert result.exit_code == 2
    assert "--since '02/11/2026' is not a date; write it as YYYY-MM-DD" in result.stderr


def test_list_table_warns_leaving(deposit: Deposit) -> None:
    for _ in range(6):
        deposit.clock.advance(DAY)
        deposit.reporting.write_reports()

    result = deposit.run("reports", "list")

    assert result.exit_code == 0, result.output
    assert "2026-11-02 (leaves next)" in result.stdout
    assert "2026-11-02_5_Noël #1.zip" in result.stdout
    assert (
        "warning: the reports of 2026-11-02 leave the server with the next day's "
        "reports and were never fully pulled; run `digitaleo reports pull` now"
    ) in " ".join(result.stderr.split())


def test_events_of_one_deposit(deposit: Deposit) -> None:
    deposit.pull()

    this = deposit.run("reports", "events", "--url", deposit.server.url, connect=False)
    other = deposit.run(
        "reports", "events", "--url", "sftp://crm@other.example.com", connect=False
    )

    assert this.exit_code == 0, this.output
    assert len(this.stdout.splitlines()) == 7
    assert other.exit_code == 0, other.output
    assert other.stdout.splitlines() == ["day,campaign_id,campaign_name,media,event"]


def test_events_utf8_whatever_locale(tmp_path: Path) -> None:
    journal_path = tmp_path / "journal.sqlite3"
    with Journal(journal_path) as journal:
        record(
            journal,
            tmp_path / "r" / "1",
            "2026-11-02",
            "1",
            {"EMAIL_optout.csv": "Email;Prénom\nzoe@example.com;Zoé\n"},
        )
    environment = {**os.environ, "PYTHONIOENCODING": "ascii"}

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "digitaleo_client",
            "reports",
            "events",
            "--journal",
            str(journal_path),
        ],
        capture_output=True,
        env=environment,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.decode("utf-8").splitlines() == [
        "day,campaign_id,campaign_name,media,event,Prénom,Email",
        "2026-11-02,1,C,EMAIL,optout,Zoé,zoe@example.com",
    ]


def column_text(output: str, column: int) -> str:
    """Join the cells of one table column, line by line, without their padding."""
    cells = [line.split("│")[column] for line in output.splitlines() if "│" in line]
    return "".join(cell.strip() for cell in cells)


def test_summary_table_keeps_long_names_whole(deposit: Deposit) -> None:
    # One word longer than the campaign column can be in 80 columns, so rich
    # has to fold it (or would cut it with an ellipsis).
    name = "Relance-clients-inactifs-depuis-plus-de-six-mois-printemps-2026"
    deposit.reporting.record_campaign(name, campaign_id=6, media=["SMS"], opened=1)
    deposit.reporting.write_reports()
    deposit.pull()

    result = deposit.run("reports", "summary", connect=False)

    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert f"6{name}" in column_text(result.stdout, 2)
