"""Events of unpacked report zips, read into typed records.

An event file `<MEDIA>_<event>.csv` is in the deposit's CSV format. It is
encoded in ISO-8859-1, or in UTF-8 when it starts with a byte order mark.
Its separator is `;` unless the header shows another of `,`, tab or `|`.
The header holds French column names (`Email`, `Mobile`, `Téléphone Fixe`,
...) and each row is one contact. Stray spaces around names and values are
removed.
"""

from __future__ import annotations

import codecs
import csv
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from digitaleo_client.contacts import columns
from digitaleo_client.errors import CorruptReport
from digitaleo_client.journal import Journal, PulledReport
from digitaleo_client.reporting.names import parse_event_file_name

logger = logging.getLogger(__name__)

OPTOUT_EVENT = "optout"
_SEPARATORS = (";", ",", "\t", "|")
_DEFAULT_SEPARATOR = ";"


@dataclass(frozen=True)
class ReportEvent:
    """One contact's event in a campaign report, such as an e-mail opened.

    `campaign_id` and `campaign_name` are None for events read from the
    general zip of a day. `contact` maps the file's column names to values.
    """

    day: str
    campaign_id: str | None
    campaign_name: str | None
    media: str
    event: str
    contact: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_optout(self) -> bool:
        return self.event.lower() == OPTOUT_EVENT

    @property
    def email(self) -> str | None:
        return self.contact.get(columns.EMAIL) or None

    @property
    def mobile(self) -> str | None:
        return self.contact.get(columns.MOBILE) or None

    @property
    def phone(self) -> str | None:
        """The fixed phone, column `Téléphone Fixe`."""
        return self.contact.get(columns.TELEPHONE_FIXE) or None

    @property
    def reference(self) -> str | None:
        return self.contact.get(columns.REFERENCE) or None

    def as_dict(self) -> dict[str, Any]:
        """Return the event as one flat mapping, the contact's columns last."""
        record: dict[str, Any] = {
            "day": self.day,
            "campaign_id": self.campaign_id,
            "campaign_name": self.campaign_name,
            "media": self.media,
            "event": self.event,
        }
        record.update(self.contact)
        return record


@dataclass(frozen=True)
class ReportSource:
    """An unpacked report folder and the day and campaign it belongs to."""

    folder: Path
    day: str
    campaign_id: str | None = None
    campaign_name: str | None = None


def iter_folder_events(source: ReportSource) -> Iterator[ReportEvent]:
    """Yield the events of every `<MEDIA>_<event>.csv` in an unpacked report folder.

    Files are read in name order; other files are skipped with a warning,
    and a media or event that is missing simply yields nothing. Raises
    CorruptReport when the folder is missing.
    """
    if not source.folder.is_dir():
        raise CorruptReport(
            f"unpacked report folder {source.folder} is missing; "
            "run `digitaleo reports pull` to download and unpack it again",
            folder=str(source.folder),
        )
    for path in sorted(source.folder.iterdir()):
        parsed = parse_event_file_name(path.name)
        if parsed is None or not path.is_file():
            logger.warning("skipping %s: not a <MEDIA>_<event>.csv file", path)
            continue
        for contact in read_event_file(path):
            yield ReportEvent(
                source.day,
                source.campaign_id,
                source.campaign_name,
                parsed.media,
                parsed.event,
                contact,
            )


def read_event_file(path: Path) -> Iterator[dict[str, str]]:
    """Yield each row of an event CSV as a mapping of column name to value.

    Streams the file, so memory stays constant. Empty rows are skipped.
    Extra fields of a row longer than the header are dropped. Missing fields
    of a shorter row read as empty. Both cases are logged as warnings.
    """
    with _open_text(path) as text:
        header_line = text.readline()
        separator = detect_separator(header_line)
        text.seek(0)
        reader = csv.reader(text, delimiter=separator)
        header = [name.strip() for name in next(reader, [])]
        for row in reader:
            if not any(value.strip() for value in row):
                continue
            if len(row) != len(header):
                logger.warning(
                    "%s row %d has %d fields but the header has %d",
                    path,
                    reader.line_num,
                    len(row),
                    len(header),
                )
            values = [value.strip() for value in row] + [""] * (len(header) - len(row))
            yield dict(zip(header, values, strict=False))


def event_columns(sources: list[ReportSource]) -> list[str]:
    """Return the contact columns found in the event files of `sources`.

    Reads only each file's header. The published columns come first, in
    their published order, then the others in order of appearance. A
    missing folder adds no columns.
    """
    found: dict[str, None] = {}
    for source in sources:
        if not source.folder.is_dir():
            continue
        for path in sorted(source.folder.iterdir()):
            if path.is_file() and parse_event_file_name(path.name) is not None:
                found.update(dict.fromkeys(_read_header(path)))
    ordered = [name for name in columns.STANDARD_COLUMNS if name in found]
    return ordered + [name for name in found if name not in ordered]


def _read_header(path: Path) -> list[str]:
    with _open_text(path) as text:
        header_line = text.readline()
    row = next(csv.reader([header_line], delimiter=detect_separator(header_line)), [])
    return [name.strip() for name in row if name.strip()]


def _open_text(path: Path) -> TextIO:
    with path.open("rb") as probe:
        has_bom = probe.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
    encoding = "utf-8-sig" if has_bom else "iso-8859-1"
    return path.open(encoding=encoding, newline="")


def detect_separator(header_line: str) -> str:
    """Return the separator a header line uses: the most frequent of `;`, `,`, tab, `|`.

    A header with none of them (a single column) reads with `;`.
    """
    counts = {separator: header_line.count(separator) for separator in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda separator: counts[separator])
    return best if counts[best] else _DEFAULT_SEPARATOR


def iter_pulled_events(
    journal: Journal,
    *,
    since: str | None = None,
    optouts_only: bool = False,
    deposit: str | None = None,
) -> Iterator[ReportEvent]:
    """Yield the events of every pulled report, day by day, as one stream.

    The general zip repeats the events of the day's campaign zips, so it is
    read only for days without any pulled campaign zip. `since`
    (`YYYY-MM-DD`) skips older days and None keeps all; `optouts_only`
    keeps only opt-out events; `deposit` (its URL without a password) keeps
    only its reports and None keeps every deposit's. Raises CorruptReport
    when an unpacked folder has gone missing.
    """
    for source in report_sources(journal.pulled_reports(since, deposit)):
        for event in iter_folder_events(source):
            if not optouts_only or event.is_optout:
                yield event


def report_sources(pulled: list[PulledReport]) -> list[ReportSource]:
    """Pick the folders to read: campaign zips, or the general zip of a day without any."""
    days_with_campaigns = {
        (report.deposit, report.day)
        for report in pulled
        if report.campaign_id is not None
    }
    return [
        ReportSource(
            report.local_folder, report.day, report.campaign_id, report.campaign_name
        )
        for report in pulled
        if report.campaign_id is not None
        or (report.deposit, report.day) not in days_with_campaigns
    ]
