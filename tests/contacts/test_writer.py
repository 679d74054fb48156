"""Deposit part writer: exact bytes, quoting, part splitting and zips."""

import base64
import csv
import io
import random
import string
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digitaleo_client.contacts.writer import PartWriter, ZipMode, part_name

HEADER = ["Civilité", "Prénom", "Nom", "Email", "Société"]


def write_parts(tmp_path, rows, header=HEADER, **options):
    writer = PartWriter(tmp_path, "clients", header, **options)
    for row in rows:
        writer.write_row(row)
    return writer.close()


def test_bytes_accents_separator_and_quote(tmp_path):
    rows = [
        ["Mme", "Hélène", "Lefèvre", "helene@example.com", "Ça & Là"],
        ["M.", "Jean-Noël", "D'Arc", "jean@example.com", "Dupont; Fils"],
        ["M.", "Zoé", "Martin", "zoe@example.com", 'Le "Bon" Coin'],
    ]
    (part,) = write_parts(tmp_path, rows)
    expected = (
        b"Civilit\xe9;Pr\xe9nom;Nom;Email;Soci\xe9t\xe9\n"
        b"Mme;H\xe9l\xe8ne;Lef\xe8vre;helene@example.com;\xc7a & L\xe0\n"
        b'M.;Jean-No\xebl;D\'Arc;jean@example.com;"Dupont; Fils"\n'
        b'M.;Zo\xe9;Martin;zoe@example.com;"Le ""Bon"" Coin"\n'
    )
    assert part.name == "clients.csv"
    assert part.read_bytes() == expected


def test_bytes_other_separator(tmp_path):
    (part,) = write_parts(tmp_path, [["M.", "a|b", "c;d", "", ""]], separator="|")
    assert part.read_bytes().splitlines()[1] == b'M.|"a|b"|c;d||'


def test_empty_file_gets_header_part(tmp_path):
    (part,) = write_parts(tmp_path, [])
    assert part.read_bytes() == b"Civilit\xe9;Pr\xe9nom;Nom;Email;Soci\xe9t\xe9\n"


@pytest.mark.parametrize(
    ("index", "extension", "name"),
    [
        (1, ".csv", "clients.csv"),
        (2, ".csv", "clients.part2.csv"),
        (3, ".zip", "clients.part3.zip"),
    ],
    ids=["first", "second", "third-zip"],
)
def test_part_names(index, extension, name):
    assert part_name("clients", index, extension) == name


def test_csv_parts_split_before_limit(tmp_path):
    header = ["Email"]
    # Header line "Email\n" is 6 bytes; each row "a0@example.com\n" is 15.
    rows = [[f"a{i}@example.com"] for i in range(10)]
    parts = write_parts(
        tmp_path, rows, header=header, max_part_bytes=6 + 15 * 4, zip_mode=ZipMode.NEVER
    )
    assert [path.name for path in parts] == [
        "clients.csv",
        "clients.part2.csv",
        "clients.part3.csv",
    ]
    assert parts[0].read_bytes() == b"Email\n" + b"".join(
        f"a{i}@example.com\n".encode() for i in range(4)
    )
    assert parts[2].read_bytes() == b"Email\na8@example.com\na9@example.com\n"
    assert all(path.stat().st_size <= 66 for path in parts)


def test_auto_zips_when_one_part_is_not_enough(tmp_path):
    rows = [[f"contact{i:05d}@example.com"] for i in range(2000)]
    parts = write_parts(
        tmp_path, rows, header=["Email"], max_part_bytes=20_000, zip_mode=ZipMode.AUTO
    )
    assert parts[0].name == "clients.zip"
    assert all(path.suffix == ".zip" for path in parts)
    assert all(path.stat().st_size <= 20_000 for path in parts)
    assert not (tmp_path / "clients.csv").exists()
    emails = []
    for path in parts:
        with zipfile.ZipFile(path) as archive:
            (entry,) = archive.namelist()
            lines = archive.read(entry).decode("iso-8859-1").splitlines()
        assert lines[0] == "Email"
        emails += lines[1:]
    assert emails == [f"contact{i:05d}@example.com" for i in range(2000)]


def test_auto_keeps_one_csv_when_it_fits(tmp_path):
    (part,) = write_parts(
        tmp_path, [["M.", "Jean", "Dupont", "j@example.com", ""]], zip_mode=ZipMode.AUTO
    )
    assert part.name == "clients.csv"


def test_always_zips_one_part(tmp_path):
    (part,) = write_parts(
        tmp_path,
        [["M.", "Jean", "Dupont", "j@example.com", ""]],
        zip_mode=ZipMode.ALWAYS,
    )
    with zipfile.ZipFile(part) as archive:
        assert archive.namelist() == ["clients.csv"]
        assert archive.read("clients.csv").endswith(b"M.;Jean;Dupont;j@example.com;\n")


def test_row_larger_than_part_is_rejected(tmp_path):
    writer = PartWriter(tmp_path, "clients", ["Email"], max_part_bytes=20)
    with pytest.raises(ValueError, match="cannot fit in a 20-byte part"):
        writer.write_row(["x" * 30])


latin1_text = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255))


@settings(max_examples=200, deadline=None)
@given(
    table=st.lists(st.lists(latin1_text, min_size=3, max_size=3), max_size=20),
    separator=st.sampled_from([";", ",", "\t", "|"]),
)
def test_roundtrip_latin1_table(tmp_path_factory, table, separator):
    out_dir = tmp_path_factory.mktemp("parts")
    header = ["Nom", "Email", "Ville"]
    (part,) = write_parts(
        out_dir, table, header=header, separator=separator, zip_mode=ZipMode.NEVER
    )
    text = part.read_bytes().decode("iso-8859-1")
    read_back = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    assert read_back == [header] + table


def test_write_rows_matches_write_row(tmp_path):
    rows = [[f"a{i}@example.com"] for i in range(10)] + [["with\rcarriage return"]]
    one_by_one = PartWriter(
        tmp_path / "one",
        "clients",
        ["Email"],
        max_part_bytes=70,
        zip_mode=ZipMode.NEVER,
    )
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    for row in rows:
        one_by_one.write_row(row)
    many = PartWriter(
        tmp_path / "many",
        "clients",
        ["Email"],
        max_part_bytes=70,
        zip_mode=ZipMode.NEVER,
    )
    many.write_rows(rows[:3])
    many.write_rows(rows[3:])
    expected = [path.read_bytes() for path in one_by_one.close()]
    written = [path.read_bytes() for path in many.close()]
    assert written == expected
    assert expected[-1].endswith(b'"with\rcarriage return"\n')
    assert many.rows_written == 11


def random_text_rows(count, seed=7):
    """Rows whose second value is base64 of random bytes, which barely compresses."""
    rng = random.Random(seed)
    return [
        [f"m{i}@example.com", base64.b64encode(rng.randbytes(300)).decode()]
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("zip_mode", "max_part_bytes"),
    [
        (ZipMode.AUTO, 200_000),
        (ZipMode.AUTO, 1_000_000),
        (ZipMode.ALWAYS, 1_000_000),
    ],
    ids=["auto-200k", "auto-1m", "always-1m"],
)
def test_zip_parts_of_random_text_fit(tmp_path, zip_mode, max_part_bytes):
    # Each line is 16 to 21 bytes of e-mail, a separator, 400 of base64, LF.
    rows = random_text_rows(max_part_bytes * 3 // 420)
    writer = PartWriter(
        tmp_path,
        "clients",
        ["Email", "Champ 1"],
        max_part_bytes=max_part_bytes,
        zip_mode=zip_mode,
    )
    for start in range(0, len(rows), 1000):
        writer.write_rows(rows[start : start + 1000])
    parts = writer.close()

    sizes = {path.name: path.stat().st_size for path in parts}
    assert all(size <= max_part_bytes for size in sizes.values()), sizes
    lines = []
    for path in parts:
        with zipfile.ZipFile(path) as archive:
            (entry,) = archive.namelist()
            text = archive.read(entry).decode("iso-8859-1")
        assert text.startswith("Email;Champ 1\n")
        lines += text.splitlines()[1:]
    assert lines == [f"{email};{value}" for email, value in rows]


def test_zip_over_limit_is_written_as_csv(tmp_path):
    # The CSV is "Email\n" (6 bytes) and one 281-byte line: 287 bytes. Zipped,
    # the local header, central directory and end record (30, 46 and 22 bytes
    # plus twice the 11-byte entry name) add 120 bytes, and 280 characters
    # drawn from 88 do not deflate to under 180.
    alphabet = string.ascii_letters + string.digits + "!#$%&()*+-./:<=>?@[]^_{|}~"
    value = "".join(random.Random(5).choices(alphabet, k=280))
    (part,) = write_parts(
        tmp_path,
        [[value]],
        header=["Email"],
        max_part_bytes=300,
        zip_mode=ZipMode.ALWAYS,
    )
    assert part.name == "clients.csv"
    assert part.read_bytes() == b"Email\n" + value.encode() + b"\n"
    assert not (tmp_path / "clients.zip").exists()


def test_auto_unzipped_first_part(tmp_path):
    # "Email\n" (6 bytes) and two 101-byte lines fill 208 of 300 bytes; the
    # third line starts zip parts. Zipped, the first part's rows and the 120
    # bytes of zip structure would pass 300, so it stays a CSV. Each later
    # zip part takes one line, since the zip structure leaves no room for two.
    alphabet = string.ascii_letters + string.digits + "!#$%&()*+-./:<=>?@[]^_{|}~"
    rng = random.Random(9)
    values = ["".join(rng.choices(alphabet, k=100)) for _ in range(5)]

    parts = write_parts(
        tmp_path,
        [[value] for value in values],
        header=["Email"],
        max_part_bytes=300,
        zip_mode=ZipMode.AUTO,
    )

    assert [path.name for path in parts] == [
        "clients.csv",
        "clients.part2.zip",
        "clients.part3.zip",
        "clients.part4.zip",
    ]
    assert parts[0].read_bytes() == f"Email\n{values[0]}\n{values[1]}\n".encode()
    for path, value in zip(parts[1:], values[2:], strict=True):
        assert path.stat().st_size <= 300
        with zipfile.ZipFile(path) as archive:
            (entry,) = archive.namelist()
            assert archive.read(entry) == f"Email\n{value}\n".encode()
