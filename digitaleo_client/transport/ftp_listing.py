"""Parse FTP folder listings: MLSD facts (RFC 3659) and LIST lines.

LIST output has no standard. The two formats servers use in practice are
read: Unix `ls -l` lines and the MS-DOS/IIS form. LIST gives no usable
modification time (the year or the time of day is missing), so entries read
from it have `mtime` None.
"""

from __future__ import annotations

import calendar
import re
import time

from digitaleo_client.transport.base import RemoteEntry

# `-rw-r--r--   1 owner group     1234 Mar  4 10:15 name with spaces`
_UNIX_LINE = re.compile(
    r"^(?P<mode>[-dlbcps][-rwxsStTl+.@]{9,10})\s+\d+\s+\S+\s+\S+\s+"
    r"(?P<size>\d+)\s+\w{3}\s+\d{1,2}\s+[\d:]{4,5}\s(?P<name>.+)$"
)
# `03-04-26  10:15AM       <DIR>          name` or `... 1234 name`
_DOS_LINE = re.compile(
    r"^\d{2}-\d{2}-\d{2,4}\s+\d{1,2}:\d{2}[AP]M\s+"
    r"(?:(?P<dir><DIR>)|(?P<size>\d+))\s+(?P<name>.+)$",
    re.IGNORECASE,
)
_SELF_AND_PARENT = (".", "..")


def parse_mlsd_facts(name: str, facts: dict[str, str]) -> RemoteEntry | None:
    """Build an entry from one MLSD line's name and facts.

    Returns None for the folder itself and its parent (`cdir`, `pdir`).
    Fact names are case-insensitive; a missing size reads as 0 and a missing
    or unreadable modification time as None.
    """
    lowered = {key.lower(): value for key, value in facts.items()}
    kind = lowered.get("type", "file").lower()
    if kind in ("cdir", "pdir") or name in _SELF_AND_PARENT:
        return None
    return RemoteEntry(
        name=name,
        size=int(lowered.get("size", "0") or 0),
        mtime=parse_mlsd_time(lowered.get("modify")),
        is_dir=kind == "dir",
    )


def parse_mlsd_time(value: str | None) -> float | None:
    """Read an MLSD `modify` fact (`YYYYMMDDHHMMSS[.sss]`, UTC) as POSIX seconds.

    Returns None for a missing or malformed value.
    """
    if not value:
        return None
    whole, _, fraction = value.partition(".")
    # strptime reads fewer digits than the format asks for, so check the length.
    if len(whole) != 14 or not whole.isdigit():
        return None
    try:
        parsed = time.strptime(whole, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    seconds = float(calendar.timegm(parsed))
    if fraction.isdigit():
        seconds += float(f"0.{fraction}")
    return seconds


def parse_list_line(line: str) -> RemoteEntry | None:
    """Build an entry from one LIST line in Unix or MS-DOS form.

    Returns None for `total N` lines, `.` and `..`, and lines in neither
    form. A symbolic link reads as a file named before its ` -> target`.
    """
    unix = _UNIX_LINE.match(line)
    if unix is not None:
        name = unix["name"]
        if unix["mode"].startswith("l"):
            name = name.split(" -> ", 1)[0]
        is_dir = unix["mode"].startswith("d")
        return _entry(name, int(unix["size"]), is_dir)
    dos = _DOS_LINE.match(line)
    if dos is not None:
        return _entry(dos["name"], int(dos["size"] or 0), dos["dir"] is not None)
    return None


def _entry(name: str, size: int, is_dir: bool) -> RemoteEntry | None:
    if name in _SELF_AND_PARENT:
        return None
    return RemoteEntry(name=name, size=size, mtime=None, is_dir=is_dir)
