"""Names in the reporting folder: day folders, report zips, event files.

Pure module: it parses remote names and builds local folder names, no I/O.

- A day folder is `YYYY-MM-DD`.
- A campaign zip is `<day>_<campaignId>_<campaignName>.zip`.
- The general zip of a day is `<day>_Daily.zip` or `<day>.zip`; the published
  rules give both names, so both are accepted.
- An event file inside a zip is `<MEDIA>_<event>.csv`, such as
  `EMAIL_opened.csv`; media and events outside the published examples are
  kept as they are written.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from digitaleo_client.deposit import report_day_folder

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_GENERAL_ZIP = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:_Daily)?\.zip$", re.IGNORECASE)
_CAMPAIGN_ZIP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})_([0-9A-Za-z-]+)_(.*)\.zip$", re.IGNORECASE
)
_EVENT_FILE = re.compile(r"^([A-Za-z]+)_(.+)\.csv$", re.IGNORECASE)

# Local folder of the general zip. Campaign folders always contain "_", so
# this name never collides with one.
GENERAL_FOLDER = "Daily"

# Characters that Windows, macOS or POSIX file systems reject or treat
# specially in a file name, and control characters.
_UNSAFE_CHARACTERS = set('/\\:*?"<>|') | {chr(code) for code in range(32)} | {"\x7f"}
_MAX_FOLDER_NAME_BYTES = 120


def is_day(name: str) -> bool:
    """Tell whether `name` is a real calendar day written `YYYY-MM-DD`."""
    if not _DAY.match(name):
        return False
    try:
        datetime.date.fromisoformat(name)
    except ValueError:
        return False
    return True


def days_between(first: str, last: str) -> list[str]:
    """Return every day from `first` to `last`, both included, as `YYYY-MM-DD`."""
    start = datetime.date.fromisoformat(first)
    end = datetime.date.fromisoformat(last)
    count = (end - start).days + 1
    return [
        (start + datetime.timedelta(days=offset)).isoformat() for offset in range(count)
    ]


def add_days(day: str, count: int) -> str:
    """Return the day `count` days after `day` (before it when negative)."""
    return (
        datetime.date.fromisoformat(day) + datetime.timedelta(days=count)
    ).isoformat()


@dataclass(frozen=True)
class ReportName:
    """A report zip of the reporting folder, read from its file name.

    `campaign_id` and `campaign_name` are None for the general zip of the day.
    """

    day: str
    file_name: str
    campaign_id: str | None = None
    campaign_name: str | None = None

    @property
    def is_general(self) -> bool:
        return self.campaign_id is None

    @property
    def remote_path(self) -> str:
        return f"{report_day_folder(self.day)}/{self.file_name}"

    @property
    def folder_name(self) -> str:
        """Local folder the zip unpacks to: `<campaignId>_<safe name>` or `Daily`."""
        if self.campaign_id is None:
            return GENERAL_FOLDER
        return f"{self.campaign_id}_{safe_file_name(self.campaign_name or '')}"

    @property
    def label(self) -> str:
        """Short text naming the zip in messages and tables."""
        if self.campaign_id is None:
            return f"{self.day} general"
        return f"{self.day} campaign {self.campaign_id} {self.campaign_name!r}"


def parse_report_name(day: str, file_name: str) -> ReportName | None:
    """Read a file of the day folder `day` as a report zip.

    Returns None when the name is no report zip of that day: another file,
    a hidden temporary file, or a zip whose name starts with another day.
    """
    general = _GENERAL_ZIP.match(file_name)
    if general is not None:
        return ReportName(day, file_name) if general.group(1) == day else None
    campaign = _CAMPAIGN_ZIP.match(file_name)
    if campaign is None or campaign.group(1) != day:
        return None
    return ReportName(day, file_name, campaign.group(2), campaign.group(3))


def safe_file_name(name: str) -> str:
    """Turn a campaign name into a file name every common file system accepts.

    Path separators, characters that Windows rejects and control characters
    become `_`. Leading and trailing spaces and dots are removed, and the
    result is cut to 120 UTF-8 bytes. Spaces, `#` and accents are kept.
    """
    normalized = unicodedata.normalize("NFC", name)
    replaced = "".join(
        "_" if char in _UNSAFE_CHARACTERS else char for char in normalized
    )
    trimmed = replaced.strip(" .")
    encoded = trimmed.encode("utf-8")[:_MAX_FOLDER_NAME_BYTES]
    return encoded.decode("utf-8", errors="ignore").rstrip(" .")


@dataclass(frozen=True)
class EventFileName:
    """The media and event that an event file name such as `SMS_clicked.csv` holds."""

    media: str
    event: str


def parse_event_file_name(file_name: str) -> EventFileName | None:
    """Split `EMAIL_opened.csv` into its media and event; None for other names."""
    match = _EVENT_FILE.match(file_name)
    if match is None:
        return None
    return EventFileName(match.group(1).upper(), match.group(2))
