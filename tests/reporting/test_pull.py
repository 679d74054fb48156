"""Pulling reports from the fake server over SFTP, into hand-worked events."""

from __future__ import annotations

import fcntl
import logging
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_contacts import add_contacts
from tcp_proxy import CuttableProxy

from digitaleo_client.client.retrying import RetryPolicies
from digitaleo_client.config import ConnectionSettings
from digitaleo_client.errors import DepositConnectionError, HostileReport
from digitaleo_client.journal import Journal
from digitaleo_client.reporting import (
    RemoteReport,
    ReportEvent,
    ReportPuller,
    iter_pulled_events,
)
from digitaleo_client.retry import RetryPolicy
from digitaleo_client.transport import open_transport
from fake_server.clock import ManualClock
from fake_server.reporting import Reporting
from fake_server.server import FakeServer
from fake_server.store import Store

# 2026-11-02 10:00 in Paris (UTC+1 in November).
START = 1_793_610_000.0
DAY = 86_400

ZOE = {"Prénom": "Zoé", "Nom": "Martin", "Email": "zoe@example.com"}
LUC = {
    "Prénom": "Luc",
    "Nom": "Durand",
    "Email": "luc@example.com",
    "Mobile": "0612345678",
}
ANA = {"Prénom": "Ana", "Nom": "Petit", "Mobile": "0612345679"}
# A file's header lists every column any of its contacts has, so a contact
# without that value reads as "" there.
ZOE_WITH_MOBILE = {**ZOE, "Mobile": ""}
ANA_WITH_EMAIL = {**ANA, "Email": ""}


class Deposit:
    """A running fake server, its reporting and a client's settings and journal."""

    def __init__(self, server: FakeServer, clock: ManualClock, tmp_path: Path) -> None:
        self.server = server
        self.clock = clock
        self.reporting = server.reporting
        self.settings = ConnectionSettings(
            url=server.url,
            password=server.password,
            known_hosts=server.write_known_hosts(tmp_path / "known_hosts"),
            connect_timeout=5.0,
        )
        self.journal_path = tmp_path / "state" / "journal.sqlite3"
        self.dest = tmp_path / "reports"

    def pull(self, **options):
        with (
            open_transport(self.settings) as transport,
            Journal(self.journal_path) as journal,
        ):
            return ReportPuller(transport, journal).pull(self.dest, **options)

    def events(self, **options) -> list[ReportEvent]:
        with Journal(self.journal_path) as journal:
            return list(iter_pulled_events(journal, **options))

    def next_day(self) -> None:
        self.clock.advance(DAY)


@pytest.fixture
def deposit(tmp_path: Path) -> Iterator[Deposit]:
    clock = ManualClock(START)
    with FakeServer(tmp_path / "deposit", clock=clock) as server:
        add_contacts(server.store)
        yield Deposit(server, clock, tmp_path)


def two_days_of_campaigns(deposit: Deposit) -> None:
    """Day 1: campaign 42 by e-mail. Day 2: 42 again, and 43 by SMS."""
    deposit.reporting.record_campaign(
        "Soldes d'été #1", campaign_id=42, media=["EMAIL"], opened=2, optout=1
    )
    deposit.reporting.write_reports()
    deposit.next_day()
    deposit.reporting.record_campaign(
        "Soldes d'été #1", campaign_id=42, media=["EMAIL"], clicked=1
    )
    deposit.reporting.record_campaign(
        "SMS/flash", campaign_id=43, media=["SMS"], clicked=2, optout=1
    )
    deposit.reporting.write_reports()


def test_pull_unpacks_every_zip(deposit: Deposit) -> None:
    two_days_of_campaigns(deposit)

    result = deposit.pull()

    assert [pulled.remote_path for pulled in result.pulled] == [
        "reporting/2026-11-02/2026-11-02_Daily.zip",
        "reporting/2026-11-02/2026-11-02_42_Soldes d'été #1.zip",
        "reporting/2026-11-03/2026-11-03_Daily.zip",
        "reporting/2026-11-03/2026-11-03_42_Soldes d'été #1.zip",
        "reporting/2026-11-03/2026-11-03_43_SMS_flash.zip",
    ]
    assert result.failed == []
    assert result.missing_days == []
    files = sorted(
        str(path.relative_to(deposit.dest)) for path in deposit.dest.rglob("*.csv")
    )
    assert files == [
        "2026-11-02/42_Soldes d'été #1/EMAIL_opened.csv",
        "2026-11-02/42_Soldes d'été #1/EMAIL_optout.csv",
        "2026-11-02/Daily/EMAIL_opened.csv",
        "2026-11-02/Daily/EMAIL_optout.csv",
        "2026-11-03/42_Soldes d'été #1/EMAIL_clicked.csv",
        "2026-11-03/43_SMS_flash/SMS_clicked.csv",
        "2026-11-03/43_SMS_flash/SMS_optout.csv",
        "2026-11-03/Daily/EMAIL_clicked.csv",
        "2026-11-03/Daily/SMS_clicked.csv",
        "2026-11-03/Daily/SMS_optout.csv",
    ]


def test_pulled_events_hand_worked(deposit: Deposit) -> None:
    two_days_of_campaigns(deposit)
    deposit.pull()

    events = deposit.events()

    # The server wrote "SMS/flash" as "SMS_flash" in the zip name, which is
    # where the client reads campaign names from.
    # Day 1: Zoé and Luc open; Zoé opts out of EMAIL. Day 2: EMAIL now reaches
    # only Luc, who clicks; SMS reaches Luc and Ana, who click, and Luc opts out.
    campaign_42 = ("2026-11-02", "42", "Soldes d'été #1")
    assert events == [
        ReportEvent(*campaign_42, "EMAIL", "opened", ZOE_WITH_MOBILE),
        ReportEvent(*campaign_42, "EMAIL", "opened", LUC),
        ReportEvent(*campaign_42, "EMAIL", "optout", ZOE),
        ReportEvent("2026-11-03", "42", "Soldes d'été #1", "EMAIL", "clicked", LUC),
        ReportEvent("2026-11-03", "43", "SMS_flash", "SMS", "clicked", LUC),
        ReportEvent("2026-11-03", "43", "SMS_flash", "SMS", "clicked", ANA_WITH_EMAIL),
        ReportEvent("2026-11-03", "43", "SMS_flash", "SMS", "optout", LUC),
    ]


def test_optouts_only(deposit: Deposit) -> None:
    two_days_of_campaigns(deposit)
    deposit.pull()

    events = deposit.events(optouts_only=True, since="2026-11-03")

    assert events == [
        ReportEvent("2026-11-03", "43", "SMS_flash", "SMS", "optout", LUC)
    ]


def test_second_pull_moves_no_bytes(deposit: Deposit) -> None:
    two_days_of_campaigns(deposit)
    first = deposit.pull()

    second = deposit.pull()

    assert first.bytes_received > 0
    assert second.bytes_received == 0
    assert second.pulled == []
    assert len(second.unchanged) == 5


def test_changed_zip_pulled_again(deposit: Deposit) -> None:
    two_days_of_campaigns(deposit)
    deposit.pull()
    deposit.reporting.record_campaign(
        "SMS/flash", campaign_id=43, media=["SMS"], opened=1
    )
    deposit.reporting.write_reports()

    result = deposit.pull()

    assert [pulled.remote_path for pulled in result.pulled] == [
        "reporting/2026-11-03/2026-11-03_Daily.zip",
        "reporting/2026-11-03/2026-11-03_43_SMS_flash.zip",
    ]
    assert (deposit.dest / "2026-11-03" / "43_SMS_flash" / "SMS_opened.csv").is_file()


def test_pull_filters_by_campaign_and_since(deposit: Deposit) -> None:
    two_days_of_campaigns(deposit)

    result = deposit.pull(since="2026-11-03", campaign="42")

    assert [pulled.remote_path for pulled in result.pulled] == [
        "reporting/2026-11-03/2026-11-03_42_Soldes d'été #1.zip",
    ]


def test_eight_day_gap_names_lost_day(
    deposit: Deposit, caplog: pytest.LogCaptureFixture
) -> None:
    deposit.reporting.write_reports()
    deposit.pull()
    for _ in range(8):
        deposit.next_day()
        deposit.reporting.write_reports()

    with caplog.at_level(logging.WARNING):
        result = deposit.pull()

    # Pulled up to 2026-11-02; on 2026-11-10 the server keeps 11-04 to 11-10.
    assert result.missing_days == ["2026-11-03"]
    assert (
        "reports of 2026-11-03 were never pulled and are no longer on the server"
        in caplog.text
    )
    assert len(result.pulled) == 7


def test_hostile_zip_rejected_others_pulled(deposit: Deposit, tmp_path: Path) -> None:
    deposit.reporting.record_campaign("A", campaign_id=42, media=["EMAIL"], opened=1)
    deposit.reporting.write_reports()
    hostile = (
        deposit.server.root / "reporting" / "2026-11-02" / "2026-11-02_66_Evil.zip"
    )
    with zipfile.ZipFile(hostile, "w") as archive:
        archive.writestr("../../../escaped.csv", b"Email\nx@example.com\n")
    before = sorted(path.name for path in tmp_path.iterdir())

    result = deposit.pull()

    assert [pulled.remote_path for pulled in result.pulled] == [
        "reporting/2026-11-02/2026-11-02_Daily.zip",
        "reporting/2026-11-02/2026-11-02_42_A.zip",
    ]
    assert len(result.failed) == 1
    report, error = result.failed[0]
    assert report.name.file_name == "2026-11-02_66_Evil.zip"
    assert isinstance(error, HostileReport)
    assert "'../../../escaped.csv' that climbs out with '..'" in error.message
    # Only the destination and the journal's folder are new.
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [*before, "reports", "state"]
    )
    assert list(tmp_path.rglob("escaped.csv")) == []
    assert sorted(path.name for path in (deposit.dest / "2026-11-02").iterdir()) == [
        "42_A",
        "42_A.zip",
        "Daily",
        "Daily.zip",
    ]


def test_general_zip_bare_day_name(deposit: Deposit) -> None:
    folder = deposit.server.root / "reporting" / "2026-11-02"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "2026-11-02.zip", "w") as archive:
        archive.writestr(
            "EMAIL_opened.csv",
            "Email;Prénom\nzoe@example.com;Zoé\n".encode("iso-8859-1"),
        )

    deposit.pull()

    assert deposit.events() == [
        ReportEvent(
            "2026-11-02",
            None,
            None,
            "EMAIL",
            "opened",
            {"Email": "zoe@example.com", "Prénom": "Zoé"},
        )
    ]


def test_list_days_flags_leaving(deposit: Deposit) -> None:
    for _ in range(7):
        deposit.reporting.write_reports()
        deposit.next_day()
    deposit.pull(since="2026-11-03")

    with (
        open_transport(deposit.settings) as transport,
        Journal(deposit.journal_path) as journal,
    ):
        days = ReportPuller(transport, journal).list_days()

    assert [day.day for day in days] == [
        "2026-11-02",
        "2026-11-03",
        "2026-11-04",
        "2026-11-05",
        "2026-11-06",
        "2026-11-07",
        "2026-11-08",
    ]
    assert [day.leaving for day in days] == [
        True,
        False,
        False,
        False,
        False,
        False,
        False,
    ]
    assert [day.fully_pulled for day in days] == [
        False,
        True,
        True,
        True,
        True,
        True,
        True,
    ]


def test_removed_folder_pulled_again(deposit: Deposit) -> None:
    two_days_of_campaigns(deposit)
    deposit.pull()
    shutil.rmtree(deposit.dest / "2026-11-03" / "43_SMS_flash")

    result = deposit.pull()

    assert [pulled.remote_path for pulled in result.pulled] == [
        "reporting/2026-11-03/2026-11-03_43_SMS_flash.zip",
    ]
    assert (deposit.dest / "2026-11-03" / "43_SMS_flash" / "SMS_optout.csv").is_file()


def test_dropped_connection_reconnects(
    deposit: Deposit, caplog: pytest.LogCaptureFixture
) -> None:
    two_days_of_campaigns(deposit)
    no_sleep = RetryPolicy("read", sleep=lambda seconds: None)
    cuts: list[str] = []

    with CuttableProxy(deposit.server.port) as proxy:

        def cut_first_download(report: RemoteReport) -> None:
            if not cuts:
                cuts.append(report.name.file_name)
                proxy.cut()

        settings = ConnectionSettings(
            url=f"sftp://{deposit.server.username}@127.0.0.1:{proxy.port}",
            password=deposit.server.password,
            host_key_fingerprint=deposit.server.host_key_fingerprint,
            connect_timeout=5.0,
        )
        with (
            Journal(deposit.journal_path) as journal,
            ReportPuller.connect(settings, journal, read_policy=no_sleep) as puller,
            caplog.at_level(logging.WARNING),
        ):
            result = puller.pull(deposit.dest, on_start=cut_first_download)

    assert cuts == ["2026-11-02_Daily.zip"]
    assert len(result.pulled) == 5
    assert (
        "download reporting/2026-11-02/2026-11-02_Daily.zip failed (attempt 1 of 5"
        in caplog.text
    )


def test_dropped_connection_without_reconnect(deposit: Deposit) -> None:
    two_days_of_campaigns(deposit)

    with CuttableProxy(deposit.server.port) as proxy:
        settings = ConnectionSettings(
            url=f"sftp://{deposit.server.username}@127.0.0.1:{proxy.port}",
            password=deposit.server.password,
            host_key_fingerprint=deposit.server.host_key_fingerprint,
            connect_timeout=5.0,
        )
        with (
            open_transport(settings) as transport,
            Journal(deposit.journal_path) as journal,
        ):
            puller = ReportPuller(transport, journal)
            with pytest.raises(DepositConnectionError) as raised:
                puller.pull(deposit.dest, on_start=lambda report: proxy.cut())

    assert "lost during reporting/2026-11-02/2026-11-02_Daily.zip" in str(raised.value)
    with Journal(deposit.journal_path) as journal:
        assert journal.pulled_reports() == []


def test_second_pull_waits_for_first(
    deposit: Deposit, caplog: pytest.LogCaptureFixture, wait_until
) -> None:
    two_days_of_campaigns(deposit)
    deposit.dest.mkdir()
    results = []

    with (deposit.dest / ".digitaleo-pull.lock").open("a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with caplog.at_level(logging.INFO):
            waiting = threading.Thread(target=lambda: results.append(deposit.pull()))
            waiting.start()
            wait_until(lambda: "is running; waiting for it to finish" in caplog.text)
            assert results == []
            fcntl.flock(lock, fcntl.LOCK_UN)
            waiting.join(timeout=30)

    assert len(results) == 1
    assert len(results[0].pulled) == 5


def test_imported_contacts_reach_reports(tmp_path: Path) -> None:
    clock = ManualClock(START)
    export = tmp_path / "Clients.csv"
    export.write_bytes(
        "Email;Prénom;Mobile\n"
        "zoe@example.com ;Zoé;06 12 34 56 78\n"
        "luc@example.com;Luc;\n".encode("iso-8859-1")
    )
    with FakeServer(tmp_path / "deposit", clock=clock) as server:
        settings = ConnectionSettings(
            url=server.url,
            password=server.password,
            known_hosts=server.write_known_hosts(tmp_path / "known_hosts"),
        )
        with open_transport(settings) as transport:
            transport.upload(export, "contacts/import/in/Clients.csv")
        assert server.processor.wait_idle(timeout=10)
        server.reporting.record_campaign(
            "Promo", campaign_id=9, media=["SMS"], optout=1
        )
        server.reporting.write_reports()

        with (
            open_transport(settings) as transport,
            Journal(tmp_path / "j.sqlite3") as journal,
        ):
            ReportPuller(transport, journal).pull(tmp_path / "reports")
            events = list(iter_pulled_events(journal))

    # Only Zoé has a mobile; the deposit stores values without stray spaces.
    assert events == [
        ReportEvent(
            "2026-11-02",
            "9",
            "Promo",
            "SMS",
            "optout",
            {"Prénom": "Zoé", "Email": "zoe@example.com", "Mobile": "06 12 34 56 78"},
        )
    ]


def test_pull_from_mounted_folder(tmp_path: Path) -> None:
    root = tmp_path / "deposit"
    store = Store.for_root(root)
    add_contacts(store)
    reporting = Reporting(root, store, ManualClock(START))
    reporting.record_campaign("Promo", campaign_id=9, media=["EMAIL"], clicked=1)
    reporting.write_reports()
    store.close()
    settings = ConnectionSettings(url=f"file://{root}")

    with (
        open_transport(settings) as transport,
        Journal(tmp_path / "j.sqlite3") as journal,
    ):
        result = ReportPuller(transport, journal).pull(tmp_path / "reports")
        events = list(iter_pulled_events(journal))

    assert [pulled.remote_path for pulled in result.pulled] == [
        "reporting/2026-11-02/2026-11-02_Daily.zip",
        "reporting/2026-11-02/2026-11-02_9_Promo.zip",
    ]
    assert events == [ReportEvent("2026-11-02", "9", "Promo", "EMAIL", "clicked", ZOE)]


def test_stalled_listing_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(START)
    no_sleep = RetryPolicies().with_timing(sleep=lambda seconds: None).read
    with FakeServer(
        tmp_path / "deposit", clock=clock, faults=["stall-listing=2"]
    ) as server:
        server.reporting.write_reports()
        settings = ConnectionSettings(
            url=server.url,
            password=server.password,
            known_hosts=server.write_known_hosts(tmp_path / "known_hosts"),
            operation_timeout=0.5,
        )
        with (
            Journal(tmp_path / "j.sqlite3") as journal,
            ReportPuller.connect(settings, journal, read_policy=no_sleep) as puller,
            caplog.at_level(logging.WARNING),
        ):
            result = puller.pull(tmp_path / "reports")

    assert [pulled.remote_path for pulled in result.pulled] == [
        "reporting/2026-11-02/2026-11-02_Daily.zip"
    ]
    assert "list reporting failed (attempt 1 of 5" in caplog.text


def test_pull_over_ftp(tmp_path: Path) -> None:
    with FakeServer(
        tmp_path / "deposit", clock=ManualClock(START), ftp_port=0
    ) as server:
        add_contacts(server.store)
        server.reporting.record_campaign(
            "Promo", campaign_id=9, media=["SMS"], clicked=1
        )
        server.reporting.write_reports()
        assert server.ftp_url is not None
        settings = ConnectionSettings(url=server.ftp_url, password=server.password)

        with Journal(tmp_path / "j.sqlite3") as journal:
            with ReportPuller.connect(settings, journal) as puller:
                first = puller.pull(tmp_path / "reports")
                second = puller.pull(tmp_path / "reports")
            events = list(iter_pulled_events(journal))

    assert len(first.pulled) == 2
    assert second.bytes_received == 0
    assert events == [ReportEvent("2026-11-02", "9", "Promo", "SMS", "clicked", LUC)]
