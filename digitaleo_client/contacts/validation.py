"""Validity of contacts, as the deposit judges it.

The client uses these rules to predict rejections before upload and the fake
server uses the same ones to process files, so both agree by construction.

- An e-mail is valid when email-validator accepts its syntax (no DNS lookup).
- A phone number is valid when phonenumbers' `is_valid_number` accepts it,
  read in the account's national form or in the international forms `+33…`,
  `0033…` and `33…`. `Mobile` must also be of a mobile type.
- A contact needs at least one valid Email, Téléphone Fixe or Mobile; under
  the reference criterion it needs a `Référence`; in a multi-account deposit
  its `dispatch` must be a known reference. With `invalid_values =
  "reject_contact"` any invalid value rejects the contact; otherwise the
  invalid values are dropped and counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

import email_validator
import phonenumbers
from phonenumbers import PhoneNumberType

from digitaleo_client.contacts import columns
from digitaleo_client.contacts.account import AccountSettings, InvalidValues
from digitaleo_client.contacts.fastpaths import (
    all_simple_valid_emails,
    is_simple_valid_email,
    phone_plan,
)

_CACHE_SIZE = 65536

# Characters people put between digits of a phone number.
_PHONE_SEPARATORS = re.compile(r"[\s.\-/()]")

_MOBILE_TYPES = frozenset(
    {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


class RejectReason(StrEnum):
    """Why the deposit skips a whole contact."""

    NO_VALID_MEANS = "no_valid_means"
    MISSING_REFERENCE = "missing_reference"
    UNKNOWN_DISPATCH = "unknown_dispatch"
    INVALID_VALUE = "invalid_value"


REJECT_REASON_TEXT: dict[RejectReason, str] = {
    RejectReason.NO_VALID_MEANS: "no valid Email, Téléphone Fixe or Mobile",
    RejectReason.MISSING_REFERENCE: "missing Référence, required by the reference criterion",
    RejectReason.UNKNOWN_DISPATCH: "dispatch reference not in the account's dispatch map",
    RejectReason.INVALID_VALUE: "an invalid value, and invalid_values is reject_contact",
}


@dataclass(frozen=True)
class InvalidValue:
    """One value the deposit will not keep: its column, the value and why."""

    column: str
    value: str
    reason: str


@dataclass
class ContactVerdict:
    """The deposit's verdict on one contact row."""

    reject_reason: RejectReason | None = None
    invalid_values: list[InvalidValue] = field(default_factory=list)
    # Means of contact in their canonical form: e-mails lower-cased, phone
    # numbers in E.164. Only valid values appear.
    canonical: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.reject_reason is None

    @property
    def reject_text(self) -> str | None:
        if self.reject_reason is None:
            return None
        return REJECT_REASON_TEXT[self.reject_reason]


def canonical_email(value: str) -> str | None:
    """Return the e-mail in canonical form (lower case), or None if invalid."""
    if is_simple_valid_email(value):
        return value.lower()
    return library_canonical_email(value)


@lru_cache(maxsize=_CACHE_SIZE)
def library_canonical_email(value: str) -> str | None:
    """Return canonical_email's verdict from email-validator alone, without shortcuts."""
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return None
    return value.lower()


def email_error(value: str) -> str | None:
    """Return email-validator's reason for rejecting `value`, or None if valid."""
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        return str(error)
    return None


def _phone_readings(value: str, country: str) -> list[phonenumbers.PhoneNumber]:
    digits = _PHONE_SEPARATORS.sub("", value)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    candidates = [digits]
    if not digits.startswith("+"):
        code = str(phonenumbers.country_code_for_region(country))
        if digits.startswith(code):
            candidates.append("+" + digits)
    readings = []
    for candidate in candidates:
        try:
            readings.append(phonenumbers.parse(candidate, country))
        except phonenumbers.NumberParseException:
            continue
    return readings


def canonical_phone(value: str, country: str, mobile: bool) -> str | None:
    """Return a valid phone number in E.164, or None if invalid.

    `value` is read in `country`'s national form first, then as an
    international number. With `mobile`, the number must be of a mobile type.
    """
    plan = phone_plan(country)
    national = plan.national_number(value) if plan is not None else None
    if plan is None or national is None:
        return library_canonical_phone(value, country, mobile)
    kind = plan.number_type(national)
    if kind is None or (mobile and kind != "mobile"):
        return None
    return f"+{plan.country_code}{national}"


@lru_cache(maxsize=_CACHE_SIZE)
def library_canonical_phone(value: str, country: str, mobile: bool) -> str | None:
    """Return canonical_phone's verdict from phonenumbers alone, without shortcuts."""
    for number in _phone_readings(value, country):
        if not phonenumbers.is_valid_number(number):
            continue
        if mobile and phonenumbers.number_type(number) not in _MOBILE_TYPES:
            continue
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def phone_error(value: str, country: str, mobile: bool) -> str | None:
    """Return why `value` is not a valid (mobile) phone number, or None."""
    readings = _phone_readings(value, country)
    if not readings:
        return "not a phone number"
    valid = [number for number in readings if phonenumbers.is_valid_number(number)]
    if not valid:
        return f"not an assigned phone number in {country} or in international form"
    if mobile and not any(phonenumbers.number_type(n) in _MOBILE_TYPES for n in valid):
        return "not a mobile number"
    return None


class ContactValidator:
    """Judge contact rows against one account's settings.

    Rows are mappings from French column name to value; values are stripped
    of surrounding spaces before they are judged.
    """

    def __init__(self, account: AccountSettings) -> None:
        self.account = account
        # Read once: check runs once per row of files of a million rows.
        self._country = account.country
        self._multi_account = account.multi_account
        self._requires_reference = account.requires_reference
        self._reject_invalid = account.invalid_values is InvalidValues.REJECT_CONTACT

    def check(self, row: dict[str, str]) -> ContactVerdict:
        """Judge one contact row; see the module documentation for the rules."""
        verdict = ContactVerdict()
        self._check_means(row, verdict)

        if self._multi_account:
            reference = row.get(columns.DISPATCH, "").strip()
            if reference not in self.account.dispatch:
                verdict.reject_reason = RejectReason.UNKNOWN_DISPATCH
                return verdict
        if self._requires_reference and not row.get(columns.REFERENCE, "").strip():
            verdict.reject_reason = RejectReason.MISSING_REFERENCE
        elif not verdict.canonical:
            verdict.reject_reason = RejectReason.NO_VALID_MEANS
        elif verdict.invalid_values and self._reject_invalid:
            verdict.reject_reason = RejectReason.INVALID_VALUE
        return verdict

    def screen(self, batch: dict[str, list[str]], count: int) -> bool:
        """Tell whether check would find every row of a batch valid, without invalid values.

        `batch` maps a column to its values in the `count` rows, a column
        absent meaning empty values. False means "not sure": judge each row
        with check. Meant for large files, where most batches are clean and
        a few regular expressions over the whole batch replace `count` calls.
        """
        means = [batch.get(column, [""] * count) for column in columns.MEANS_OF_CONTACT]
        if not all(any(values) for values in zip(*means, strict=True)):
            return False
        if self._multi_account:
            dispatch = batch.get(columns.DISPATCH, [""] * count)
            if not all(value.strip() in self.account.dispatch for value in dispatch):
                return False
        if self._requires_reference:
            references = batch.get(columns.REFERENCE, [""] * count)
            if not all(value.strip() for value in references):
                return False
        return self._screen_means(*means)

    def _screen_means(
        self, emails: list[str], fixed: list[str], mobiles: list[str]
    ) -> bool:
        emails = [value for value in emails if value]
        if emails and not all_simple_valid_emails(emails):
            return False
        fixed = [value for value in fixed if value]
        mobiles = [value for value in mobiles if value]
        if not fixed and not mobiles:
            return True
        plan = phone_plan(self._country)
        if plan is None:
            return False
        if fixed and not plan.all_valid(fixed, mobile=False):
            return False
        return not mobiles or plan.all_valid(mobiles, mobile=True)

    def _check_means(self, row: dict[str, str], verdict: ContactVerdict) -> None:
        country = self._country
        email = row.get(columns.EMAIL, "").strip()
        if email:
            canonical = canonical_email(email)
            if canonical is None:
                reason = email_error(email) or "invalid e-mail"
                verdict.invalid_values.append(
                    InvalidValue(columns.EMAIL, email, reason)
                )
            else:
                verdict.canonical[columns.EMAIL] = canonical
        for column, mobile in ((columns.TELEPHONE_FIXE, False), (columns.MOBILE, True)):
            phone = row.get(column, "").strip()
            if not phone:
                continue
            canonical = canonical_phone(phone, country, mobile)
            if canonical is None:
                reason = phone_error(phone, country, mobile) or "invalid phone number"
                verdict.invalid_values.append(InvalidValue(column, phone, reason))
            else:
                verdict.canonical[column] = canonical
