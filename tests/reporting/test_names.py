"""Names in the reporting folder, pinned to the published forms."""

from __future__ import annotations

import pytest

from digitaleo_client.reporting.names import (
    EventFileName,
    ReportName,
    days_between,
    is_day,
    parse_event_file_name,
    parse_report_name,
    safe_file_name,
)


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        pytest.param(
            "2015-04-27_Daily.zip",
            ReportName("2015-04-27", "2015-04-27_Daily.zip"),
            id="daily",
        ),
        pytest.param(
            "2015-04-27.zip", ReportName("2015-04-27", "2015-04-27.zip"), id="bare-day"
        ),
        pytest.param(
            "2015-04-27_12345_Campaign #1.zip",
            ReportName(
                "2015-04-27", "2015-04-27_12345_Campaign #1.zip", "12345", "Campaign #1"
            ),
            id="campaign",
        ),
        pytest.param(
            "2015-04-27_67891_Soldes d'été_2.ZIP",
            ReportName(
                "2015-04-27",
                "2015-04-27_67891_Soldes d'été_2.ZIP",
                "67891",
                "Soldes d'été_2",
            ),
            id="campaign-underscore-in-name",
        ),
        pytest.param("2015-04-28_Daily.zip", None, id="other-day"),
        pytest.param(".2015-04-27_Daily.zip.part", None, id="temporary"),
        pytest.param("notes.txt", None, id="not-a-zip"),
    ],
)
def test_parse_report_name(file_name: str, expected: ReportName | None) -> None:
    assert parse_report_name("2015-04-27", file_name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("Campaign #1", "Campaign #1", id="hash-kept"),
        pytest.param("Soldes d'été", "Soldes d'été", id="accents-kept"),
        pytest.param('a/b\\c:d*e?f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j", id="separators"),
        pytest.param("tab\there\nnewline", "tab_here_newline", id="control"),
        pytest.param("  ..hidden.  ", "hidden", id="dots-and-spaces"),
        pytest.param("..", "", id="dot-dot"),
        pytest.param("e\u0301te\u0301", "été", id="nfc"),
        pytest.param("é" * 100, "é" * 60, id="cut-at-120-bytes"),
    ],
)
def test_safe_file_name(name: str, expected: str) -> None:
    assert safe_file_name(name) == expected


def test_campaign_folder_keeps_id() -> None:
    name = ReportName("2015-04-27", "2015-04-27_12345_../../x.zip", "12345", "../../x")

    assert name.folder_name == "12345__.._x"


def test_general_folder() -> None:
    assert ReportName("2015-04-27", "2015-04-27.zip").folder_name == "Daily"


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        pytest.param("EMAIL_opened.csv", EventFileName("EMAIL", "opened"), id="email"),
        pytest.param("SMS_clicked.csv", EventFileName("SMS", "clicked"), id="sms"),
        pytest.param(
            "FAX_optout.CSV", EventFileName("FAX", "optout"), id="unknown-media"
        ),
        pytest.param(
            "VOICEMAIL_hard_bounce.csv",
            EventFileName("VOICEMAIL", "hard_bounce"),
            id="underscore",
        ),
        pytest.param("readme.txt", None, id="other"),
        pytest.param("EMAIL.csv", None, id="no-event"),
    ],
)
def test_parse_event_file_name(file_name: str, expected: EventFileName | None) -> None:
    assert parse_event_file_name(file_name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("2026-02-28", True, id="day"),
        pytest.param("2026-02-30", False, id="impossible"),
        pytest.param("2026-2-28", False, id="short"),
        pytest.param("latest", False, id="word"),
    ],
)
def test_is_day(name: str, expected: bool) -> None:
    assert is_day(name) is expected


def test_days_between_crosses_month() -> None:
    assert days_between("2026-02-27", "2026-03-01") == [
        "2026-02-27",
        "2026-02-28",
        "2026-03-01",
    ]
