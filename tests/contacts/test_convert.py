"""Converting CRM exports into deposit parts, with hand-worked expected bytes."""

import json
from pathlib import Path

import pytest

from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.contacts.convert import (
    Change,
    ConvertOptions,
    Problem,
    build_deposit,
    check_file,
)

DATA = Path(__file__).parent.parent / "data" / "contacts"
DEFAULT = AccountSettings()


def test_utf8_bom_comma_crlf_export(tmp_path):
    report = build_deposit(DATA / "crm-utf8-bom-comma.csv", tmp_path, DEFAULT)

    assert [path.name for path in report.parts] == ["crm-utf8-bom-comma.csv"]
    assert report.parts[0].read_bytes() == (
        b"Pr\xe9nom;Nom;Email;T\xe9l\xe9phone Fixe;Mobile;Ville;R\xe9f\xe9rence\n"
        b"H\xe9l\xe8ne;Lef\xe8vre;helene@example.com;01 45 67 89 10;06 12 34 56 78;"
        b"Saint-\xc9tienne;C1\n"
        b"Fran\xe7ois;Coeur;francois@example;;0612345678;Paris 15e;C2\n"
    )
    assert report.dialect == "encoding utf-8-sig, separator ','"
    assert report.rows_read == 3
    assert report.rows_written == 2
    assert report.rejected == [
        Problem(
            4,
            "Mobile",
            "06 39 98 12 34",
            "no valid Email, Téléphone Fixe or Mobile: "
            "not an assigned phone number in FR or in international form",
            "no valid Email, Téléphone Fixe or Mobile",
        )
    ]
    assert report.changes == [
        Change(
            3, "Ville", "Paris\r\n15e", "Paris 15e", "replaced line breaks with spaces"
        ),
        Change(3, "Nom", "Cœur", "Coeur", "replaced characters outside ISO-8859-1"),
        Change(3, "Mobile", "612345678", "0612345678", "restored the leading zero"),
    ]
    assert [(p.row, p.column) for p in report.invalid_values] == [
        (3, "Email"),
        (4, "Mobile"),
    ]


def test_excel_cp1252_export(tmp_path):
    report = build_deposit(DATA / "excel-cp1252.csv", tmp_path, DEFAULT)

    assert report.dialect == "encoding cp1252, separator ';'"
    assert report.parts[0].read_bytes() == (
        b"Pr\xe9nom;Nom;Email;T\xe9l\xe9phone Fixe;Soci\xe9t\xe9\n"
        b'Andr\xe9;Boeuf;andre@example.com;0145678910;"""Les Caf\xe9s"" EUR"\n'
    )


def test_check_writes_nothing(tmp_path):
    report = check_file(DATA / "crm-utf8-bom-comma.csv", DEFAULT)

    assert report.parts == []
    assert report.rows_written == 2
    assert report.rejected_by_reason() == {
        "no valid Email, Téléphone Fixe or Mobile": 1
    }
    assert json.loads(json.dumps(report.as_dict()))["rows_rejected"] == 1


def test_base_name_option(tmp_path):
    options = ConvertOptions(base_name="Newsletter FR.csv")
    report = build_deposit(DATA / "excel-cp1252.csv", tmp_path, DEFAULT, options)
    assert [path.name for path in report.parts] == ["Newsletter FR.csv"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ConvertOptions(unencodable="drop"), "--unencodable 'drop' is invalid"),
        (ConvertOptions(zip="maybe"), "--zip 'maybe' is invalid"),
    ],
    ids=["unencodable", "zip"],
)
def test_invalid_options(tmp_path, options, message):
    from digitaleo_client.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=message):
        build_deposit(DATA / "excel-cp1252.csv", tmp_path, DEFAULT, options)
