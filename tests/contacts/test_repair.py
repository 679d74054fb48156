"""Undoing spreadsheet damage to phone numbers and birth dates."""

import pytest

from digitaleo_client.contacts.repair import repair_date, repair_phone


@pytest.mark.parametrize(
    ("value", "expected", "why"),
    [
        ("612345678", "0612345678", "restored the leading zero"),
        ("145678910", "0145678910", "restored the leading zero"),
        (
            "612345678.0",
            "0612345678",
            "removed a decimal part, restored the leading zero",
        ),
        ("3.3612345678E+10", "33612345678", "undid scientific notation"),
        (
            "6.12345678E+8",
            "0612345678",
            "undid scientific notation, restored the leading zero",
        ),
        (
            "6,12345678E+08",
            "0612345678",
            "undid scientific notation, restored the leading zero",
        ),
    ],
    ids=[
        "lost-zero",
        "lost-zero-fixed",
        "decimal-part",
        "scientific",
        "scientific-lost-zero",
        "comma-decimal",
    ],
)
def test_phone_repaired(value, expected, why):
    repair = repair_phone(value, "FR")
    assert repair is not None
    assert repair.value == expected
    assert repair.why == why


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (
            "3.361E+10",
            "scientific notation keeps only 4 of the number's 11 digits; export the column as text",
        ),
        (
            "3.36123456789E+10",
            "scientific notation with a fractional part is no phone number",
        ),
    ],
    ids=["lossy", "fraction"],
)
def test_phone_flagged(value, why):
    repair = repair_phone(value, "FR")
    assert repair is not None
    assert repair.value is None
    assert repair.why == why


@pytest.mark.parametrize(
    "value",
    ["0612345678", "06 12 34 56 78", "+33612345678", "33612345678", "12345", "abc"],
    ids=["national", "spaced", "international", "33-without-plus", "too-short", "text"],
)
def test_phone_left_alone(value):
    assert repair_phone(value, "FR") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3/4/1980", "03/04/1980"),
        ("03-04-1980", "03/04/1980"),
        ("03.04.1980", "03/04/1980"),
        ("1980-04-03", "03/04/1980"),
        ("1980/04/03", "03/04/1980"),
        ("1980-04-03 00:00:00", "03/04/1980"),
        ("03/04/1980 00:00", "03/04/1980"),
        # Excel counts days from 30 December 1899: 2 days to 1 January 1900,
        # 29,219 to 1 January 1980 (80 years, 19 of them leap), 91 more to 3 April.
        ("29314", "03/04/1980"),
    ],
    ids=[
        "short-day-month",
        "dashes",
        "dots",
        "iso",
        "iso-slashes",
        "iso-zero-time",
        "zero-time",
        "excel-serial",
    ],
)
def test_date_rewritten(value, expected):
    repair = repair_date(value)
    assert repair is not None
    assert repair.value == expected
    assert repair.why == "wrote the date as DD/MM/YYYY"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("29/02/1981", "not a calendar date (dates are read day first)"),
        ("04/13/1980", "not a calendar date (dates are read day first)"),
        ("03/04/80", "two-digit year is ambiguous; write the year in full"),
        ("1980", "unknown date form; write it as DD/MM/YYYY"),
        ("avril 1980", "unknown date form; write it as DD/MM/YYYY"),
    ],
    ids=["not-leap", "month-first", "two-digit-year", "year-only", "words"],
)
def test_date_flagged(value, why):
    repair = repair_date(value)
    assert repair is not None
    assert repair.value is None
    assert repair.why == why


def test_date_already_written():
    assert repair_date("03/04/1980") is None
