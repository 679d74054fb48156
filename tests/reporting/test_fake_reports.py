"""The fake server's campaigns, report zips and retention."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from fake_contacts import add_contacts

from fake_server.clock import ManualClock
from fake_server.report_zips import server_file_name
from fake_server.reporting import CampaignError, Reporting
from fake_server.server import FakeServer
from fake_server.store import Store

# 2026-11-02 10:00 in Paris (UTC+1 in November).
START = 1_793_610_000.0
DAY = 86_400


@pytest.fixture
def reporting(tmp_path: Path):
    store = Store.for_root(tmp_path)
    add_contacts(store)
    yield Reporting(tmp_path, store, ManualClock(START))
    store.close()


def zip_contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_campaign_events_and_optouts(reporting: Reporting) -> None:
    campaign = reporting.record_campaign(
        "Soldes #1", media=["EMAIL", "SMS"], opened=2, clicked=1, optout=1
    )

    assert campaign.id == 10001
    assert campaign.day == "2026-11-02"
    assert campaign.counts == {
        ("EMAIL", "opened"): 2,
        ("EMAIL", "clicked"): 1,
        ("EMAIL", "optout"): 1,
        ("SMS", "opened"): 2,
        ("SMS", "clicked"): 1,
        ("SMS", "optout"): 1,
    }
    optouts = {
        contact["fields"]["Prénom"]: contact["optout"]
        for contact in reporting.store.contacts()
    }
    assert optouts == {"Zoé": ["EMAIL"], "Luc": ["SMS"], "Ana": []}


def test_opted_out_contact_not_reached(reporting: Reporting) -> None:
    reporting.record_campaign("First", media=["EMAIL"], optout=1)

    with pytest.raises(CampaignError) as raised:
        reporting.record_campaign("Second", media=["EMAIL"], opened=2)

    assert str(raised.value) == (
        "2 contacts requested on EMAIL but only 1 have Email and are not opted out; "
        "import more contacts or lower the counts"
    )


def test_report_zips_hold_deposit_csv(reporting: Reporting, tmp_path: Path) -> None:
    reporting.record_campaign(
        "Soldes d'été: -50% #1", campaign_id=42, media=["EMAIL"], opened=2, optout=1
    )
    reporting.record_campaign("SMS/flash", campaign_id=43, media=["SMS"], clicked=1)

    written = reporting.write_reports()

    folder = tmp_path / "reporting" / "2026-11-02"
    assert written == [
        folder / "2026-11-02_Daily.zip",
        folder / "2026-11-02_42_Soldes d'été: -50% #1.zip",
        folder / "2026-11-02_43_SMS_flash.zip",
    ]
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        path.name for path in written
    )
    # Luc has a mobile, so the opened file has a Mobile column, empty for Zoé.
    opened = (
        "Prénom;Nom;Email;Mobile\n"
        "Zoé;Martin;zoe@example.com;\n"
        "Luc;Durand;luc@example.com;0612345678\n"
    )
    optout = "Prénom;Nom;Email\nZoé;Martin;zoe@example.com\n"
    clicked = "Prénom;Nom;Email;Mobile\nLuc;Durand;luc@example.com;0612345678\n"
    assert zip_contents(written[1]) == {
        "EMAIL_opened.csv": opened.encode("iso-8859-1"),
        "EMAIL_optout.csv": optout.encode("iso-8859-1"),
    }
    assert zip_contents(written[2]) == {"SMS_clicked.csv": clicked.encode("iso-8859-1")}
    assert zip_contents(written[0]) == {
        "EMAIL_opened.csv": opened.encode("iso-8859-1"),
        "EMAIL_optout.csv": optout.encode("iso-8859-1"),
        "SMS_clicked.csv": clicked.encode("iso-8859-1"),
    }


def test_day_without_events_has_empty_daily_zip(
    reporting: Reporting, tmp_path: Path
) -> None:
    written = reporting.write_reports("2026-11-01")

    assert written == [tmp_path / "reporting" / "2026-11-01" / "2026-11-01_Daily.zip"]
    assert zip_contents(written[0]) == {}


def test_unchanged_zip_not_rewritten(reporting: Reporting) -> None:
    reporting.record_campaign("A", media=["EMAIL"], opened=1)
    daily = reporting.write_reports()[0]
    os.utime(daily, (1_000_000, 1_000_000))

    reporting.write_reports()

    assert daily.stat().st_mtime == 1_000_000


def test_changed_zip_rewritten(reporting: Reporting) -> None:
    reporting.record_campaign("A", campaign_id=7, media=["EMAIL"], opened=1)
    daily = reporting.write_reports()[0]
    os.utime(daily, (1_000_000, 1_000_000))
    reporting.record_campaign("A", campaign_id=7, media=["EMAIL"], clicked=1)

    reporting.write_reports()

    assert daily.stat().st_mtime != 1_000_000
    assert sorted(zip_contents(daily)) == ["EMAIL_clicked.csv", "EMAIL_opened.csv"]


def test_retention_keeps_seven_days(reporting: Reporting, tmp_path: Path) -> None:
    clock = reporting.clock
    assert isinstance(clock, ManualClock)
    for _ in range(9):
        reporting.write_reports()
        clock.advance(DAY)

    days = sorted(path.name for path in (tmp_path / "reporting").iterdir())
    assert days == [
        "2026-11-04",
        "2026-11-05",
        "2026-11-06",
        "2026-11-07",
        "2026-11-08",
        "2026-11-09",
        "2026-11-10",
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"name": " "}, "the campaign name is empty", id="empty-name"),
        pytest.param(
            {"name": "A", "media": ["FAX"]},
            "unknown media 'FAX'; use one of EMAIL",
            id="media",
        ),
        pytest.param(
            {"name": "A", "opened": -1},
            "--opened is -1; give a count of 0 or more",
            id="negative",
        ),
        pytest.param(
            {"name": "A", "day": "2026-13-01"},
            "day '2026-13-01' is not a date",
            id="day",
        ),
        pytest.param(
            {"name": "A", "media": ["SMS"], "opened": 3},
            "3 contacts requested on SMS but only 2 have Mobile",
            id="too-many",
        ),
        pytest.param(
            {"name": "B", "campaign_id": 42},
            "campaign 42 is named 'A', not 'B'; give its name to add events, or another --id",
            id="id-clash",
        ),
    ],
)
def test_campaign_request_rejected(
    reporting: Reporting, arguments: dict, message: str
) -> None:
    reporting.record_campaign("A", campaign_id=42)

    with pytest.raises(CampaignError) as raised:
        reporting.record_campaign(**arguments)

    assert message in str(raised.value)


def test_server_file_name_keeps_awkward_characters() -> None:
    assert server_file_name("Été #1: a/b\\c\td") == "Été #1: a_b_c_d"


def test_server_writes_reports_on_schedule(tmp_path: Path, wait_until) -> None:
    clock = ManualClock(START)
    daily = tmp_path / "deposit" / "reporting" / "2026-11-02" / "2026-11-02_Daily.zip"

    with FakeServer(tmp_path / "deposit", clock=clock, report_interval=0.05):
        # The schedule runs in another thread, in real seconds.
        wait_until(daily.exists)

    assert daily.is_file()
