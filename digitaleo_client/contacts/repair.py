"""Repairing the damage spreadsheets do to phone numbers and dates.

A spreadsheet that reads a phone column as numbers drops the leading zero
(`612345678`), may show it in scientific notation (`3.3612345678E+10`, or
the lossy `3.361E+10`) or with a decimal part (`612345678.0`). Dates come in
several forms, or as Excel serial day numbers.

Each repair is exact or not made: a value that cannot be restored exactly is
flagged with the reason, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import phonenumbers

_SCIENTIFIC = re.compile(r"^\d(?:[.,](\d+))?[eE]\+?(\d+)$")
_DECIMAL_ZERO = re.compile(r"^(\d+)[.,]0+$")

# Written form of every birth date in the deposit files this client builds.
# NOTE: the published format does not say how dates are written; day first
# with four-digit years is the French convention and this project's choice.
DATE_FORMAT = "%d/%m/%Y"

_DAY_FIRST = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:[ T]00:00(?::00)?)?$"
)
_YEAR_FIRST = re.compile(
    r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})(?:[ T]00:00(?::00)?)?$"
)
_TWO_DIGIT_YEAR = re.compile(r"^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}$")
_SERIAL = re.compile(r"^\d{5}$")

# Excel's 1900 date system counts days from 30 December 1899 (for dates
# after February 1900, which is all a birth date can be).
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Repair:
    """Outcome of a repair: the new value, or None with the reason it is invalid."""

    value: str | None
    why: str


def _from_scientific(value: str) -> Repair | None:
    match = _SCIENTIFIC.match(value)
    if match is None:
        return None
    fraction = match.group(1) or ""
    exponent = int(match.group(2))
    try:
        number = Decimal(value.replace(",", "."))
    except InvalidOperation:
        return None
    if len(fraction) < exponent:
        return Repair(
            None,
            f"scientific notation keeps only {len(fraction) + 1} of the number's "
            f"{exponent + 1} digits; export the column as text",
        )
    if len(fraction) > exponent:
        return Repair(
            None, "scientific notation with a fractional part is no phone number"
        )
    return Repair(str(int(number)), "undid scientific notation")


def _restore_leading_zero(digits: str, country: str) -> str | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    prefix = metadata.national_prefix if metadata is not None else None
    if not prefix or digits.startswith(prefix):
        return None
    candidate = prefix + digits
    try:
        number = phonenumbers.parse(candidate, country)
    except phonenumbers.NumberParseException:
        return None
    if str(number.national_number) != digits or not phonenumbers.is_valid_number(
        number
    ):
        return None
    return candidate


def repair_phone(value: str, country: str) -> Repair | None:
    """Undo spreadsheet damage on a phone number read in `country`.

    Returns None when the value shows no such damage, a Repair with the new
    value when it can be restored exactly, and a Repair whose value is None
    when the damage lost digits.
    """
    steps: list[str] = []
    if value.isdigit():
        digits = value
    else:
        zero = _DECIMAL_ZERO.match(value)
        scientific = None if zero else _from_scientific(value)
        if zero is not None:
            digits = zero.group(1)
            steps.append("removed a decimal part")
        elif scientific is None:
            return None
        elif scientific.value is None:
            return scientific
        else:
            digits = scientific.value
            steps.append(scientific.why)

    restored = _restore_leading_zero(digits, country)
    if restored is not None:
        digits = restored
        steps.append("restored the leading zero")
    if not steps:
        return None
    return Repair(digits, ", ".join(steps))


def repair_date(value: str) -> Repair | None:
    """Write a birth date as DD/MM/YYYY.

    Reads day-first dates (`03/04/1980`, `3-4-1980`, `03.04.1980`), ISO dates
    (`1980-04-03`), either with a zero time, and Excel serial day numbers.
    Returns None when `value` is already DD/MM/YYYY, a Repair with the new
    value, or a Repair whose value is None for a date it cannot read exactly
    (two-digit years, impossible dates, other text).
    """
    parsed = _parse_date(value)
    if isinstance(parsed, Repair):
        return parsed
    written = parsed.strftime(DATE_FORMAT)
    if written == value:
        return None
    return Repair(written, "wrote the date as DD/MM/YYYY")


def _parse_date(value: str) -> date | Repair:
    day_first = _DAY_FIRST.match(value)
    year_first = _YEAR_FIRST.match(value)
    try:
        if day_first is not None:
            day, month, year = (int(part) for part in day_first.groups())
            return date(year, month, day)
        if year_first is not None:
            year, month, day = (int(part) for part in year_first.groups())
            return date(year, month, day)
    except ValueError:
        return Repair(None, "not a calendar date (dates are read day first)")
    if _SERIAL.match(value):
        return _EXCEL_EPOCH + timedelta(days=int(value))
    if _TWO_DIGIT_YEAR.match(value):
        return Repair(None, "two-digit year is ambiguous; write the year in full")
    return Repair(None, "unknown date form; write it as DD/MM/YYYY")
