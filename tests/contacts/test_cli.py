"""The check and convert commands, run through typer."""

import base64
import json
import random
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digitaleo_client.cli import app

DATA = Path(__file__).parent.parent / "data" / "contacts"
RUNNER = CliRunner()


# A profile file or account variable of the person running the tests must
# not change the settings these tests expect.
ISOLATED = {"DIGITALEO_CONFIG": "/nonexistent/config.toml", "DIGITALEO_ACCOUNT": None}


def run(*args):
    return RUNNER.invoke(app, [str(arg) for arg in args], env=ISOLATED)


def test_check_summary():
    result = run("check", DATA / "crm-utf8-bom-comma.csv", "--max-invalid", "50")
    assert result.exit_code == 0, result.stderr
    assert "rows read: 3" in result.stdout
    assert "valid (written): 2" in result.stdout
    assert "rejected: 1 (33.3%)" in result.stdout
    assert "account settings: default settings: separator ';'" in result.stdout


def test_check_json_and_rejects(tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = run(
        "check",
        DATA / "half-invalid.csv",
        "--json",
        "--rejects",
        rejects,
        "--max-invalid",
        "50",
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert document["rows_read"] == 2
    assert document["rows_rejected"] == 1
    assert rejects.read_text(encoding="utf-8") == (
        "row;column;value;reason\n"
        "2;Email;bad@;no valid Email, Téléphone Fixe or Mobile: "
        "There must be something after the @-sign.\n"
        "2;Mobile;06 39 98 12 34;no valid Email, Téléphone Fixe or Mobile: "
        "not an assigned phone number in FR or in international form\n"
    )


def test_check_over_max_invalid_exits_6():
    result = run("check", DATA / "half-invalid.csv")
    assert result.exit_code == 6
    assert "more than 5% of rows would be rejected" in result.stdout


def test_check_unreadable_encoding_exits_6(tmp_path):
    source = tmp_path / "bad.csv"
    # Offsets: "Email;Nom\n" is 10 bytes, "x@example.com;" 14, "Caf" 3.
    source.write_bytes(b"Email;Nom\nx@example.com;Caf\xc3\n")
    result = run("check", source, "--encoding", "utf-8")
    assert result.exit_code == 6
    assert "byte 0xC3 at offset 27 is invalid utf-8" in result.stderr


def test_convert_writes_parts_and_report(tmp_path):
    result = run(
        "convert",
        DATA / "excel-cp1252.csv",
        "--out",
        tmp_path,
        "--name",
        "Clients VIP",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["parts"] == [str(tmp_path / "Clients VIP.csv")]
    assert (
        (tmp_path / "Clients VIP.csv").read_bytes().startswith(b"Pr\xe9nom;Nom;Email")
    )
    saved = json.loads(
        (tmp_path / "Clients VIP.report.json").read_text(encoding="utf-8")
    )
    assert saved["rows_written"] == 1


def test_convert_bad_zip_mode_exits_2(tmp_path):
    result = run(
        "convert", DATA / "excel-cp1252.csv", "--out", tmp_path, "--zip", "maybe"
    )
    assert result.exit_code == 2
    assert "--zip 'maybe' is invalid; use one of auto, always, never" in result.stderr


def test_check_reading_options(tmp_path):
    source = tmp_path / "crm.tsv"
    source.write_bytes(b"NUM\tGSM\tScore\nR1\t06 12 34 56 78\t12\n")
    mapping = tmp_path / "map.txt"
    mapping.write_text("NUM=Référence\n", encoding="utf-8")
    account = tmp_path / "account.toml"
    account.write_text('[account]\ndedup = "reference"\n', encoding="utf-8")

    result = run(
        "check",
        source,
        "--delimiter",
        "tab",
        "--map",
        "GSM=Mobile",
        "--map-file",
        mapping,
        "--drop-unmapped",
        "--account",
        account,
        "--json",
    )

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["dialect"] == "encoding utf-8, separator tab"
    assert document["columns"] == ["Mobile", "Référence"]
    assert document["dropped_columns"] == ["Score"]
    assert document["settings_used"].startswith(
        f"--account {account}: separator ';', dedup reference"
    )
    assert document["rows_written"] == 1


def test_check_missing_account_file_exits_2(tmp_path):
    result = run(
        "check", DATA / "excel-cp1252.csv", "--account", tmp_path / "none.toml"
    )
    assert result.exit_code == 2
    assert f"account file {tmp_path / 'none.toml'} not found" in result.stderr


def test_convert_random_text_parts_fit(tmp_path):
    # 100,000 lines of about 420 bytes: 42 MB, mostly base64, which deflates
    # to about three quarters of its size, 32 MB, so two zip parts.
    rng = random.Random(11)
    source = tmp_path / "random.csv"
    with source.open("w", encoding="ascii") as export:
        export.write("email,first_name,Champ 1\n")
        for i in range(100_000):
            value = base64.b64encode(rng.randbytes(300)).decode()
            export.write(f"m{i}@example.com,M,{value}\n")
    out = tmp_path / "out"

    result = run("convert", source, "--out", out, "--json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["rows_written"] == 100_000
    parts = [Path(path) for path in document["parts"]]
    assert [path.name for path in parts] == [
        "random.zip",
        "random.part2.zip",
    ]
    sizes = {path.name: path.stat().st_size for path in parts}
    assert all(size <= 20_000_000 for size in sizes.values()), sizes
    assert sorted(path.name for path in out.iterdir()) == sorted(
        [*sizes, "random.report.json"]
    )


def test_convert_failure_leaves_no_parts(tmp_path):
    source = tmp_path / "late-error.csv"
    rows = b"".join(b"m%d@example.com;M\n" % i for i in range(5000))
    # Python's csv module reads no field longer than 131,072 characters.
    source.write_bytes(b"Email;Nom\n" + rows + b"x@example.com;" + b"A" * 140_000)
    out = tmp_path / "out"

    result = run("convert", source, "--out", out)

    assert result.exit_code == 6
    assert "row 5002: field larger than field limit (131072)" in result.stderr
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    "delimiter",
    ["ab", '"', "\n", ""],
    ids=["two-characters", "quote", "line-break", "empty"],
)
@pytest.mark.parametrize("command", ["check", "convert"])
def test_invalid_delimiter_exits_2(tmp_path, command, delimiter):
    extra = ["--out", tmp_path / "out"] if command == "convert" else []

    result = run(command, DATA / "excel-cp1252.csv", "--delimiter", delimiter, *extra)

    assert result.exit_code == 2
    assert " ".join(result.stderr.split()) == (
        f"error: --delimiter {delimiter!r} is invalid: the separator must be one "
        "character other than a quote or a line break, such as ';' or ',', or 'tab'"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["check", "convert"])
def test_unknown_encoding_exits_2(tmp_path, command):
    extra = ["--out", tmp_path / "out"] if command == "convert" else []

    result = run(command, DATA / "excel-cp1252.csv", "--encoding", "klingon", *extra)

    assert result.exit_code == 2
    assert result.stderr == (
        "error: unknown encoding 'klingon'; use a name such as utf-8, cp1252 or "
        "latin-1\n"
    )
    assert not (tmp_path / "out").exists()


def test_check_xlsx_exits_6(tmp_path):
    # An .xlsx file is a zip archive of XML parts.
    source = tmp_path / "export.xlsx"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")

    result = run("check", source)

    assert result.exit_code == 6
    assert result.stderr == (
        f"error: {source} looks like a zip or xlsx file, not a CSV; unzip it, or "
        "save the spreadsheet as CSV\n"
    )
    assert "PK" not in result.stdout
