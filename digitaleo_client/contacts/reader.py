"""Reading a CRM export: encoding, dialect, header and rows, streamed.

Row numbers count records as a spreadsheet shows them: the header is row 1
and the first contact row 2, even when a quoted value spans several lines.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from digitaleo_client.contacts import encoding as encodings
from digitaleo_client.errors import InputFileError

logger = logging.getLogger(__name__)

# Separators tried when none is given, most common in CRM exports first.
DELIMITERS = (";", ",", "\t", "|")
_SNIFF_CHARS = 64 * 1024
_SNIFF_ROWS = 50

# Leading bytes of file formats that CRM users send instead of a CSV export,
# what each is, and what to do instead.
_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "a zip or xlsx file", "unzip it, or save the spreadsheet as CSV"),
    (b"\x1f\x8b", "a gzip file", "decompress it with gunzip first"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls or other Office file", "save it as CSV"),
    (b"%PDF", "a PDF file", "export the contacts as CSV from the CRM"),
)


@dataclass(frozen=True)
class Dialect:
    """Encoding and separator of an export, as detected or given."""

    encoding: str
    delimiter: str

    def describe(self) -> str:
        shown = {"\t": "tab"}.get(self.delimiter, repr(self.delimiter))
        return f"encoding {self.encoding}, separator {shown}"


def _csv_reader(
    stream: io.TextIOBase | io.StringIO, delimiter: str
) -> Iterator[list[str]]:
    return csv.reader(
        stream, delimiter=delimiter, quotechar='"', doublequote=True, strict=False
    )


def _score(sample: str, delimiter: str) -> tuple[int, int]:
    """Rate a separator: rows whose field count matches the header's, then fields."""
    rows = []
    try:
        reader = _csv_reader(io.StringIO(sample, newline=""), delimiter)
        for row in reader:
            rows.append(row)
            if len(rows) > _SNIFF_ROWS:
                break
    except csv.Error:
        return (0, 0)
    # The sample may end inside a row, so the last one is not judged.
    rows = [row for row in rows[:-1] if row] if len(rows) > 1 else rows
    if not rows or len(rows[0]) < 2:
        return (0, 0)
    width = len(rows[0])
    matching = sum(1 for row in rows if len(row) == width)
    return (matching, width)


def sniff_delimiter(sample: str) -> str:
    """Return the separator among ; , tab | that splits `sample` most regularly.

    A header that none of them splits is a one-column file, read with `;`.
    A file with another separator then shows a header with one unknown column.
    """
    scores = {delimiter: _score(sample, delimiter) for delimiter in DELIMITERS}
    return max(DELIMITERS, key=lambda delimiter: scores[delimiter])


def check_not_binary(path: Path) -> None:
    """Raise InputFileError when `path` starts like a zip, gzip, xls or PDF file."""
    with path.open("rb") as stream:
        start = stream.read(8)
    for signature, kind, fix in _BINARY_SIGNATURES:
        if start.startswith(signature):
            raise InputFileError(
                f"{path} looks like {kind}, not a CSV; {fix}", path=str(path)
            )


class ExportReader:
    """Stream the rows of a CRM export after finding its encoding and separator.

    Use as a context manager. `header` is the first record; iterating yields
    (row number, values) for every following non-blank record.
    """

    def __init__(
        self, path: Path, encoding: str | None = None, delimiter: str | None = None
    ) -> None:
        if not path.is_file():
            raise InputFileError(
                f"{path}: file not found; check the path", path=str(path)
            )
        self.path = path
        check_not_binary(path)
        if encoding is None:
            name = encodings.detect_encoding(path)
        else:
            name = encodings.check_encoding(path, encoding)
        self._binary = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._stream = io.TextIOWrapper(self._binary, encoding=name, newline="")
        try:
            if delimiter is None:
                sample = self._stream.read(_SNIFF_CHARS)
                if not sample.strip():
                    raise self._empty()
                delimiter = sniff_delimiter(sample)
                self._stream.seek(0)
            self.dialect = Dialect(name, delimiter)
            self._reader = _csv_reader(self._stream, delimiter)
            self.header = self._read_header()
        except BaseException:
            self._stream.close()
            raise
        logger.info("%s: %s", path, self.dialect.describe())

    def _read_header(self) -> list[str]:
        for row in self._reader:
            if any(value.strip() for value in row):
                return [value.strip() for value in row]
        raise self._empty()

    def _empty(self) -> InputFileError:
        return InputFileError(
            f"{self.path}: the file is empty; export it again", path=str(self.path)
        )

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        number = 1
        try:
            for row in self._reader:
                number += 1
                if row:
                    yield number, row
        except csv.Error as error:
            raise InputFileError(
                f"{self.path}: row {number + 1}: {error}; check the quotes around that row",
                path=str(self.path),
                row=number + 1,
            ) from error

    def batches(self, size: int) -> Iterator[list[tuple[int, list[str]]]]:
        """Yield the rows as lists of at most `size` (row number, values) pairs."""
        batch: list[tuple[int, list[str]]] = []
        for item in self:
            batch.append(item)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    @property
    def bytes_read(self) -> int:
        """Bytes of the file read so far, counting read-ahead; for progress bars."""
        return self._binary.tell()

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
