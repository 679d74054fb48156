"""What check predicts is what the fake deposit does with the same files.

The fake server's processor runs on a temporary folder, without a network
front end: these tests are about the rules, not the transport.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digitaleo_client.contacts.account import account_settings_from_dict
from digitaleo_client.contacts.convert import ConvertOptions, build_deposit, check_file
from digitaleo_client.errors import InputFileError
from fake_server.clock import ManualClock
from fake_server.config import ServerConfig, User
from fake_server.processor import Processor
from fake_server.store import Store

# A file already in the deposit format, one contact per case:
#   row 2  all valid
#   row 3  invalid e-mail, valid mobile: kept without the e-mail (or rejected)
#   row 4  fiction-range mobile only: rejected
#   row 5  nothing to reach the contact by: rejected
#   row 6  "33" mobile without the plus, invalid fixed phone: kept without it
#   row 7  fixed number written as Mobile, valid e-mail: kept without the mobile
MIXED = (
    "Nom;Email;Téléphone Fixe;Mobile\n"
    "Martin;martin@example.com;01 45 67 89 10;06 12 34 56 78\n"
    "Durand;durand@;;07 81 23 45 67\n"
    "Petit;;;06 39 98 12 34\n"
    "Lefèvre;;;\n"
    "Moreau;;336 90 78 56 90;33612345679\n"
    "Roux;roux@example.fr;;01 45 67 89 11\n"
)


class FakeDeposit:
    """The fake server's processor and store on a temporary root."""

    def __init__(self, root: Path, invalid_values: str = "ignore") -> None:
        self.account = account_settings_from_dict(
            {"account": {"invalid_values": invalid_values}}
        )
        config = ServerConfig(self.account, (User("crm", "secret", None),))
        self.root = root
        self.processor = Processor(
            root, config, Store.for_root(root), ManualClock(1447797847.0)
        )
        self.processor.ensure_layout()
        self._names = (f"file{index}.csv" for index in itertools.count())

    def deposit(self, content: bytes, suffix: str = ".csv") -> dict:
        name = next(self._names).replace(".csv", suffix)
        path = self.root / "contacts" / "import" / "in" / name
        path.write_bytes(content)
        record = self.processor.process(path)
        self.processor.clock.advance(1)
        return record


@pytest.mark.parametrize("invalid_values", ["ignore", "reject_contact"])
def test_check_predicts_server_counts(tmp_path, invalid_values):
    deposit = FakeDeposit(tmp_path / "root", invalid_values)
    source = tmp_path / "mixed.csv"
    source.write_bytes(MIXED.encode("iso-8859-1"))

    report = check_file(source, deposit.account)
    record = deposit.deposit(source.read_bytes())

    rejected_rows = {problem.row for problem in report.rejected}
    kept_invalid = [p for p in report.invalid_values if p.row not in rejected_rows]
    assert record["stage"] == "ok"
    assert record["counts"]["invalid"] == report.rows_rejected
    assert record["counts"]["created"] == report.rows_written
    assert record["counts"]["invalid_values"] == len(kept_invalid)


def test_expected_predictions_for_mixed_file(tmp_path):
    source = tmp_path / "mixed.csv"
    source.write_bytes(MIXED.encode("iso-8859-1"))
    report = check_file(source, FakeDeposit(tmp_path / "root").account)
    assert sorted({problem.row for problem in report.rejected}) == [4, 5]
    assert [(p.row, p.column) for p in report.invalid_values] == [
        (3, "Email"),
        (4, "Mobile"),
        (6, "Téléphone Fixe"),
        (7, "Mobile"),
    ]


def test_converted_parts_import_without_rejections(tmp_path):
    deposit = FakeDeposit(tmp_path / "root")
    source = tmp_path / "mixed.csv"
    source.write_bytes(MIXED.encode("iso-8859-1"))
    report = build_deposit(source, tmp_path / "out", deposit.account)
    (part,) = report.parts
    record = deposit.deposit(part.read_bytes())
    assert record["stage"] == "ok"
    assert record["counts"]["created"] == 4
    assert record["counts"]["invalid"] == 0


HEADERS = ["Email", "e-mail", "first_name", "Nom", "mobile", "phone", "city", "Société"]
cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)
cell_values = st.one_of(
    cell_text,
    st.sampled_from(
        [
            "a@example.com",
            "06 12 34 56 78",
            "+33 1 45 67 89 10",
            "Zoé",
            "Cœur",
            "x;y",
            'a "b"',
        ]
    ),
)


@st.composite
def exports(draw):
    header = draw(
        st.lists(st.sampled_from(HEADERS), min_size=1, max_size=5, unique=True)
    )
    if not {"Email", "e-mail"} & set(header):
        header.append("Email")
    if {"Email", "e-mail"} <= set(header):
        header.remove("e-mail")
    rows = draw(
        st.lists(
            st.lists(cell_values, min_size=len(header), max_size=len(header)),
            max_size=6,
        )
    )
    separator = draw(st.sampled_from([";", ",", "\t", "|"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return header, rows, separator, encoding


def render(header, rows, separator):
    def cell(value):
        if (
            any(char in value for char in (separator, '"', "\r", "\n"))
            or value != value.strip()
        ):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(
        separator.join(cell(value) for value in row) + "\r\n" for row in [header, *rows]
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(export=exports())
def test_accepted_exports_make_files_the_server_accepts(tmp_path_factory, export):
    header, rows, separator, encoding = export
    folder = tmp_path_factory.mktemp("export")
    try:
        data = render(header, rows, separator).encode(encoding)
    except UnicodeEncodeError:
        return
    source = folder / "export.csv"
    source.write_bytes(data)
    deposit = FakeDeposit(folder / "root")
    try:
        report = build_deposit(
            source, folder / "out", deposit.account, ConvertOptions(unencodable="ascii")
        )
    except InputFileError:
        return
    for part in report.parts:
        record = deposit.deposit(part.read_bytes())
        assert record["stage"] == "ok", record.get("reason")
        assert record["counts"]["invalid"] == 0


def test_merged_rows_match_server_updates(tmp_path):
    # Rows 3 and 4 share row 2's e-mail, up to case: the deposit creates one
    # contact, leaves it unchanged for row 3 and updates it for row 4.
    deposit = FakeDeposit(tmp_path / "root")
    source = tmp_path / "dups.csv"
    source.write_text(
        "email,first_name,mobile\n"
        "a@example.com,A,0612345601\n"
        "a@example.com,A,0612345601\n"
        "A@Example.com,B,0612345602\n",
        encoding="utf-8",
    )

    report = build_deposit(source, tmp_path / "parts", deposit.account)
    record = deposit.deposit(report.parts[0].read_bytes())

    assert report.duplicate_rows == 2
    assert record["counts"]["created"] == 1
    assert record["counts"]["unchanged"] == 1
    assert record["counts"]["updated"] == 1
