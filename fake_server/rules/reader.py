"""Reading a deposited file: size, zip, encoding, header and rows.

Lines may end in CRLF as well as LF. The published format says LF, but the
csv module reads both as a line end, so no value changes.
Everything that makes a file unreadable as a whole raises `Rejected`, whose
reason states in plain words what is wrong and how to fix it; the processor
then moves the file to ko/.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from digitaleo_client.contacts import columns
from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.deposit import MAX_PART_BYTES

ENCODING = "iso-8859-1"

# How much of the start of a file is checked for UTF-8 text.
_ENCODING_SAMPLE_BYTES = 1 << 20

_UTF8_BOM = codecs.BOM_UTF8

# The largest CSV a deposited zip may unpack to. The published rules bound
# only the zip's own size, so this limit is the fake server's choice. It
# stops a zip bomb, and the client's zips, which hold CSV parts of at most
# 20,000,000 bytes, stay ten times below it.
MAX_UNZIPPED_BYTES = 10 * MAX_PART_BYTES

# Separators a file may have been written with by mistake, named in reasons.
_COMMON_SEPARATORS = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}


class _CsvReader(Protocol):
    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


class Rejected(Exception):
    """The file cannot be processed as a whole and goes to ko/."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class DepositTable:
    """The header of a deposited file and a one-pass iterator over its rows.

    `rows` yields `(line, values)`: the line the row ends on (the header is
    line 1) and its non-empty values by column name, trimmed of spaces.
    Columns the account does not know are left out. Iterating may raise
    `Rejected` for a row that breaks the format.
    """

    columns: tuple[str, ...]
    rows: Iterator[tuple[int, dict[str, str]]]

    def has(self, column: str) -> bool:
        return column in self.columns


def check_size(path: Path) -> None:
    """Raise Rejected when the deposited file is larger than the deposit accepts."""
    size = path.stat().st_size
    if size > MAX_PART_BYTES:
        raise Rejected(
            f"the file is {size:,} bytes, over the limit of {MAX_PART_BYTES:,} bytes "
            "per deposited file; split it into smaller files"
        )


def open_table(path: Path, account: AccountSettings, stack: ExitStack) -> DepositTable:
    """Open a deposited CSV or zip and read its header.

    Files opened here are closed when `stack` closes. Raises Rejected when
    the file is too large, is an unreadable zip, a zip without exactly one
    CSV or one whose CSV unpacks to more than MAX_UNZIPPED_BYTES, is UTF-8 encoded, or has a header the account cannot use.
    """
    check_size(path)
    open_binary = _zip_opener(path, stack) if _is_zip(path) else lambda: path.open("rb")

    with open_binary() as sample_stream:
        try:
            sample = sample_stream.read(_ENCODING_SAMPLE_BYTES)
        except zipfile.BadZipFile as error:
            raise _corrupt_zip(error) from error
        _check_encoding(sample)
    binary = stack.enter_context(open_binary())
    text = io.TextIOWrapper(binary, encoding=ENCODING, newline="")
    reader = csv.reader(
        text,
        delimiter=account.separator,
        quotechar='"',
        strict=True,
        skipinitialspace=True,
    )

    header = _read_header(reader)
    check_header(header, account)
    return DepositTable(columns=header, rows=_rows(reader, header, account))


def _is_zip(path: Path) -> bool:
    if path.name.lower().endswith(".zip"):
        return True
    with path.open("rb") as stream:
        return stream.read(4) == b"PK\x03\x04"


def _zip_opener(path: Path, stack: ExitStack) -> Callable[[], IO[bytes]]:
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
    except (zipfile.BadZipFile, OSError) as error:
        raise Rejected(
            f"the zip cannot be read ({error}); deposit a valid zip containing one CSV file"
        ) from error
    members = [info for info in archive.infolist() if not info.is_dir()]
    names = ", ".join(info.filename for info in members) or "nothing"
    if len(members) != 1 or not members[0].filename.lower().endswith(".csv"):
        raise Rejected(
            f"the zip contains {names}, but a zipped deposit must contain exactly one CSV file"
        )
    member = members[0]
    # zipfile stops reading a member at its declared size (and then fails
    # its checksum), so checking the declared size bounds what is unpacked.
    if member.file_size > MAX_UNZIPPED_BYTES:
        raise Rejected(
            f"the zip's {member.filename} unpacks to {member.file_size:,} bytes, over "
            f"the limit of {MAX_UNZIPPED_BYTES:,} bytes; split the contacts into "
            "smaller files"
        )

    def open_member() -> IO[bytes]:
        try:
            return archive.open(member)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as error:
            raise Rejected(
                f"the zip member {member.filename} cannot be read ({error}); "
                "deposit an unencrypted zip made with deflate or no compression"
            ) from error

    return open_member


def _check_encoding(sample: bytes) -> None:
    if sample.startswith(_UTF8_BOM):
        raise Rejected(
            "the file starts with a UTF-8 byte order mark; the deposit reads "
            "ISO-8859-1, so save the file as ISO-8859-1 without a BOM"
        )
    if sample.isascii():
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return
    raise Rejected(
        "the file is encoded in UTF-8; the deposit reads ISO-8859-1, "
        "so accented letters would be garbled: re-encode the file as ISO-8859-1"
    )


def _read_header(reader: _CsvReader) -> tuple[str, ...]:
    try:
        record = next(reader, None)
    except csv.Error as error:
        raise Rejected(
            f"line 1 (the header) cannot be read: {error}; check its quotes"
        ) from error
    except zipfile.BadZipFile as error:
        raise _corrupt_zip(error) from error
    if record is None or not any(name.strip() for name in record):
        raise Rejected("the file is empty; its first line must be the header")
    return tuple(name.strip() for name in record)


def check_header(header: tuple[str, ...], account: AccountSettings) -> None:
    """Raise Rejected when the header lacks a column the account requires.

    A header needs one of Email, Téléphone Fixe or Mobile; `Référence` under
    the reference criterion; and, on a multi-account deposit, `dispatch` as
    its last column. A column may appear only once.
    """
    named = [name for name in header if name]
    for index, name in enumerate(named):
        if name in named[:index]:
            raise Rejected(f"the header names the column {name!r} twice; keep one")

    if not any(column in header for column in columns.MEANS_OF_CONTACT):
        raise Rejected(_no_means_reason(header, account))
    if account.requires_reference and columns.REFERENCE not in header:
        raise Rejected(
            "the header has no Référence column, which the account's reference "
            "criterion requires; add it"
        )
    if account.multi_account:
        if columns.DISPATCH not in header:
            raise Rejected(
                "the header has no dispatch column, which a multi-account deposit "
                "requires; add it as the last column"
            )
        if header[-1] != columns.DISPATCH:
            raise Rejected(
                "the dispatch column must be the last column of the header; move it there"
            )


def _no_means_reason(header: tuple[str, ...], account: AccountSettings) -> str:
    if len(header) == 1:
        for separator, shown in _COMMON_SEPARATORS.items():
            if separator != account.separator and separator in header[0]:
                return (
                    f"the header reads as one column {header[0]!r}: it seems separated "
                    f"by {shown}, but the account's separator is {account.separator!r}; "
                    "write the file with the account's separator"
                )
    reason = "the header has none of the columns Email, Téléphone Fixe and Mobile"
    lowered = {name.lower(): name for name in header}
    near = [
        lowered[name.lower()]
        for name in columns.MEANS_OF_CONTACT
        if name.lower() in lowered
    ]
    if near:
        found = ", ".join(map(repr, near))
        return f"{reason} (column names are case-sensitive, found {found}); rename them"
    return f"{reason}; add at least one of them"


def _rows(
    reader: _CsvReader, header: tuple[str, ...], account: AccountSettings
) -> Iterator[tuple[int, dict[str, str]]]:
    known = set(account.known_columns)
    if account.multi_account:
        known.add(columns.DISPATCH)
    kept = [(index, name) for index, name in enumerate(header) if name in known]
    width = len(header)

    try:
        for record in reader:
            if not record:
                continue
            if len(record) != width:
                raise Rejected(
                    f"line {reader.line_num} has {len(record)} fields but the header "
                    f"has {width}; check the separator and the quotes on that line"
                )
            values = {}
            for index, name in kept:
                value = record[index].strip()
                if value:
                    values[name] = value
            yield reader.line_num, values
    except csv.Error as error:
        raise Rejected(
            f"line {reader.line_num} cannot be read: {error}; check the quotes on that line"
        ) from error
    except zipfile.BadZipFile as error:
        raise _corrupt_zip(error) from error


def _corrupt_zip(error: Exception) -> Rejected:
    return Rejected(f"the zip is corrupt ({error}); deposit it again")
