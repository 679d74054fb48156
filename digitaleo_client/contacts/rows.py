"""Turning one export row into one deposit row, recording every change and problem."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import chain
from typing import TypeVar

import phonenumbers

from digitaleo_client.contacts import columns
from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.contacts.duplicates import DuplicateFinder
from digitaleo_client.contacts.headers import ColumnPlan
from digitaleo_client.contacts.latin1 import (
    Unencodable,
    fit_latin1,
    may_contain_mojibake,
    repair_mojibake,
)
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
CONTROL_CHARACTER = "control character in a value"

# C0 control characters other than tab, CR and LF, DEL, and the C1 controls
# (U+0080-U+009F, where a Windows-1252 file read as ISO-8859-1 puts € and œ).
# Line breaks become spaces, but the others mark a damaged value, which is
# rejected rather than changed.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# The characters of _CONTROL_CHARACTER as their ISO-8859-1 bytes.
_CONTROL_BYTES = bytes(
    [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
)

_NEWLINES = str.maketrans({"\r": " ", "\n": " "})

_cached_repair_phone = lru_cache(maxsize=65536)(repair_phone)
_cached_repair_date = lru_cache(maxsize=65536)(repair_date)


def _picker(indexes: list[int]) -> Callable[[list[str]], Sequence[str]]:
    """Return a function that takes the fields at `indexes` from a row, in order."""
    if len(indexes) == 1:
        only = indexes[0]
        return lambda row: (row[only],)
    return operator.itemgetter(*indexes)


_Entry = TypeVar("_Entry", Problem, Change)


def _sort_rows_from(entries: list[_Entry], start: int) -> None:
    """Sort `entries[start:]` by row, keeping the order within each row."""
    if len(entries) > start:
        entries[start:] = sorted(entries[start:], key=lambda entry: entry.row)


def _plain_latin1(text: str) -> bool:
    """Tell whether `text` fits ISO-8859-1 and contains no non-breaking space."""
    try:
        text.encode("iso-8859-1")
    except UnicodeEncodeError:
        return False
    return "\xa0" not in text


def _has_control_character(text: str) -> bool:
    """Tell whether `text` contains a character that _CONTROL_CHARACTER matches.

    For text that fits ISO-8859-1, one byte per character, deleting the
    control bytes from its encoding is about twice as fast as the regular
    expression's search on a batch. Other text goes to the search.
    """
    try:
        encoded = text.encode("iso-8859-1")
    except UnicodeEncodeError:
        return _CONTROL_CHARACTER.search(text) is not None
    return len(encoded.translate(None, _CONTROL_BYTES)) != len(encoded)


def _may_need_strip(text: str, count: int) -> bool:
    """Tell whether a value of `text`, `count` values joined with tabs, may have
    whitespace that str.strip removes.

    Only for text without line breaks, control characters, non-breaking
    spaces or characters outside ISO-8859-1: there the whitespace that
    str.strip removes is a space, a tab or U+0085. The test takes a few
    scans of the text, where stripping every value costs more.
    """
    return (
        text.count("\t") != count - 1
        or " \t" in text
        or "\t " in text
        or text.startswith(" ")
        or text.endswith(" ")
        or "\x85" in text
    )


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
    rejected; it records changes, problems and the rows that the deposit
    will merge into an earlier one in `report`. Call `finish` after the
    last row.
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
        # Export index of each written column; the --dispatch constant, if
        # any, is the last written column and has none.
        indexes = [position[column] for column in self.columns if column in position]
        self._pick = _picker(indexes)
        self._width = len(plan.sources)
        self._dispatch = dispatch
        self._country = account.country
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(account.country)
        self._national_prefix = (metadata.national_prefix if metadata else None) or "+"
        self._validator = ContactValidator(account)
        self._duplicates = DuplicateFinder(account, self.columns, report)
        self._report = report
        self._policy = policy
        self._blank_invalid = blank_invalid
        # The columns the validator reads, with their place in the values.
        judged = (*columns.MEANS_OF_CONTACT, columns.REFERENCE, columns.DISPATCH)
        self._judged = [(c, i) for i, c in enumerate(self.columns) if c in judged]
        self._date_index = (
            self.columns.index(columns.DATE_DE_NAISSANCE)
            if columns.DATE_DE_NAISSANCE in self.columns
            else None
        )
        self._phone_indexes = [
            index
            for index, column in enumerate(self.columns)
            if column in PHONE_COLUMNS
        ]
        # Lines of ASCII phone numbers that repair_phone might change: digits
        # without the national prefix, or a decimal part. Scientific notation
        # (an e or E) is found with `in`, which is faster than an alternative
        # tried at every position.
        self._damaged_phone = re.compile(
            rf"^(?:(?!{re.escape(self._national_prefix)})[0-9]+|[0-9]+[.,]0+)$",
            re.MULTILINE,
        )
        self._repair_slots = [
            (index, column in PHONE_COLUMNS)
            for index, column in enumerate(self.columns)
            if column in PHONE_COLUMNS or column == columns.DATE_DE_NAISSANCE
        ]

    def convert(self, number: int, row: list[str]) -> list[str] | None:
        """Return the deposit values of export row `number`, or None if rejected."""
        prepared = self._prepare(number, row)
        if prepared is None:
            return None
        values = self._judge(number, *prepared)
        if values is not None:
            self._duplicates.add([number], [values], screened=False)
        return values

    def convert_batch(self, batch: list[tuple[int, list[str]]]) -> list[list[str]]:
        """Convert rows (number, fields) and return the kept ones' values, in order.

        Gives the same values and report as `convert` on each row. Rows that
        came through unchanged are first screened together by the validator,
        and judged one by one only when the screen is not sure.
        """
        report = self._report
        starts = (len(report.rejected), len(report.invalid_values), len(report.changes))
        prepared = self._prepare_plain(batch)
        if prepared is None:
            prepared = []
            for number, row in batch:
                item = self._prepare(number, row)
                if item is not None:
                    prepared.append((number, item))
        clean = [values for _, (values, _, invalid) in prepared if invalid is None]
        screened = bool(clean) and self._validator.screen(
            {
                column: [values[index] for values in clean]
                for column, index in self._judged
            },
            len(clean),
        )

        kept, numbers = [], []
        for number, (values, fits, invalid) in prepared:
            if screened and invalid is None:
                kept.append(values)
                numbers.append(number)
                continue
            judged = self._judge(number, values, fits, invalid)
            if judged is not None:
                kept.append(judged)
                numbers.append(number)
        self._duplicates.add(numbers, kept, screened and len(clean) == len(kept))

        # Preparing the whole batch before judging it records problems out
        # of row order; a stable sort restores the order `convert` gives.
        _sort_rows_from(report.rejected, starts[0])
        _sort_rows_from(report.invalid_values, starts[1])
        _sort_rows_from(report.changes, starts[2])
        return kept

    def finish(self) -> None:
        """Complete the report after the last row: list the merged rows."""
        self._duplicates.finish()

    def _prepare_plain(
        self, batch: list[tuple[int, list[str]]]
    ) -> list[tuple[int, tuple[list[str], bool, dict[str, str] | None]]] | None:
        """Prepare a batch whose values need no change, or return None.

        One pass over the batch's joined text shows that no value has a line
        break, a control character, a character to fit or repair, or a phone
        number that repair_phone would change; otherwise each row goes
        through _prepare.
        """
        if self._date_index is not None or self._dispatch is not None:
            return None
        if any(len(row) != self._width for _, row in batch):
            return None
        picked = [self._pick(row) for _, row in batch]
        # Checked before stripping, since str.strip also removes some control
        # characters. A match only in the ends that stripping removes just
        # sends the batch the slow way.
        text = "\t".join(chain.from_iterable(picked))
        if "\n" in text or "\r" in text or _has_control_character(text):
            return None
        if not text.isascii() and (
            may_contain_mojibake(text) or not _plain_latin1(text)
        ):
            return None
        if _may_need_strip(text, sum(map(len, picked))):
            rows = [list(map(str.strip, values)) for values in picked]
        else:
            rows = [list(values) for values in picked]
        phones = "\n".join(row[index] for row in rows for index in self._phone_indexes)
        if not phones.isascii() or "e" in phones or "E" in phones:
            return None
        if self._damaged_phone.search(phones):
            return None
        return [
            (number, (values, True, None)) for (number, _), values in zip(batch, rows)
        ]

    def _prepare(
        self, number: int, row: list[str]
    ) -> tuple[list[str], bool, dict[str, str] | None] | None:
        """Pick, strip, fit and repair the values of one row.

        Returns None for a row with the wrong number of fields, which is
        rejected. Otherwise returns the values, whether they can be written
        (they fit ISO-8859-1 and contain no control character), and the
        reasons of unrepairable values by column. The reasons are None
        when nothing in the row changed or failed, so the row may be screened
        in a batch.
        """
        if len(row) != self._width:
            reason = (
                f"{len(row)} fields where the header has {self._width}; "
                "check the separators and quotes on that row"
            )
            self._reject(number, "", "", reason, WRONG_FIELD_COUNT)
            return None
        picked = self._pick(row)
        values = list(map(str.strip, picked))
        if self._dispatch is not None:
            values.append(self._dispatch)

        changes = len(self._report.changes)
        joined = "".join(values)
        if "\n" in joined or "\r" in joined:
            self._replace_newlines(number, values)
        fits = True
        # Before stripping, since str.strip also removes \x0b, \x0c and \x1c-\x1f.
        if _CONTROL_CHARACTER.search("".join(picked)):
            fits = self._reject_control_characters(number, picked)
        if not joined.isascii():
            if may_contain_mojibake(joined):
                self._repair_mojibake(number, values)
            if not _plain_latin1("".join(values)):
                fits = self._fit_latin1(number, values) and fits
        invalid = self._repair(number, values) if self._repair_slots else {}
        if fits and not invalid and len(self._report.changes) == changes:
            return values, True, None
        return values, fits, invalid

    def _judge(
        self, number: int, values: list[str], fits: bool, invalid: dict[str, str] | None
    ) -> list[str] | None:
        """Judge one prepared row: record its invalid values, reject or keep it."""
        invalid = {} if invalid is None else invalid
        verdict = self._validator.check(
            {column: values[index] for column, index in self._judged}
        )
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

    def _reject_control_characters(self, number: int, values: Sequence[str]) -> bool:
        """Reject each value with a control character; return True when none has one."""
        clean = True
        for index, value in enumerate(values):
            found = _CONTROL_CHARACTER.search(value)
            if found is None:
                continue
            reason = (
                f"{value!r} contains the control character "
                f"U+{ord(found.group()):04X} at position {found.start() + 1}; "
                "remove control characters from the export"
            )
            self._reject(number, self.columns[index], value, reason, CONTROL_CHARACTER)
            clean = False
        return clean

    def _repair_mojibake(self, number: int, values: list[str]) -> None:
        for index, value in enumerate(values):
            if value.isascii():
                continue
            repaired = repair_mojibake(value)
            if repaired is not None:
                why = "decoded UTF-8 text that had been read as ISO-8859-1"
                self._change(number, index, values, repaired, why)

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
        for index, is_phone in self._repair_slots:
            value = values[index]
            if not value:
                continue
            repair: Repair | None
            if is_phone:
                if not self._maybe_damaged_phone(value):
                    continue
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

    def _maybe_damaged_phone(self, value: str) -> bool:
        """Tell cheaply whether repair_phone could change `value`.

        It changes only digits without the national prefix, scientific
        notation and numbers with a decimal part such as `612345678.0`.
        """
        if value.isdigit():
            return not value.startswith(self._national_prefix)
        if "E" in value or "e" in value:
            return True
        return value.endswith("0") and ("." in value or "," in value)

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
