"""Report zips of the fake deposit, in the published format.

Each zip contains one `<MEDIA>_<event>.csv` per media and event present, in
the deposit's CSV format (ISO-8859-1, `;`, LF, French headers).
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from digitaleo_client.contacts import columns

# Characters a file name on the server cannot hold.
_UNSAFE_IN_FILE_NAME = {"/", "\\"} | {chr(code) for code in range(32)}


@dataclass(frozen=True)
class EventRow:
    """One event of a campaign, with the contact's values when it happened."""

    campaign_id: int
    campaign_name: str
    media: str
    event: str
    fields: dict[str, str]


def server_file_name(campaign_name: str) -> str:
    """Return a campaign name as the server writes it in a zip name.

    Only path separators and control characters become `_`; spaces, `#`,
    accents and other awkward characters stay, as clients must cope with them.
    """
    return "".join(
        "_" if char in _UNSAFE_IN_FILE_NAME else char for char in campaign_name
    )


def write_zip(path: Path, day: str, events: Iterable[EventRow]) -> Path:
    """Write the zip at `path` atomically, unless it already contains the same bytes."""
    data = zip_bytes(day, events)
    if path.exists() and path.read_bytes() == data:
        return path
    partial = path.with_name(f".{path.name}.part")
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


def zip_bytes(day: str, events: Iterable[EventRow]) -> bytes:
    by_file: dict[str, list[dict[str, str]]] = {}
    for event in events:
        by_file.setdefault(f"{event.media}_{event.event}.csv", []).append(event.fields)

    # Entries are dated midnight of the day, so equal content gives equal bytes.
    stamp = datetime.datetime.fromisoformat(day).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file_name in sorted(by_file):
            info = zipfile.ZipInfo(file_name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, event_csv(by_file[file_name]))
    return buffer.getvalue()


def event_csv(contacts: list[dict[str, str]]) -> bytes:
    """Write contacts in the deposit's CSV format: ISO-8859-1, `;`, LF.

    The header lists the columns any contact has, the published ones first
    in their published order, then the others in order of appearance.
    """
    present: dict[str, None] = {}
    for contact in contacts:
        present.update(dict.fromkeys(contact))
    header = [name for name in columns.STANDARD_COLUMNS if name in present]
    header += [name for name in present if name not in header]

    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    for contact in contacts:
        writer.writerow([contact.get(name, "") for name in header])
    return text.getvalue().encode("iso-8859-1")
