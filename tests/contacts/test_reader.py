"""Reading CRM exports: encodings, separators, line endings and quotes."""

import codecs
import gzip
import zipfile

import pytest

from digitaleo_client.contacts.reader import ExportReader
from digitaleo_client.errors import ConfigurationError, InputFileError

NAMES = "Nom;Email\nHélène;h@example.com\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"Nom;Email\nH\xc3\xa9l\xc3\xa8ne;h@example.com\n", "utf-8"),
        (codecs.BOM_UTF8 + NAMES.encode("utf-8"), "utf-8-sig"),
        (b"Nom;Email\nH\xe9l\xe8ne;h@example.com\n", "cp1252"),
        (codecs.BOM_UTF16_LE + NAMES.encode("utf-16-le"), "utf-16"),
    ],
    ids=["utf8", "utf8-bom", "latin1-or-cp1252", "utf16-bom"],
)
def test_encoding_detected(tmp_path, data, encoding):
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    with ExportReader(path) as reader:
        rows = list(reader)
    assert reader.dialect.encoding == encoding
    assert reader.header == ["Nom", "Email"]
    assert rows == [(2, ["Hélène", "h@example.com"])]


def test_cp1252_typographic_bytes(tmp_path):
    path = tmp_path / "export.csv"
    # 0x9C is œ and 0x80 is € in Windows-1252; ISO-8859-1 has controls there.
    path.write_bytes(b"Nom;Email\nB\x9cuf \x80;b@example.com\n")
    with ExportReader(path) as reader:
        assert list(reader) == [(2, ["Bœuf €", "b@example.com"])]


def test_given_encoding_checked(tmp_path):
    path = tmp_path / "export.csv"
    # "Nom;Email\n" is 10 bytes and "Ana" 3, so the bad byte is at offset 13.
    path.write_bytes(b"Nom;Email\nAna\xe9;a@example.com\n")
    with pytest.raises(InputFileError) as caught:
        ExportReader(path, encoding="utf-8")
    assert str(caught.value) == (
        f"{path}: byte 0xE9 at offset 13 is invalid utf-8; check --encoding, "
        "or leave it out to detect the encoding"
    )
    assert caught.value.offset == 13


def test_unknown_encoding_name(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"Nom;Email\n")
    with pytest.raises(ConfigurationError) as caught:
        ExportReader(path, encoding="klingon")
    assert str(caught.value) == (
        "unknown encoding 'klingon'; use a name such as utf-8, cp1252 or latin-1"
    )
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("Nom;Email;Ville\nDupont;d@example.com;Paris\n", ";"),
        ("Nom,Email,Ville\nDupont,d@example.com,Paris\n", ","),
        ("Nom\tEmail\tVille\nDupont\td@example.com\tParis\n", "\t"),
        ("Nom|Email|Ville\nDupont|d@example.com|Paris\n", "|"),
        ('Nom,Email,Ville\n"Dupont; Fils",d@example.com,Paris\n', ","),
        ("Nom;Email;Ville\r\nDupont;d@example.com;Paris\r\n", ";"),
        ("Nom;Email;Ville\rDupont;d@example.com;Paris\r", ";"),
    ],
    ids=[
        "semicolon",
        "comma",
        "tab",
        "pipe",
        "comma-with-quoted-semicolon",
        "crlf",
        "cr",
    ],
)
def test_dialect_sniffed(tmp_path, text, delimiter):
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("utf-8"))
    with ExportReader(path) as reader:
        rows = [values for _, values in reader]
    assert reader.dialect.delimiter == delimiter
    assert reader.header == ["Nom", "Email", "Ville"]
    assert rows[0][1] == "d@example.com"


def test_quoted_separators_quotes_and_newlines(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(
        b'Nom;Email;Adresse\n"Le ""Bon"" Coin";a@example.com;"12 rue X;\r\nB\xc3\xa2t 2"\n'
        b"Martin;m@example.com;Lyon\n"
    )
    with ExportReader(path) as reader:
        rows = list(reader)
    assert rows == [
        (2, ['Le "Bon" Coin', "a@example.com", "12 rue X;\r\nBât 2"]),
        (3, ["Martin", "m@example.com", "Lyon"]),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty; export it again"),
        (b"\n\n", "the file is empty; export it again"),
    ],
    ids=["empty", "blank-lines"],
)
def test_unreadable_export(tmp_path, data, message):
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    with pytest.raises(InputFileError) as caught:
        ExportReader(path)
    assert str(caught.value) == f"{path}: {message}"


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(InputFileError) as caught:
        ExportReader(path)
    assert str(caught.value) == f"{path}: file not found; check the path"


def test_one_column_file(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"Email\na@example.com\n")
    with ExportReader(path) as reader:
        rows = list(reader)
    assert reader.header == ["Email"]
    assert rows == [(2, ["a@example.com"])]


def zip_bytes(tmp_path):
    path = tmp_path / "made.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("contacts.csv", "Email;Nom\nd@example.com;Dupont\n")
    return path.read_bytes()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            zip_bytes,
            (
                "looks like a zip or xlsx file, not a CSV; unzip it, or save "
                "the spreadsheet as CSV"
            ),
        ),
        (
            lambda _: gzip.compress(b"Email;Nom\nd@example.com;Dupont\n"),
            "looks like a gzip file, not a CSV; decompress it with gunzip first",
        ),
        (
            # The start of an OLE2 compound file, the container of .xls files.
            lambda _: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
            "looks like an Excel .xls or other Office file, not a CSV; save it as CSV",
        ),
        (
            lambda _: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
            "looks like a PDF file, not a CSV; export the contacts as CSV from the CRM",
        ),
    ],
    ids=["zip", "gzip", "xls", "pdf"],
)
def test_binary_file_rejected(tmp_path, make, message):
    path = tmp_path / "export.csv"
    path.write_bytes(make(tmp_path))

    with pytest.raises(InputFileError) as caught:
        ExportReader(path)

    assert str(caught.value) == f"{path} {message}"
    assert caught.value.exit_code == 6
