"""The check and convert commands, run through typer."""

import json
from pathlib import Path

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
