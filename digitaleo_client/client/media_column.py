"""Checking, before upload, that an opt-out or opt-in file has its media's column."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from digitaleo_client.deposit import Action, Media
from digitaleo_client.errors import ValidationError

DEPOSIT_ENCODING = "iso-8859-1"


def read_deposit_header(part: Path, separator: str) -> list[str]:
    """Return the column names of a deposit part, a CSV or a zip of one CSV.

    Returns an empty list for an empty file. Raises ValidationError for a
    zip that does not contain exactly one file.
    """
    if zipfile.is_zipfile(part):
        with zipfile.ZipFile(part) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) != 1:
                raise ValidationError(
                    f"{part} contains {len(members)} files; a zipped deposit must "
                    "contain exactly one CSV file",
                    path=str(part),
                )
            with archive.open(members[0]) as member:
                first_line = member.readline()
    else:
        with part.open("rb") as stream:
            first_line = stream.readline()
    text = first_line.decode(DEPOSIT_ENCODING).rstrip("\r\n")
    row = next(csv.reader(io.StringIO(text), delimiter=separator), [])
    return [name.strip() for name in row]


def check_media_column(
    source: Path, part: Path, action: Action, media: Media | None, separator: str
) -> None:
    """Raise ValidationError when an opt-out or opt-in part lacks its media's column.

    The deposit reads the means of contact of each media from one column
    (Email for EMAIL, Mobile for SMS and VOICEMAIL, Téléphone Fixe for
    VOICE) and moves a file without it to ko/.
    """
    if not action.needs_media or media is None:
        return
    header = read_deposit_header(part, separator)
    column = media.contact_column
    if column in header:
        return
    found = ", ".join(name for name in header if name) or "no column"
    raise ValidationError(
        f"{source} has no {column} column, which an {action.value} for {media.value} "
        f"needs, so the deposit would move it to ko/ (its columns: {found}); add the "
        f"{column} column, or choose the --media that matches the file's column",
        path=str(source),
        column=column,
    )
