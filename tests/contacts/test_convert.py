"""Converting CRM exports into deposit parts, with hand-worked expected bytes."""

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digitaleo_client.contacts.account import AccountSettings, Dedup, InvalidValues
from digitaleo_client.contacts.convert import (
    Change,
    ConvertOptions,
    Problem,
    build_deposit,
    check_file,
)
from digitaleo_client.contacts.headers import plan_columns
from digitaleo_client.contacts.latin1 import Unencodable
from digitaleo_client.contacts.report import ConversionReport, write_rejects
from digitaleo_client.contacts.rows import (
    _CONTROL_CHARACTER,
    RowConverter,
    _has_control_character,
)
from digitaleo_client.errors import ConfigurationError, InputFileError

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


def write_export(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_parts_repeat_the_header(tmp_path):
    rows = "".join(f"c{i}@example.com;Nom{i}\n" for i in range(6))
    source = write_export(tmp_path, "Email;Nom\n" + rows)
    # The header "Nom;Email\n" is 10 bytes and each row "Nom0;c0@example.com\n" 20.
    options = ConvertOptions(max_part_bytes=50, zip="never")
    report = build_deposit(source, tmp_path / "out", DEFAULT, options)

    assert [path.name for path in report.parts] == [
        "export.csv",
        "export.part2.csv",
        "export.part3.csv",
    ]
    assert report.parts[0].read_bytes() == (
        b"Nom;Email\nNom0;c0@example.com\nNom1;c1@example.com\n"
    )
    assert report.parts[2].read_bytes() == (
        b"Nom;Email\nNom4;c4@example.com\nNom5;c5@example.com\n"
    )


def test_zip_always(tmp_path):
    source = write_export(tmp_path, "Email\na@example.com\n")
    report = build_deposit(
        source, tmp_path / "out", DEFAULT, ConvertOptions(zip="always")
    )
    (part,) = report.parts
    with zipfile.ZipFile(part) as archive:
        assert archive.namelist() == ["export.csv"]
        assert archive.read("export.csv") == b"Email\na@example.com\n"


def test_dispatch_option_written_last(tmp_path):
    account = AccountSettings(dispatch={"AO201": "rennes"})
    source = write_export(tmp_path, "Email,Nom\na@example.com,Martin\n")
    options = ConvertOptions(dispatch="AO201")
    report = build_deposit(source, tmp_path / "out", account, options)
    assert (
        report.parts[0].read_bytes()
        == b"Nom;Email;dispatch\nMartin;a@example.com;AO201\n"
    )


def test_unknown_dispatch_reference_rejected(tmp_path):
    account = AccountSettings(dispatch={"AO201": "rennes"})
    source = write_export(
        tmp_path, "dispatch;Email\nAO999;a@example.com\nAO201;b@example.com\n"
    )
    report = check_file(source, account)
    assert report.rejected == [
        Problem(
            2,
            "dispatch",
            "AO999",
            "dispatch reference not in the account's dispatch map",
            "dispatch reference not in the account's dispatch map",
        )
    ]
    assert report.rows_written == 1


@pytest.mark.parametrize(
    ("account", "text", "message"),
    [
        (
            AccountSettings(dispatch={"AO201": "rennes"}),
            "Email\na@example.com\n",
            (
                "row 1: the account dispatches to several accounts, so each row needs a "
                "dispatch reference; add a dispatch column or give --dispatch REF"
            ),
        ),
        (
            AccountSettings(dedup=Dedup.REFERENCE),
            "Email\na@example.com\n",
            (
                "row 1: the account deduplicates on Référence, and no column maps to it; "
                "map the customer reference column with --map"
            ),
        ),
    ],
    ids=["multi-account-without-dispatch", "reference-criterion-without-reference"],
)
def test_header_the_account_cannot_use(tmp_path, account, text, message):
    source = write_export(tmp_path, text)
    with pytest.raises(InputFileError) as caught:
        check_file(source, account)
    assert str(caught.value) == f"{source}: {message}"


def test_missing_reference_rejected(tmp_path):
    account = AccountSettings(dedup=Dedup.REFERENCE)
    source = write_export(
        tmp_path, "Référence;Email\n;a@example.com\nR2;b@example.com\n"
    )
    report = check_file(source, account)
    assert [(p.row, p.column, p.reason) for p in report.rejected] == [
        (2, "Référence", "missing Référence, required by the reference criterion")
    ]


def test_blank_invalid_keeps_contact_under_strict_account(tmp_path):
    strict = AccountSettings(invalid_values=InvalidValues.REJECT_CONTACT)
    source = write_export(tmp_path, "Email;Mobile\nbad@;06 12 34 56 78\n")

    without = check_file(source, strict)
    assert without.rows_rejected == 1
    assert (
        without.rejected[0].category
        == "an invalid value, and invalid_values is reject_contact"
    )

    report = build_deposit(
        source, tmp_path / "out", strict, ConvertOptions(blank_invalid=True)
    )
    assert report.rows_rejected == 0
    assert report.parts[0].read_bytes() == b"Email;Mobile\n;06 12 34 56 78\n"
    assert report.changes == [
        Change(2, "Email", "bad@", "", "blanked an invalid value (--blank-invalid)")
    ]
    assert [(p.row, p.column) for p in report.invalid_values] == [(2, "Email")]


def test_row_with_wrong_field_count(tmp_path):
    source = write_export(
        tmp_path, "Email;Nom\na@example.com;Martin;extra\nb@example.com;Durand\n"
    )
    report = check_file(source, DEFAULT)
    assert report.rejected == [
        Problem(
            2,
            "",
            "",
            "3 fields where the header has 2; check the separators and quotes on that row",
            "wrong number of fields",
        )
    ]
    assert report.rows_written == 1


@pytest.mark.parametrize(
    ("policy", "written", "rejected"),
    [
        ("transliterate", b"Nom;Email\nCoeur;c@example.com\n", ["Иван"]),
        ("ascii", b"Nom;Email\nIvan;i@example.com\nCoeur;c@example.com\n", []),
        ("strict", b"Nom;Email\n", ["Иван", "Cœur"]),
    ],
    ids=["transliterate", "ascii", "strict"],
)
def test_unencodable_policies(tmp_path, policy, written, rejected):
    source = write_export(
        tmp_path, "Nom;Email\nИван;i@example.com\nCœur;c@example.com\n"
    )
    report = build_deposit(
        source, tmp_path / "out", DEFAULT, ConvertOptions(unencodable=policy)
    )
    assert report.parts[0].read_bytes() == written
    assert [problem.value for problem in report.rejected] == rejected
    assert {problem.category for problem in report.rejected} <= {
        "value not representable in ISO-8859-1"
    }


@pytest.mark.parametrize(
    ("value", "code", "position"),
    [
        ("Du\x00pont", "U+0000", 3),
        ("\x1b[1mMartin", "U+001B", 1),
        ("Mar\x0btin", "U+000B", 4),
        ("Martin\x0c", "U+000C", 7),
        ("Mar\x1ftin", "U+001F", 4),
        ("Eve\x7f", "U+007F", 4),
        ("Fa\x85y", "U+0085", 3),
        ("Gu\x9by", "U+009B", 3),
    ],
    ids=[
        "nul",
        "escape",
        "vertical-tab",
        "form-feed",
        "unit-separator",
        "delete",
        "next-line",
        "c1-csi",
    ],
)
def test_control_character_rejects_row(tmp_path, value, code, position):
    source = write_export(
        tmp_path, f"Email;Nom\na@example.com;{value}\nb@example.com;Durand\n"
    )

    report = build_deposit(source, tmp_path / "out", DEFAULT)

    assert report.rejected == [
        Problem(
            2,
            "Nom",
            value,
            f"{value!r} contains the control character {code} at position "
            f"{position}; remove control characters from the export",
            "control character in a value",
        )
    ]
    assert report.rows_written == 1
    assert report.parts[0].read_bytes() == b"Nom;Email\nDurand;b@example.com\n"


def test_tab_inside_value_kept(tmp_path):
    source = write_export(tmp_path, 'Email;Nom\na@example.com;"Du\tPont"\n')

    report = build_deposit(source, tmp_path / "out", DEFAULT)

    assert report.rejected == []
    assert report.parts[0].read_bytes() == b"Nom;Email\nDu\tPont;a@example.com\n"


def test_mojibake_and_dates_repaired(tmp_path):
    source = write_export(
        tmp_path,
        "Nom;Email;Date de naissance\nCafÃ©;a@example.com;1980-04-03\nB;b@example.com;03/04/80\n",
    )
    report = build_deposit(source, tmp_path / "out", DEFAULT)
    assert report.parts[0].read_bytes() == (
        b"Nom;Email;Date de naissance\nCaf\xe9;a@example.com;03/04/1980\nB;b@example.com;03/04/80\n"
    )
    assert [(c.row, c.column, c.new) for c in report.changes] == [
        (2, "Nom", "Café"),
        (2, "Date de naissance", "03/04/1980"),
    ]
    assert report.invalid_values == [
        Problem(
            3,
            "Date de naissance",
            "03/04/80",
            "two-digit year is ambiguous; write the year in full",
        )
    ]


def test_rejects_file_in_export_encoding(tmp_path):
    source = write_export(
        tmp_path, "Nom;Mobile\nHélène;06 39 98 12 34\n", encoding="cp1252"
    )
    report = check_file(source, DEFAULT)
    rejects = tmp_path / "rejects.csv"
    write_rejects(report, rejects, report.encoding)
    assert rejects.read_bytes() == (
        b"row;column;value;reason\n"
        b"2;Mobile;06 39 98 12 34;no valid Email, T\xe9l\xe9phone Fixe or Mobile: "
        b"not an assigned phone number in FR or in international form\n"
    )


def test_parts_may_not_overwrite_the_export(tmp_path):
    source = write_export(tmp_path, "Email\na@example.com\n")
    with pytest.raises(ConfigurationError) as caught:
        build_deposit(source, tmp_path, DEFAULT)
    assert str(caught.value) == (
        f"writing the parts of {source} to {tmp_path} would overwrite it; "
        "choose another output folder or part name"
    )


ROW_VALUES = st.sampled_from(
    [
        "",
        "a@example.com",
        "bad@",
        "06 12 34 56 78",
        "612345678",
        "6.12345678E+8",
        "612345678.0",
        "06 39 98 12 34",
        "+33 1 45 67 89 10",
        "Hélène",
        "CafÃ©",
        "Cœur",
        "Иван",
        "ligne\nsuivante",
        "12\u00a0rue",
        "1980-04-03",
        "03/04/80",
        "Du\x00pont",
        "tab\there",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(ROW_VALUES, min_size=4, max_size=4), max_size=12),
    header=st.sampled_from(
        [
            ["Email", "Mobile", "Téléphone Fixe", "Nom"],
            ["Email", "Mobile", "Nom", "Date de naissance"],
        ]
    ),
)
def test_batch_conversion_matches_row_by_row(rows, header):
    plan = plan_columns(header, DEFAULT)
    one_report, batch_report = ConversionReport(), ConversionReport()
    one = RowConverter(plan, DEFAULT, one_report, Unencodable.TRANSLITERATE)
    batched = RowConverter(plan, DEFAULT, batch_report, Unencodable.TRANSLITERATE)
    numbered = list(enumerate(rows, start=2))

    expected = [one.convert(number, row) for number, row in numbered]
    assert batched.convert_batch(numbered) == [values for values in expected if values]
    assert batch_report.rejected == one_report.rejected
    assert batch_report.invalid_values == one_report.invalid_values
    assert batch_report.changes == one_report.changes


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([" a@example.com", "Dupont"], id="leading-space"),
        pytest.param(["a@example.com ", "Dupont"], id="trailing-space"),
        pytest.param(["a@example.com", "\tDupont"], id="leading-tab"),
        pytest.param(["a@example.com", "Du pont"], id="inner-space-kept"),
    ],
)
def test_batch_strips_values_like_row_by_row(values):
    plan = plan_columns(["Email", "Nom"], DEFAULT)
    report = ConversionReport()
    converter = RowConverter(plan, DEFAULT, report, Unencodable.TRANSLITERATE)
    batch = [(2, ["b@example.com", "Martin"]), (3, values)]

    kept = converter.convert_batch(batch)

    assert kept[1] == [values[1].strip(), values[0].strip()]
    assert report.changes == []


@pytest.mark.parametrize(
    ("mobile", "expected"),
    [
        pytest.param("612345678", "0612345678", id="lost-leading-zero"),
        pytest.param("6.12345678E+8", "0612345678", id="scientific-upper"),
        pytest.param("6.12345678e+8", "0612345678", id="scientific-lower"),
        pytest.param("0612345678.0", "0612345678", id="decimal-part"),
        pytest.param("06 12 34 56 78", "06 12 34 56 78", id="already-fine"),
    ],
)
def test_batch_repairs_phones_like_row_by_row(mobile, expected):
    plan = plan_columns(["Email", "Mobile"], DEFAULT)
    report = ConversionReport()
    converter = RowConverter(plan, DEFAULT, report, Unencodable.TRANSLITERATE)
    batch = [(2, ["b@example.com", "06 12 34 56 79"]), (3, ["a@example.com", mobile])]

    kept = converter.convert_batch(batch)

    assert kept[1] == ["a@example.com", expected]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Du\x00pont", id="nul"),
        pytest.param("Du\x1bpont", id="escape"),
        pytest.param("Hélène\x1f", id="unit-separator-after-accent"),
    ],
)
def test_batch_rejects_control_characters(name):
    plan = plan_columns(["Email", "Nom"], DEFAULT)
    report = ConversionReport()
    converter = RowConverter(plan, DEFAULT, report, Unencodable.TRANSLITERATE)
    batch = [(2, ["b@example.com", "Martin"]), (3, ["a@example.com", name])]

    kept = converter.convert_batch(batch)

    assert kept == [["Martin", "b@example.com"]]
    assert [problem.row for problem in report.rejected] == [3]
    assert report.rejected[0].category == "control character in a value"


@pytest.mark.parametrize(
    "around",
    [
        pytest.param(("ab", "é"), id="latin1-text"),
        pytest.param(("ab", "€"), id="text-beyond-latin1"),
    ],
)
def test_control_scan_matches_pattern(around):
    before, after = around
    for code in [*range(0x300), 0x152, 0x20AC, 0x1F600]:
        text = f"{before}{chr(code)}{after}"
        expected = _CONTROL_CHARACTER.search(text) is not None
        assert _has_control_character(text) is expected, hex(code)
