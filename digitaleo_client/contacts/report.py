"""What a conversion did: rows read and written, rejected contacts, changes."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from digitaleo_client.contacts.duplicates import Duplicate


@dataclass(frozen=True)
class Problem:
    """A value the deposit will not take, or the reason a contact is rejected.

    `row` counts records as a spreadsheet does, the header being row 1.
    `column` is the deposit column, or empty when the whole row is at fault.
    `category` is the short reason that rejections are counted by (empty
    for invalid values).
    """

    row: int
    column: str
    value: str
    reason: str
    category: str = ""


@dataclass(frozen=True)
class Change:
    """A value the conversion changed, with the old and new text and why."""

    row: int
    column: str
    old: str
    new: str
    why: str


@dataclass
class ConversionReport:
    """Outcome of converting or checking one export.

    `rejected` lists the causes of rejection, one or more per rejected row;
    those rows stay out of the parts. `invalid_values` lists every invalid
    value, whether its contact is kept or rejected. `parts` is empty for a
    check. `settings_used` says which account settings applied and where
    they came from. `duplicate_rows` counts the written rows that the
    deposit merges into an earlier row with the same deduplication key;
    `duplicates` lists the first 1,000 of them. `duplicates_compared_until`
    is the last row compared when a very large file made the comparison
    stop (to bound memory), None when every row was compared.
    """

    parts: list[Path] = field(default_factory=list)
    rows_read: int = 0
    rows_written: int = 0
    rejected: list[Problem] = field(default_factory=list)
    invalid_values: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    duplicate_rows: int = 0
    duplicates: list[Duplicate] = field(default_factory=list)
    duplicates_compared_until: int | None = None
    settings_used: str = ""
    source: str = ""
    encoding: str = "utf-8"
    dialect: str = ""
    columns: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return len({problem.row for problem in self.rejected})

    @property
    def invalid_share(self) -> float:
        """Share of rows read that the deposit would reject, from 0 to 1."""
        return self.rows_rejected / self.rows_read if self.rows_read else 0.0

    def rejected_by_reason(self) -> dict[str, int]:
        """Count rejected rows by the category of their first rejection."""
        first: dict[int, str] = {}
        for problem in self.rejected:
            first.setdefault(problem.row, problem.category or problem.reason)
        return dict(Counter(first.values()).most_common())

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "source": self.source,
            "dialect": self.dialect,
            "settings_used": self.settings_used,
            "columns": self.columns,
            "dropped_columns": self.dropped_columns,
            "parts": [str(path) for path in self.parts],
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "rows_rejected": self.rows_rejected,
            "rejected_by_reason": self.rejected_by_reason(),
            "rejected": [asdict(problem) for problem in self.rejected],
            "invalid_values": [asdict(problem) for problem in self.invalid_values],
            "changes": [asdict(change) for change in self.changes],
            "duplicate_rows": self.duplicate_rows,
            "duplicates_compared_until": self.duplicates_compared_until,
            "duplicates": [
                asdict(duplicate) | {"message": duplicate.message}
                for duplicate in self.duplicates
            ],
        }


def write_rejects(
    report: ConversionReport, path: Path, encoding: str = "utf-8"
) -> None:
    """Write the rejected rows' problems as CSV: row, column, value, reason.

    `encoding` is the export's own, so the values read as they did there;
    characters it cannot hold are written as XML character references.
    """
    with open(
        path, "w", encoding=encoding, errors="xmlcharrefreplace", newline=""
    ) as stream:
        writer = csv.writer(stream, delimiter=";", lineterminator="\n")
        writer.writerow(["row", "column", "value", "reason"])
        for problem in report.rejected:
            writer.writerow(
                [problem.row, problem.column, problem.value, problem.reason]
            )
