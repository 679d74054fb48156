"""File rules: format, header, zips, size limit, mode files and ko reasons."""

from __future__ import annotations

import struct
import zipfile

import pytest
from rules_support import DATA, Deposit, counts

from digitaleo_client.deposit import ImportMode

MULTI = {"dispatch": {"AO201": "rennes"}}


@pytest.mark.parametrize(
    ("account", "data_name", "fields"),
    [
        (
            {},
            "quoted_header.csv",
            {
                "Email": "anne@example.com",
                "Nom": "Leroy",
                "Téléphone Fixe": "01 45 67 89 10",
            },
        ),
        (
            {},
            "stray_spaces.csv",
            {"Email": "anne@example.com", "Nom": "Leroy", "Prénom": "Anne"},
        ),
        (
            {"account": {"separator": "|"}},
            "pipe_separated.csv",
            {"Email": "anne@example.com", "Nom": "Leroy", "Prénom": "Anne"},
        ),
        (
            {"account": {"custom_fields": ["Fidélité", "Segment"]}},
            "custom_fields.csv",
            {
                "Email": "anne@example.com",
                "Fidélité": "Or",
                "Segment": "VIP",
                "Champ 3": "rouge",
            },
        ),
        ({}, "unknown_column.csv", {"Email": "anne@example.com", "Nom": "Leroy"}),
        (
            {},
            "multiline_value.csv",
            {
                "Email": "anne@example.com",
                "Adresse 1": "1 rue de la Paix\nBâtiment B",
                "Nom": "Leroy",
            },
        ),
    ],
    ids=[
        "quoted-header",
        "stray-spaces",
        "account-separator",
        "custom-fields",
        "unknown-column",
        "quoted-newline",
    ],
)
def test_format_read_into_fields(tmp_path, account, data_name, fields):
    deposit = Deposit(tmp_path, account)

    record = deposit.deposit_data("import", data_name)

    assert record["stage"] == "ok"
    assert deposit.store.contacts()[0]["fields"] == fields


def test_quoted_separator_and_quote(tmp_path):
    deposit = Deposit(tmp_path)

    deposit.deposit_data("import", "multiline_value.csv")

    bruno = deposit.contacts_by("Email")["bruno@example.com"]
    assert bruno["fields"]["Adresse 1"] == '5; avenue "Foch"'


def test_crlf_and_blank_lines_accepted(tmp_path):
    deposit = Deposit(tmp_path)

    record = deposit.deposit_data("import", "crlf_blank_lines.csv")

    assert record["counts"] == counts(created=2)
    assert sorted(deposit.contacts_by("Nom")) == ["Leroy", "Martin"]


@pytest.mark.parametrize(
    ("account", "data_name", "reason"),
    [
        (
            {},
            "pipe_separated.csv",
            (
                "the header reads as one column 'Email|Nom|Prénom': it seems separated by "
                "'|', but the account's separator is ';'; write the file with the "
                "account's separator"
            ),
        ),
        (
            {},
            "no_means.csv",
            (
                "the header has none of the columns Email, Téléphone Fixe and Mobile; add at "
                "least one of them"
            ),
        ),
        (
            {},
            "lowercase_email.csv",
            (
                "the header has none of the columns Email, Téléphone Fixe and Mobile (column "
                "names are case-sensitive, found 'email'); rename them"
            ),
        ),
        (
            {"account": {"dedup": "reference"}},
            "email_only.csv",
            (
                "the header has no Référence column, which the account's reference criterion "
                "requires; add it"
            ),
        ),
        (
            MULTI,
            "dispatch_missing.csv",
            (
                "the header has no dispatch column, which a multi-account deposit requires; "
                "add it as the last column"
            ),
        ),
        (
            MULTI,
            "dispatch_not_last.csv",
            "the dispatch column must be the last column of the header; move it there",
        ),
        (
            {},
            "duplicate_column.csv",
            "the header names the column 'Email' twice; keep one",
        ),
        ({}, "empty.csv", "the file is empty; its first line must be the header"),
        (
            {},
            "utf8_encoded.csv",
            (
                "the file is encoded in UTF-8; the deposit reads ISO-8859-1, so accented "
                "letters would be garbled: re-encode the file as ISO-8859-1"
            ),
        ),
        (
            {},
            "utf8_bom.csv",
            (
                "the file starts with a UTF-8 byte order mark; the deposit reads ISO-8859-1, "
                "so save the file as ISO-8859-1 without a BOM"
            ),
        ),
    ],
    ids=[
        "wrong-separator",
        "no-means-column",
        "case-of-column",
        "reference-column-missing",
        "dispatch-missing",
        "dispatch-not-last",
        "duplicate-column",
        "empty-file",
        "utf8",
        "utf8-bom",
    ],
)
def test_header_rejected(tmp_path, account, data_name, reason):
    deposit = Deposit(tmp_path, account)

    record = deposit.deposit_data("import", data_name, "clients.csv")

    assert record["stage"] == "ko"
    assert record["reason"] == reason
    assert (tmp_path / "contacts/import/ko/1447797847_clients.csv").is_file()
    assert deposit.store.contacts() == []


def make_zip(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data_name in members:
            archive.write(DATA / data_name, name)
    return path.read_bytes()


def test_zip_with_one_csv(tmp_path):
    deposit = Deposit(tmp_path / "root")
    content = make_zip(tmp_path / "a.zip", [("inside.csv", "clients_first.csv")])

    record = deposit.deposit("import", "clients.zip", content)

    assert record["stage"] == "ok"
    assert record["list"] == "clients"
    assert record["counts"] == counts(created=3)
    assert deposit.list_sizes() == [("default", "clients", 3)]


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        (
            [],
            "the zip contains nothing, but a zipped deposit must contain exactly one CSV file",
        ),
        (
            [("readme.txt", "email_only.csv")],
            "the zip contains readme.txt, but a zipped deposit must contain exactly one CSV file",
        ),
        (
            [("a.csv", "email_only.csv"), ("b.csv", "email_only.csv")],
            (
                "the zip contains a.csv, b.csv, but a zipped deposit must contain exactly one "
                "CSV file"
            ),
        ),
    ],
    ids=["no-csv", "not-a-csv", "two-csv"],
)
def test_zip_without_exactly_one_csv(tmp_path, members, reason):
    deposit = Deposit(tmp_path / "root")
    content = make_zip(tmp_path / "a.zip", members)

    record = deposit.deposit("import", "clients.zip", content)

    assert record["stage"] == "ko"
    assert record["reason"] == reason


def test_undecodable_zip(tmp_path):
    deposit = Deposit(tmp_path)

    record = deposit.deposit("import", "clients.zip", b"PK\x03\x04 not really a zip")

    assert record["stage"] == "ko"
    assert record["reason"] == (
        "the zip cannot be read (File is not a zip file); deposit a valid zip "
        "containing one CSV file"
    )


def sized_file(size):
    """Return an import file of exactly `size` bytes: one contact, then padding rows.

    Each padding row has a long Nom and no means of contact, so it counts
    as invalid without costing validation time.
    """
    head = b"Email;Nom\nanne@example.com;Leroy\n"
    row = b";" + b"x" * 9_998 + b"\n"
    rows, rest = divmod(size - len(head), len(row))
    last = b";" + b"y" * (rest - 2) + b"\n"
    content = head + row * rows + last
    assert len(content) == size
    return content, rows + 1


def test_file_at_limit_processed(tmp_path):
    deposit = Deposit(tmp_path)
    content, padding_rows = sized_file(20_000_000)

    record = deposit.deposit("import", "big.csv", content)

    assert record["stage"] == "ok"
    assert record["counts"] == counts(created=1, invalid=padding_rows)


def test_file_over_limit_rejected(tmp_path):
    deposit = Deposit(tmp_path)
    content, _ = sized_file(20_000_001)

    record = deposit.deposit("import", "big.csv", content)

    assert record["stage"] == "ko"
    assert record["reason"] == (
        "the file is 20,000,001 bytes, over the limit of 20,000,000 bytes per "
        "deposited file; split it into smaller files"
    )


def test_several_mode_files_reject_imports(tmp_path):
    deposit = Deposit(tmp_path)
    deposit.set_mode(ImportMode.ADD, ImportMode.SYNC)

    record = deposit.deposit_data("import", "email_only.csv")
    optout = deposit.deposit_data("optoutEMAIL", "email_only.csv")

    assert record["stage"] == "ko"
    assert record["reason"] == (
        "contacts/import contains several import mode files (.addToExistingList, "
        ".syncExistingList), so the mode is ambiguous; remove all but one"
    )
    assert optout["stage"] == "ok"


def test_one_mode_file_left_accepted(tmp_path):
    deposit = Deposit(tmp_path)
    deposit.set_mode(ImportMode.ADD, ImportMode.SYNC)
    deposit.deposit_data("import", "email_only.csv")

    deposit.set_mode(ImportMode.ADD)
    record = deposit.deposit_data("import", "email_only.csv")

    assert record["stage"] == "ok"
    assert record["counts"] == counts(created=1)


def understated_zip(path, declared_size):
    """Write a zip whose one CSV is longer than its headers declare."""
    data = b"Email;Nom\n" + b"anne@example.com;Leroy\n" * 1_000
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("clients.csv", data)
    raw = bytearray(path.read_bytes())
    # Uncompressed size: byte 22 of the local header, byte 24 of the central one.
    struct.pack_into("<I", raw, 22, declared_size)
    struct.pack_into("<I", raw, raw.rfind(b"PK\x01\x02") + 24, declared_size)
    return bytes(raw)


def test_zip_unpacking_past_limit(tmp_path):
    deposit = Deposit(tmp_path / "root")
    row = b"anne@example.com;Leroy\n"
    path = tmp_path / "big.zip"
    block = row * 100_000
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("big.csv", "w") as member,
    ):
        member.write(b"Email;Nom\n")
        for _ in range(200_000_000 // len(block) + 1):
            member.write(block)
    declared = zipfile.ZipFile(path).infolist()[0].file_size

    record = deposit.deposit("import", "big.zip", path.read_bytes())

    assert declared > 200_000_000
    assert record["stage"] == "ko"
    assert record["reason"] == (
        f"the zip's big.csv unpacks to {declared:,} bytes, over the limit of "
        "200,000,000 bytes; split the contacts into smaller files"
    )
    assert deposit.store.contacts() == []


def test_zip_understating_its_size(tmp_path):
    deposit = Deposit(tmp_path / "root")

    record = deposit.deposit(
        "import", "clients.zip", understated_zip(tmp_path / "a.zip", 100)
    )

    assert record["stage"] == "ko"
    assert record["reason"] == (
        "the zip is corrupt (Bad CRC-32 for file 'clients.csv'); deposit it again"
    )
    assert deposit.store.contacts() == []
