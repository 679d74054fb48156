"""Reading event CSVs of unpacked reports into typed records."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from digitaleo_client.errors import CorruptReport
from digitaleo_client.reporting.events import (
    ReportEvent,
    ReportSource,
    iter_folder_events,
    read_event_file,
)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            'Référence;Civilité;Prénom;Nom;Email;"Téléphone Fixe"\n'
            "123454R;M.;Pierre ;DUPONT ;pierre.dupont@example.com ;0145678901\n".encode(
                "iso-8859-1"
            ),
            [
                {
                    "Référence": "123454R",
                    "Civilité": "M.",
                    "Prénom": "Pierre",
                    "Nom": "DUPONT",
                    "Email": "pierre.dupont@example.com",
                    "Téléphone Fixe": "0145678901",
                }
            ],
            id="published-example",
        ),
        pytest.param(
            "\ufeffEmail,Prénom\r\nzoé@example.com,Zoé\r\n".encode(),
            [{"Email": "zoé@example.com", "Prénom": "Zoé"}],
            id="utf8-bom-comma-crlf",
        ),
        pytest.param(
            b'Email;Nom\n\na@example.com;"Dupont; fils"\n;\n',
            [{"Email": "a@example.com", "Nom": "Dupont; fils"}],
            id="blank-rows-quoted-separator",
        ),
        pytest.param(
            b"Mobile\n0612345678\n", [{"Mobile": "0612345678"}], id="single-column"
        ),
        pytest.param(b"", [], id="empty-file"),
        pytest.param(
            b"Email;Nom\na@example.com\nb@example.com;B;extra\n",
            [
                {"Email": "a@example.com", "Nom": ""},
                {"Email": "b@example.com", "Nom": "B"},
            ],
            id="ragged-rows",
        ),
    ],
)
def test_read_event_file(
    tmp_path: Path, data: bytes, expected: list[dict[str, str]]
) -> None:
    path = write(tmp_path / "EMAIL_opened.csv", data)

    assert list(read_event_file(path)) == expected


def test_ragged_row_logs_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "EMAIL_opened.csv", b"Email;Nom\na@example.com\n")

    with caplog.at_level(logging.WARNING):
        list(read_event_file(path))

    assert f"{path} row 2 has 1 fields but the header has 2" in caplog.text


def test_folder_events_keep_unknown_media(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "12345_Campaign #1"
    folder.mkdir()
    write(folder / "SMS_optout.csv", b"Mobile\n0612345678\n")
    write(folder / "EMAIL_opened.csv", b"Email\na@example.com\nb@example.com\n")
    write(folder / "RCS_read.csv", b"Mobile\n0698765432\n")
    write(folder / "notes.txt", b"hello")
    source = ReportSource(folder, "2015-04-27", "12345", "Campaign #1")

    with caplog.at_level(logging.WARNING):
        events = list(iter_folder_events(source))

    assert events == [
        ReportEvent(
            "2015-04-27",
            "12345",
            "Campaign #1",
            "EMAIL",
            "opened",
            {"Email": "a@example.com"},
        ),
        ReportEvent(
            "2015-04-27",
            "12345",
            "Campaign #1",
            "EMAIL",
            "opened",
            {"Email": "b@example.com"},
        ),
        ReportEvent(
            "2015-04-27",
            "12345",
            "Campaign #1",
            "RCS",
            "read",
            {"Mobile": "0698765432"},
        ),
        ReportEvent(
            "2015-04-27",
            "12345",
            "Campaign #1",
            "SMS",
            "optout",
            {"Mobile": "0612345678"},
        ),
    ]
    assert "notes.txt: not a <MEDIA>_<event>.csv file" in caplog.text


def test_event_properties() -> None:
    event = ReportEvent(
        "2015-04-27",
        None,
        None,
        "SMS",
        "OptOut",
        {"Mobile": "0612345678", "Email": "", "Référence": "R1"},
    )

    assert event.is_optout
    assert event.mobile == "0612345678"
    assert event.email is None
    assert event.reference == "R1"
    assert event.as_dict() == {
        "day": "2015-04-27",
        "campaign_id": None,
        "campaign_name": None,
        "media": "SMS",
        "event": "OptOut",
        "Mobile": "0612345678",
        "Email": "",
        "Référence": "R1",
    }


def test_missing_folder_raises(tmp_path: Path) -> None:
    source = ReportSource(tmp_path / "gone", "2015-04-27")

    with pytest.raises(CorruptReport) as raised:
        list(iter_folder_events(source))

    assert f"unpacked report folder {tmp_path / 'gone'} is missing" in str(raised.value)
    assert "run `digitaleo reports pull`" in str(raised.value)
