"""Turning one export row into one deposit row, recording every change and problem."""

from __future__ import annotations

from functools import lru_cache

from digitaleo_client.contacts import columns
from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.contacts.headers import ColumnPlan
from digitaleo_client.contacts.latin1 import Unencodable, fit_latin1, is_latin1
from digitaleo_client.contacts.repair import Repair, repair_date, repair_phone
from digitaleo_client.contacts.report import Change, ConversionReport, Problem
from digitaleo_client.contacts.validation import (
    REJECT_REASON_TEXT,
    ContactValidator,
    ContactVerdict,
    RejectReason,
)

PHONE_COLUMNS = (columns.TELEPHONE_FIXE, columns.MOBILE, columns.FAX)

# Categories of rejection that the deposit's own rules do not name.
WRONG_FIELD_COUNT = "wrong number of fields"
UNENCODABLE = "value not representable in ISO-8859-1"

_NEWLINES = str.maketrans({"\r": " ", "\n": " "})

_cached_repair_phone = lru_cache(maxsize=65536)(repair_phone)
_cached_repair_date = lru_cache(maxsize=65536)(repair_date)


def output_columns(
    plan: ColumnPlan, account: AccountSettings, dispatch: bool
) -> list[str]:
    """Return the deposit columns to write, in the published order.

    The standard columns come first in the published order, then the
    identifiers of the extended criterion, then the account's custom fields;
    `dispatch` is always last.
    """
    present = set(plan.deposit_columns)
    order = (
        columns.STANDARD_COLUMNS
        + (columns.FACEBOOK_ID, columns.TWITTER_ID)
        + account.custom_field_names
    )
    written = [column for column in order if column in present]
    if dispatch or columns.DISPATCH in present:
        written.append(columns.DISPATCH)
    return written


class RowConverter:
    """Convert export rows into deposit rows for one column plan and account.

    `convert` returns the values to write, or None when the contact is
    rejected; it records changes and problems in `report`.
    """

    def __init__(
        self,
        plan: ColumnPlan,
        account: AccountSettings,
        report: ConversionReport,
        policy: Unencodable,
        dispatch: str | None = None,
        blank_invalid: bool = False,
    ) -> None:
        self.columns = output_columns(plan, account, dispatch is not None)
        position = {
            column: index for index, column in enumerate(plan.sources) if column
        }
        # Export index of each written column; None for the --dispatch constant.
        self._indexes = [position.get(column) for column in self.columns]
        self._width = len(plan.sources)
        self._dispatch = dispatch
        self._country = account.country
        self._validator = ContactValidator(account)
        self._report = report
        self._policy = policy
        self._blank_invalid = blank_invalid
        self._repairs = [self._repairer(column) for column in self.columns]

    @staticmethod
    def _repairer(column: str) -> str | None:
        if column in PHONE_COLUMNS:
            return "phone"
        if column == columns.DATE_DE_NAISSANCE:
            return "date"
        return None

    def convert(self, number: int, row: list[str]) -> list[str] | None:
        """Return the deposit values of export row `number`, or None if rejected."""
        if len(row) != self._width:
            reason = (
                f"{len(row)} fields where the header has {self._width}; "
                "check the separators and quotes on that row"
            )
            self._reject(number, "", "", reason, WRONG_FIELD_COUNT)
            return None
        values = [
            row[index].strip() if index is not None else self._dispatch or ""
            for index in self._indexes
        ]

        joined = "".join(values)
        if "\n" in joined or "\r" in joined:
            self._replace_newlines(number, values)
        fits = True
        if not is_latin1(joined) or "\xa0" in joined:
            fits = self._fit_latin1(number, values)
        invalid = self._repair(number, values)

        verdict = self._validator.check(dict(zip(self.columns, values, strict=True)))
        for value in verdict.invalid_values:
            reason = invalid.get(value.column, value.reason)
            invalid[value.column] = reason
            self._report.invalid_values.append(
                Problem(number, value.column, value.value, reason)
            )
        blank = self._blank_invalid and bool(invalid)
        final = self._judge_blanked(values, invalid) if blank else verdict
        if not final.valid:
            self._reject_verdict(number, final.reject_reason, verdict, values, invalid)
            return None
        if not fits:
            return None
        if blank:
            self._blank(number, values, invalid)
        return values

    def _judge_blanked(
        self, values: list[str], invalid: dict[str, str]
    ) -> ContactVerdict:
        """Judge the row as written once its invalid values are blanked."""
        row = dict(zip(self.columns, values, strict=True))
        for column in invalid:
            row[column] = ""
        return self._validator.check(row)

    def _change(
        self, number: int, index: int, values: list[str], new: str, why: str
    ) -> None:
        column = self.columns[index]
        self._report.changes.append(Change(number, column, values[index], new, why))
        values[index] = new

    def _reject(
        self, number: int, column: str, value: str, reason: str, category: str
    ) -> None:
        self._report.rejected.append(Problem(number, column, value, reason, category))

    def _replace_newlines(self, number: int, values: list[str]) -> None:
        for index, value in enumerate(values):
            if "\n" in value or "\r" in value:
                new = " ".join(
                    value.replace("\r\n", "\n").translate(_NEWLINES).split(" ")
                )
                self._change(
                    number, index, values, new, "replaced line breaks with spaces"
                )

    def _fit_latin1(self, number: int, values: list[str]) -> bool:
        fits = True
        for index, value in enumerate(values):
            fitted = fit_latin1(value, self._policy)
            if fitted.value is None:
                self._reject(
                    number, self.columns[index], value, fitted.why, UNENCODABLE
                )
                fits = False
            elif fitted.value != value:
                self._change(number, index, values, fitted.value, fitted.why)
        return fits

    def _repair(self, number: int, values: list[str]) -> dict[str, str]:
        """Repair phones and dates in place; return column -> reason for the unrepairable."""
        invalid: dict[str, str] = {}
        for index, kind in enumerate(self._repairs):
            value = values[index]
            if kind is None or not value:
                continue
            repair: Repair | None
            if kind == "phone":
                repair = _cached_repair_phone(value, self._country)
            else:
                repair = _cached_repair_date(value)
            if repair is None:
                continue
            if repair.value is not None:
                self._change(number, index, values, repair.value, repair.why)
                continue
            column = self.columns[index]
            invalid[column] = repair.why
            if column not in columns.MEANS_OF_CONTACT:
                # The validator judges only the means of contact.
                self._report.invalid_values.append(
                    Problem(number, column, value, repair.why)
                )
        return invalid

    def _reject_verdict(
        self,
        number: int,
        cause: RejectReason | None,
        verdict: ContactVerdict,
        values: list[str],
        invalid: dict[str, str],
    ) -> None:
        reason = REJECT_REASON_TEXT[cause] if cause is not None else ""
        category = reason
        if cause is RejectReason.UNKNOWN_DISPATCH:
            dispatch = self._value(values, columns.DISPATCH)
            self._reject(number, columns.DISPATCH, dispatch, reason, category)
        elif cause is RejectReason.MISSING_REFERENCE:
            self._reject(number, columns.REFERENCE, "", reason, category)
        elif verdict.invalid_values:
            for value in verdict.invalid_values:
                detail = f"{reason}: {invalid.get(value.column, value.reason)}"
                self._reject(number, value.column, value.value, detail, category)
        else:
            self._reject(number, "", "", reason, category)

    def _value(self, values: list[str], column: str) -> str:
        return values[self.columns.index(column)] if column in self.columns else ""

    def _blank(self, number: int, values: list[str], invalid: dict[str, str]) -> None:
        for column in invalid:
            index = self.columns.index(column)
            self._change(
                number, index, values, "", "blanked an invalid value (--blank-invalid)"
            )
