"""Reading MLSD facts and LIST lines as servers send them."""

from __future__ import annotations

import pytest

from digitaleo_client.transport import RemoteEntry
from digitaleo_client.transport.ftp_listing import (
    parse_list_line,
    parse_mlsd_facts,
    parse_mlsd_time,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "-rw-r--r--   1 ftp      ftp          1234 Mar  4 10:15 list.csv",
            RemoteEntry("list.csv", 1234, None, False),
        ),
        (
            "drwxr-xr-x   2 ftp      ftp          4096 Dec 31  2025 in",
            RemoteEntry("in", 4096, None, True),
        ),
        (
            "-rw-r--r--   1 1001     1001           12 Dec 04 16:13 Clients été 2026.csv",
            RemoteEntry("Clients été 2026.csv", 12, None, False),
        ),
        (
            "-rw-r--r--   1 ftp      ftp             7 Jan  1 00:00 .list.csv.part",
            RemoteEntry(".list.csv.part", 7, None, False),
        ),
        (
            "lrwxrwxrwx   1 ftp      ftp             9 Jan  1 00:00 latest -> list.csv",
            RemoteEntry("latest", 9, None, False),
        ),
        (
            "-rw-r--r--+  1 ftp      ftp             5 Jan  1 00:00 acl.csv",
            RemoteEntry("acl.csv", 5, None, False),
        ),
        (
            "03-04-26  10:15AM       <DIR>          reporting",
            RemoteEntry("reporting", 0, None, True),
        ),
        (
            "03-04-2026  10:15PM              1234 list.csv",
            RemoteEntry("list.csv", 1234, None, False),
        ),
        ("total 12", None),
        ("drwxr-xr-x   2 ftp      ftp          4096 Dec 31  2025 .", None),
        ("drwxr-xr-x   2 ftp      ftp          4096 Dec 31  2025 ..", None),
        ("", None),
    ],
    ids=[
        "unix-file",
        "unix-folder-with-year",
        "unix-spaces-and-accents",
        "unix-hidden",
        "unix-link",
        "unix-acl-mark",
        "dos-folder",
        "dos-file-four-digit-year",
        "total-line",
        "dot",
        "dot-dot",
        "empty",
    ],
)
def test_parse_list_line(line: str, expected: RemoteEntry | None) -> None:
    assert parse_list_line(line) == expected


@pytest.mark.parametrize(
    ("name", "facts", "expected"),
    [
        (
            "list.csv",
            {"type": "file", "size": "1234", "modify": "20151117215407"},
            RemoteEntry("list.csv", 1234, 1447797247.0, False),
        ),
        (
            "in",
            {"Type": "dir", "Modify": "20151117215407.5"},
            RemoteEntry("in", 0, 1447797247.5, True),
        ),
        ("list.csv", {"type": "file"}, RemoteEntry("list.csv", 0, None, False)),
        (".", {"type": "cdir"}, None),
        ("..", {"type": "pdir"}, None),
        ("/contacts", {"type": "cdir"}, None),
    ],
    ids=[
        "file",
        "folder-uppercase-facts",
        "no-size-no-time",
        "cdir",
        "pdir",
        "cdir-full-path",
    ],
)
def test_parse_mlsd_facts(
    name: str, facts: dict[str, str], expected: RemoteEntry | None
) -> None:
    assert parse_mlsd_facts(name, facts) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("19700101000000", 0.0),
        ("20151117215407", 1447797247.0),
        ("20151117215407.250", 1447797247.25),
        ("2015111721", None),
        ("not-a-time", None),
        (None, None),
    ],
    ids=["epoch", "seconds", "fraction", "truncated", "garbage", "missing"],
)
def test_parse_mlsd_time(value: str | None, expected: float | None) -> None:
    assert parse_mlsd_time(value) == expected
