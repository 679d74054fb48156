"""Rows of one export that the deposit will merge into an earlier row.

The deposit identifies a contact by the account's deduplication criterion.
When a row has the same key as an earlier row of the same file, the deposit
updates the earlier contact with the later row's values instead of creating
a second one. Keys compare as the deposit compares them: e-mails in lower
case, phone numbers in E.164, other columns as trimmed text. A criterion of
several columns matches only when every column is equal, an empty value
matching only an empty value, and a row whose key columns are all empty (or
invalid) matches no other. In a multi-account deposit only rows going to the
same account merge.
"""

from __future__ import annotations

import zlib
from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import TYPE_CHECKING

from digitaleo_client.contacts import columns
from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.contacts.validation import canonical_email, canonical_phone

if TYPE_CHECKING:
    from digitaleo_client.contacts.report import ConversionReport

# Duplicate rows listed one by one in a report; the others are only counted.
MAX_LISTED_DUPLICATES = 1000
# Rows with a key that are compared. Each costs about 90 bytes at the end, so
# this keeps the converter's peak near 120 MiB, under its 150 MB budget.
MAX_COMPARED_ROWS = 1_000_000

# Separates the parts of a key made of several columns (ASCII unit
# separator), and the target account from the key (record separator).
# Neither can occur in a value that reaches the parts.
_PART_SEPARATOR = "\x1f"
_ACCOUNT_SEPARATOR = "\x1e"


@dataclass(frozen=True)
class Duplicate:
    """A row that the deposit merges into an earlier row of the same file.

    `row` and `earlier_row` count records as a spreadsheet does, the header
    being row 1. `columns` are the criterion's columns and `value` their
    values as the deposit compares them, joined with ", ".
    """

    row: int
    earlier_row: int
    columns: str
    value: str

    @property
    def message(self) -> str:
        """Warning text naming both rows, the key and what the deposit does."""
        return (
            f"row {self.row} has the same {self.columns} as row {self.earlier_row} "
            f"({self.value}), so the deposit merges them into one contact and "
            f"row {self.row}'s values replace row {self.earlier_row}'s"
        )


# Turns a written value into its form in the key, "" when the deposit
# leaves it out of the contact (an invalid e-mail or phone number).
_Canonical = Callable[[str], str]


class DuplicateFinder:
    """Find the written rows whose key was already seen earlier in the file.

    `add` only records each key: its 64-bit `hash()` and row number in two
    arrays, and its text in one compressed string per batch. `finish` then
    finds the repeated hashes with one set built at once, which costs far
    less than growing a set row by row, and fills the report's
    `duplicate_rows` and `duplicates`. Memory grows with the rows: about 20
    bytes per written row while streaming, and about 70 more while `finish`
    builds its set.
    """

    # NOTE: two different keys with the same 64-bit hash would be reported
    # as a merge that does not happen. At 1,000,000 distinct keys the odds
    # are about 1 in 37 million per file.

    def __init__(
        self,
        account: AccountSettings,
        written: Sequence[str],
        report: ConversionReport,
    ) -> None:
        self._country = account.country
        criterion = account.dedup.key_columns
        present = [column for column in criterion if column in written]
        self._criterion = criterion
        self._key_columns = present
        self._slots = [
            (written.index(column), self._canonical(column)) for column in present
        ]
        self._dispatch = dict(account.dispatch) if account.multi_account else None
        self._dispatch_index = (
            written.index(columns.DISPATCH) if columns.DISPATCH in written else None
        )
        self._email_only = present == [columns.EMAIL] and self._dispatch is None
        self._report = report
        # One entry per row with a key, in row order.
        self._hashes = array("q")
        self._rows = array("I")
        # The keys of each `add` call joined with line feeds (no written value
        # contains one) and compressed with zlib, and the index in `_hashes`
        # of each call's first key.
        self._texts: list[bytes] = []
        self._starts: list[int] = []

    def add(
        self, numbers: Sequence[int], rows: Sequence[Sequence[str]], screened: bool
    ) -> None:
        """Record the keys of written rows `rows`, numbered `numbers`.

        `screened` True means the validator found every value of these rows
        valid, so an e-mail's canonical form is its lower case.
        """
        if not self._slots or self._report.duplicates_compared_until is not None:
            return
        if len(self._hashes) >= MAX_COMPARED_ROWS:
            self._report.duplicates_compared_until = self._rows[-1]
            return
        if screened and self._email_only:
            index = self._slots[0][0]
            keys = [row[index].lower() for row in rows]
        else:
            keys = [self._key(row) for row in rows]
        if "" in keys:
            numbers = list(compress(numbers, keys))
            keys = list(filter(None, keys))
        self._starts.append(len(self._hashes))
        self._texts.append(zlib.compress("\n".join(keys).encode(), 1))
        self._hashes.extend(map(hash, keys))
        self._rows.extend(numbers)

    def finish(self) -> None:
        """Count and list the rows whose key an earlier row has; call once, at the end.

        Counts them all in the report's `duplicate_rows` and lists the first
        MAX_LISTED_DUPLICATES in its `duplicates`, in row order.
        """
        hashes = self._hashes
        if len(set(hashes)) == len(hashes):
            return
        seen: set[int] = set()
        repeated: set[int] = set()
        for hashed in hashes:
            if hashed in seen:
                repeated.add(hashed)
            else:
                seen.add(hashed)
        del seen

        first: dict[int, int] = {}
        listed: list[tuple[int, int]] = []
        for position, hashed in enumerate(hashes):
            if hashed not in repeated:
                continue
            earlier = first.setdefault(hashed, position)
            if earlier == position:
                continue
            self._report.duplicate_rows += 1
            if len(listed) < MAX_LISTED_DUPLICATES:
                listed.append((position, earlier))
        self._report.duplicates += [self._duplicate(*pair) for pair in listed]

    def _duplicate(self, position: int, earlier: int) -> Duplicate:
        batch = bisect_right(self._starts, position) - 1
        text = zlib.decompress(self._texts[batch]).decode()
        key = text.split("\n")[position - self._starts[batch]]
        return Duplicate(
            self._rows[position],
            self._rows[earlier],
            " and ".join(self._criterion),
            self._describe(key),
        )

    def _key(self, row: Sequence[str]) -> str:
        """Return the row's key as the deposit compares it, "" when it has none."""
        parts = [canonical(row[index]) for index, canonical in self._slots]
        if not any(parts):
            return ""
        key = _PART_SEPARATOR.join(parts)
        if self._dispatch is None or self._dispatch_index is None:
            return key
        target = self._dispatch.get(row[self._dispatch_index], "")
        return f"{target}{_ACCOUNT_SEPARATOR}{key}"

    def _describe(self, key: str) -> str:
        """Return the key's values as "Email a@example.com, Mobile (empty)"."""
        key = key.rpartition(_ACCOUNT_SEPARATOR)[2]
        values = dict(zip(self._key_columns, key.split(_PART_SEPARATOR), strict=True))
        return ", ".join(
            f"{column} {values.get(column) or '(empty)'}" for column in self._criterion
        )

    def _canonical(self, column: str) -> _Canonical:
        country = self._country
        mobile = column == columns.MOBILE

        def email(value: str) -> str:
            return (canonical_email(value) or "") if value else ""

        def phone(value: str) -> str:
            return (canonical_phone(value, country, mobile) or "") if value else ""

        if column == columns.EMAIL:
            return email
        if column in (columns.TELEPHONE_FIXE, columns.MOBILE):
            return phone
        return _same


def _same(value: str) -> str:
    return value
