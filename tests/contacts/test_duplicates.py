"""Rows of one export that the deposit merges, found while checking the export."""

import json

import pytest
from typer.testing import CliRunner

from digitaleo_client.cli import app
from digitaleo_client.contacts import duplicates
from digitaleo_client.contacts.account import AccountSettings, Dedup
from digitaleo_client.contacts.convert import check_file
from digitaleo_client.contacts.duplicates import Duplicate

ISOLATED = {"DIGITALEO_CONFIG": "/nonexistent/config.toml", "DIGITALEO_ACCOUNT": None}

CASE_DIFFERENCE = (
    "email,first_name,mobile\n"
    "a@example.com,A,0612345601\n"
    "a@example.com,A,0612345601\n"
    "A@Example.com,B,0612345602\n"
)


def check(tmp_path, text, **settings):
    source = tmp_path / "export.csv"
    source.write_text(text, encoding="utf-8")
    return check_file(source, AccountSettings(**settings))


CASES = [
    pytest.param(
        Dedup.EMAIL,
        CASE_DIFFERENCE,
        [
            Duplicate(3, 2, "Email", "Email a@example.com"),
            Duplicate(4, 2, "Email", "Email a@example.com"),
        ],
        id="email-case-difference",
    ),
    pytest.param(
        Dedup.MOBILE,
        "email,mobile\n"
        "one@example.com,06 12 34 56 78\n"
        "two@example.com,+33612345678\n"
        "three@example.com,06 12 34 56 79\n",
        [Duplicate(3, 2, "Mobile", "Mobile +33612345678")],
        id="mobile-two-spellings",
    ),
    pytest.param(
        Dedup.PHONE,
        "email,phone\none@example.com,01 45 67 89 10\ntwo@example.com,0033145678910\n",
        [Duplicate(3, 2, "Téléphone Fixe", "Téléphone Fixe +33145678910")],
        id="fixed-phone-international",
    ),
    pytest.param(
        Dedup.EMAIL_PHONE_MOBILE,
        "email,phone,mobile\n"
        "a@example.com,01 45 67 89 10,06 12 34 56 78\n"
        "A@example.com,0145678910,+33612345678\n"
        "a@example.com,,06 12 34 56 78\n"
        "b@example.com,,\n"
        "b@example.com,,\n",
        [
            Duplicate(
                3,
                2,
                "Email and Téléphone Fixe and Mobile",
                "Email a@example.com, Téléphone Fixe +33145678910, Mobile +33612345678",
            ),
            Duplicate(
                6,
                5,
                "Email and Téléphone Fixe and Mobile",
                "Email b@example.com, Téléphone Fixe (empty), Mobile (empty)",
            ),
        ],
        id="several-fields",
    ),
    pytest.param(
        Dedup.REFERENCE,
        "customer_id,email\n"
        "C1,one@example.com\n"
        "c1,two@example.com\n"
        "C1,three@example.com\n",
        [Duplicate(4, 2, "Référence", "Référence C1")],
        id="reference-case-sensitive",
    ),
    pytest.param(
        Dedup.EMAIL,
        "email,mobile\n"
        "one@example.com,06 12 34 56 78\n"
        "two@example.com,06 12 34 56 78\n",
        [],
        id="no-duplicates",
    ),
    pytest.param(
        Dedup.EMAIL,
        "email,mobile\nnot-an-email,06 12 34 56 78\nnot-an-email,06 12 34 56 79\n",
        [],
        id="invalid-email-has-no-key",
    ),
    pytest.param(
        Dedup.NONE,
        CASE_DIFFERENCE,
        [],
        id="criterion-none",
    ),
    pytest.param(
        Dedup.PHONE,
        CASE_DIFFERENCE,
        [],
        id="criterion-column-absent",
    ),
]


@pytest.mark.parametrize(("criterion", "text", "expected"), CASES)
def test_duplicates_by_criterion(tmp_path, criterion, text, expected):
    report = check(tmp_path, text, dedup=criterion)

    assert report.duplicates == expected
    assert report.duplicate_rows == len(expected)
    assert report.rows_rejected == 0


def test_duplicate_rows_still_written(tmp_path):
    report = check(tmp_path, CASE_DIFFERENCE)

    assert report.rows_written == 3
    assert report.rejected == []


def test_duplicate_message_names_rows_and_key():
    duplicate = Duplicate(4, 2, "Email", "Email a@example.com")

    assert duplicate.message == (
        "row 4 has the same Email as row 2 (Email a@example.com), so the deposit "
        "merges them into one contact and row 4's values replace row 2's"
    )


def test_rejected_row_is_not_a_duplicate(tmp_path):
    text = (
        "email,mobile\n"
        "a@example.com,06 12 34 56 78\n"
        "a@example.com,06 12 34 56 78,extra\n"
        "A@example.com,\n"
    )
    report = check(tmp_path, text)

    assert report.rows_rejected == 1
    assert report.duplicates == [Duplicate(4, 2, "Email", "Email a@example.com")]


def test_duplicates_across_batches(tmp_path):
    # 1,500 distinct rows fill the first batch of 1,000 and half the second;
    # the last row repeats row 2 in another case.
    rows = [f"contact.{index}@example.com" for index in range(1500)]
    text = "email\n" + "\n".join([*rows, "Contact.0@Example.com"]) + "\n"
    report = check(tmp_path, text)

    assert report.duplicates == [
        Duplicate(1502, 2, "Email", "Email contact.0@example.com")
    ]


def test_duplicates_in_one_screened_batch(tmp_path):
    rows = [f"contact.{index}@example.com" for index in range(10)]
    text = "email\n" + "\n".join([*rows, rows[3]]) + "\n"
    report = check(tmp_path, text)

    assert report.duplicates == [
        Duplicate(12, 5, "Email", "Email contact.3@example.com")
    ]


def test_multi_account_merges_within_one_account(tmp_path):
    text = (
        "email,dispatch\n"
        "a@example.com,AO201\n"
        "a@example.com,AO202\n"
        "A@example.com,AO201\n"
        "a@example.com,AO203\n"
    )
    dispatch = {"AO201": "rennes", "AO202": "brest", "AO203": "brest"}
    report = check(tmp_path, text, dispatch=dispatch)

    assert report.duplicates == [
        Duplicate(4, 2, "Email", "Email a@example.com"),
        Duplicate(5, 3, "Email", "Email a@example.com"),
    ]


def test_listed_duplicates_capped_all_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(duplicates, "MAX_LISTED_DUPLICATES", 2)
    text = "email\n" + "a@example.com\n" * 5
    report = check(tmp_path, text)

    assert report.duplicate_rows == 4
    assert report.duplicates == [
        Duplicate(3, 2, "Email", "Email a@example.com"),
        Duplicate(4, 2, "Email", "Email a@example.com"),
    ]


def run_check(tmp_path, *args):
    source = tmp_path / "dups.csv"
    source.write_text(CASE_DIFFERENCE, encoding="utf-8")
    return CliRunner().invoke(app, ["check", str(source), *args], env=ISOLATED)


def test_check_summary_counts_merged_rows(tmp_path):
    result = run_check(tmp_path)

    assert result.exit_code == 0, result.stderr
    assert "valid (written): 3" in result.stdout
    assert "rows merged by the deposit: 2" in result.stdout
    assert (
        "  row 4 has the same Email as row 2 (Email a@example.com), so the deposit "
        "merges them into one contact and row 4's values replace row 2's"
    ) in result.stdout


def test_check_json_lists_merged_rows(tmp_path):
    result = run_check(tmp_path, "--json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["duplicate_rows"] == 2
    assert document["duplicates"][1] == {
        "row": 4,
        "earlier_row": 2,
        "columns": "Email",
        "value": "Email a@example.com",
        "message": (
            "row 4 has the same Email as row 2 (Email a@example.com), so the "
            "deposit merges them into one contact and row 4's values replace "
            "row 2's"
        ),
    }


def test_comparison_stops_at_row_cap(tmp_path, monkeypatch):
    # Rows are compared in batches of 1,000: with a cap of 1,000 keys the
    # first batch (rows 2 to 1,001) is compared and the later ones are not.
    monkeypatch.setattr(duplicates, "MAX_COMPARED_ROWS", 1_000)
    lines = ["email"] + [f"c{number}@example.com" for number in range(2_500)]
    lines[10] = "c0@example.com"  # row 11 repeats row 2
    lines[1_500] = "c1@example.com"  # row 1,501 repeats row 3, past the cap

    report = check(tmp_path, "\n".join(lines) + "\n", dedup=Dedup.EMAIL)

    assert report.duplicate_rows == 1
    assert report.duplicates == [Duplicate(11, 2, "Email", "Email c0@example.com")]
    assert report.duplicates_compared_until == 1_001
    assert report.as_dict()["duplicates_compared_until"] == 1_001
