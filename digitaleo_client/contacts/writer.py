"""Writing deposit parts: ISO-8859-1, LF, the account's separator, 20 MB parts.

A deposit file is CSV encoded in ISO-8859-1 with lines ending in LF. Each
part, CSV or zip, stays at or under `deposit.MAX_PART_BYTES` and repeats the
header. Values are quoted only when they contain the separator, a quote or a
line break; a quote inside a value is doubled.
"""

from __future__ import annotations

import csv
import logging
import shutil
import zipfile
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Literal

from digitaleo_client import deposit

logger = logging.getLogger(__name__)

ENCODING = "iso-8859-1"

# Bytes of a zip part that are not deflate output: the local header, the
# central directory and the end record, with room for the entry name.
_ZIP_OVERHEAD_BYTES = 1024

# Deflate never expands data by more than 5 bytes per 65,535-byte stored
# block; one part in a thousand bounds that with room to spare.
_DEFLATE_EXPANSION = 1.001

# Input bytes from before a write that deflate may still hold once that
# write made it emit output. zlib keeps at most MIN_LOOKAHEAD (262, in its
# deflate.h) bytes unprocessed, and the margin allows for other deflate builds.
_DEFLATE_HELD_BYTES = 65_536


class ZipMode(StrEnum):
    """When deposit parts are zipped."""

    AUTO = "auto"  # one CSV when the file fits in one part, zip parts otherwise
    ALWAYS = "always"
    NEVER = "never"


class _LineBuffer:
    """File-like target of csv.writer that keeps the lines written since the last take."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.write = self.lines.append

    def take(self) -> str:
        """Return the text written since the last call, and forget it."""
        text = "".join(self.lines)
        self.lines.clear()
        return text


class LineEncoder:
    """Format rows as deposit lines: quoted where needed, LF, ISO-8859-1 bytes."""

    def __init__(self, separator: str) -> None:
        self._buffer = _LineBuffer()
        self._writer = self._csv_writer(separator, csv.QUOTE_MINIMAL)
        # csv.writer quotes the characters of its line terminator only, so a
        # row with a bare CR goes through a writer that quotes every field.
        self._quote_all = self._csv_writer(separator, csv.QUOTE_ALL)

    def _csv_writer(self, separator: str, quoting: Literal[0, 1, 2, 3]) -> Any:
        return csv.writer(
            self._buffer,
            delimiter=separator,
            quotechar='"',
            doublequote=True,
            lineterminator="\n",
            quoting=quoting,
        )

    def encode(self, values: list[str]) -> bytes:
        """Return the bytes of one line.

        Raises UnicodeEncodeError when a value contains a character outside
        ISO-8859-1; callers make values encodable first.
        """
        if "\r" in "".join(values):
            self._quote_all.writerow(values)
        else:
            self._writer.writerow(values)
        return self._buffer.take().encode(ENCODING)

    def encode_many(self, rows: list[list[str]]) -> bytes | None:
        """Return the bytes of several lines, or None if a value contains a CR.

        Rows with a CR need the per-row `encode`, which quotes them whole.
        """
        self._writer.writerows(rows)
        text = self._buffer.take()
        if "\r" in text:
            return None
        return text.encode(ENCODING)


def _no_part(data: bytes) -> object:
    # The room stays 0 until a part opens, so this is never called.
    raise AssertionError("no part is open")


def part_name(base_name: str, index: int, extension: str) -> str:
    """Return the local file name of part `index` (counted from 1).

    The first part is `NAME.csv`, the next ones `NAME.part2.csv` and so on.
    """
    if index == 1:
        return f"{base_name}{extension}"
    return f"{base_name}.part{index}{extension}"


class _Part:
    """One open output part: a plain CSV file or one CSV inside a zip."""

    def __init__(self, path: Path, entry_name: str | None) -> None:
        self.path = path
        self.entry_name = entry_name
        self._file: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._zip: zipfile.ZipFile | None = None
        self._entry: IO[bytes] | None = None
        if entry_name is not None:
            self._zip = zipfile.ZipFile(self._file, "w", zipfile.ZIP_DEFLATED)
            self._entry = self._zip.open(entry_name, "w", force_zip64=False)
        target = self._entry if self._entry is not None else self._file
        self._write_target: Callable[[bytes], object] = target.write
        self.write: Callable[[bytes], object] = (
            self._write_target if self._entry is None else self._write_zipped
        )
        self.csv_bytes = 0
        # Zip parts: compressed bytes on disk, and a bound on the CSV bytes
        # that may still sit inside the compressor.
        self._compressed_bytes = self._file.tell()
        self._held_bytes = 0

    @property
    def zipped(self) -> bool:
        return self._zip is not None

    def room(self, limit: int) -> int:
        """Return how many more CSV bytes surely keep the part within `limit` bytes.

        For a zip, the CSV bytes still inside the compressor count as if
        deflate expanded them by its worst case.
        """
        if self._zip is None:
            return limit - self.csv_bytes
        free = limit - self._compressed_bytes - 1 - _ZIP_OVERHEAD_BYTES
        return int(free / _DEFLATE_EXPANSION) - self._held_bytes

    def _write_zipped(self, data: bytes) -> None:
        """Compress CSV bytes into the entry and update the bound on held bytes.

        Output appears only when deflate finishes a block, which covers the
        input before it, so what stays held after a write that grew the file
        is at most that write plus deflate's lookahead.
        """
        self._write_target(data)
        size = self._file.tell()
        if size != self._compressed_bytes:
            self._compressed_bytes = size
            self._held_bytes = len(data) + _DEFLATE_HELD_BYTES
        else:
            self._held_bytes += len(data)

    def count(self, written: int) -> None:
        """Record `written` CSV bytes written since the last call."""
        self.csv_bytes += written

    def close(self) -> None:
        if self._entry is not None:
            self._entry.close()
        if self._zip is not None:
            self._zip.close()
        self._file.close()


class PartWriter:
    """Stream rows into deposit parts of at most `max_part_bytes` each.

    Every part starts with the header. CSV parts are cut before the line that
    would cross the limit. Zip parts (one CSV each) are cut before the line
    that could push the compressed size over the limit, counting the input
    still inside the compressor at deflate's worst case, so a zip usually
    contains several times more rows than a CSV part. A zip part that ends
    up over the limit anyway, which only data that barely compresses can
    cause, is written as its CSV when that fits.
    """

    def __init__(
        self,
        out_dir: Path,
        base_name: str,
        header: list[str],
        separator: str = ";",
        max_part_bytes: int = deposit.MAX_PART_BYTES,
        zip_mode: ZipMode = ZipMode.AUTO,
    ) -> None:
        self._encoder = LineEncoder(separator)
        self._header = self._encoder.encode(header)
        if len(self._header) >= max_part_bytes:
            raise ValueError(
                f"max_part_bytes {max_part_bytes} leaves no room for the "
                f"{len(self._header)}-byte header"
            )
        self._out_dir = out_dir
        self._base_name = base_name
        self._max = max_part_bytes
        self._zip_mode = zip_mode
        self._parts: list[Path] = []
        self._current: _Part | None = None
        self.rows_written = 0
        # CSV bytes that surely fit in the current part, as last computed
        # and as left now: lines go in without other checks until it runs out.
        self._room_given = self._room = 0
        self._write: Callable[[bytes], object] = _no_part

    def write_row(self, values: list[str]) -> None:
        """Append one row, opening a new part when the current one is full."""
        self.write_line(self._encoder.encode(values))

    def write_rows(self, rows: list[list[str]]) -> None:
        """Append rows in order, opening new parts as they fill up.

        Writes the rows' lines at once when they fit in the current part,
        which saves most of the per-row work on large files.
        """
        if not rows:
            return
        block = self._encoder.encode_many(rows)
        if block is None or len(block) > self._room:
            for values in rows:
                self.write_row(values)
            return
        self._room -= len(block)
        self._write(block)
        self.rows_written += len(rows)

    def write_line(self, line: bytes) -> None:
        """Append one encoded line (from `encode`), starting a new part if needed."""
        size = len(line)
        if size <= self._room:
            self._room -= size
            self._write(line)
            self.rows_written += 1
            return
        self._write_at_limit(line)

    def _write_at_limit(self, line: bytes) -> None:
        """Write a line that may not fit: settle the counts, maybe start a part."""
        if len(self._header) + len(line) > self._max:
            raise ValueError(
                f"a {len(line)}-byte row cannot fit in a {self._max}-byte part"
            )
        part = self._current
        if part is None:
            part = self._open_part()
        else:
            part.count(self._room_given - self._room)
            if part.room(self._max) < len(line):
                part = self._next_part(part, len(line))
        part.write(line)
        part.count(len(line))
        self._room = self._room_given = part.room(self._max)
        self._write = part.write
        self.rows_written += 1

    def encode(self, values: list[str]) -> bytes:
        """Return the deposit bytes of one row without writing it."""
        return self._encoder.encode(values)

    def close(self) -> list[Path]:
        """Finish the last part and return every part's path, in order.

        A file without any row still gets one part holding the header.
        """
        if self._current is None:
            self._open_part()
        assert self._current is not None
        self._current.count(self._room_given - self._room)
        self._room_given = self._room = 0
        self._finish(self._current)
        self._current = None
        return list(self._parts)

    def discard(self) -> None:
        """Close and delete every part written so far, after a failed conversion."""
        if self._current is not None:
            self._current.close()
            self._current = None
        for path in self._parts:
            path.unlink(missing_ok=True)
        logger.debug("deleted %s unfinished parts", len(self._parts))
        self._parts.clear()

    def _open_part(self, zipped: bool | None = None) -> _Part:
        if zipped is None:
            zipped = self._zip_mode is ZipMode.ALWAYS
        index = len(self._parts) + 1
        csv_name = part_name(self._base_name, index, ".csv")
        if zipped:
            path = self._out_dir / part_name(self._base_name, index, ".zip")
            part = _Part(path, entry_name=csv_name)
        else:
            part = _Part(self._out_dir / csv_name, entry_name=None)
        part.write(self._header)
        part.count(len(self._header))
        self._parts.append(path if zipped else part.path)
        self._current = part
        return part

    def _next_part(self, full: _Part, line_size: int) -> _Part:
        if self._zip_mode is ZipMode.AUTO and not full.zipped and len(self._parts) == 1:
            # The file needs more than one CSV part: switch to zip parts, and
            # move the first CSV into a zip so that all parts look alike.
            rezipped = self._rezip_first(full)
            if rezipped.room(self._max) >= line_size:
                return rezipped
            full = rezipped
        self._finish(full)
        return self._open_part(zipped=full.zipped)

    def _rezip_first(self, full: _Part) -> _Part:
        full.close()
        csv_path = full.path
        self._parts.clear()
        part = self._open_part(zipped=True)
        with open(csv_path, "rb") as source:
            source.read(len(self._header))
            # Short chunks keep the bound on bytes held by deflate tight.
            # When the rows do not fit zipped, `_finish` keeps the CSV.
            while chunk := source.read(1 << 16):
                part.write(chunk)
                part.count(len(chunk))
        csv_path.unlink()
        logger.info("file exceeds one %s-byte CSV part, writing zip parts", self._max)
        return part

    def _finish(self, part: _Part) -> None:
        part.close()
        size = part.path.stat().st_size
        if size > self._max and part.csv_bytes <= self._max:
            # Data that barely compresses: the CSV alone is within the limit.
            size = self._unzip(part)
        if size > self._max:
            # Only possible if deflate held back or expanded more than the margins.
            raise ValueError(f"part {part.path} is {size} bytes, over {self._max}")
        logger.debug("wrote part %s (%s bytes)", part.path, size)

    def _unzip(self, part: _Part) -> int:
        """Replace the zip `part` with the CSV it contains; return the CSV's size."""
        assert part.entry_name is not None
        csv_path = part.path.with_name(part.entry_name)
        with (
            zipfile.ZipFile(part.path) as archive,
            archive.open(part.entry_name) as entry,
            open(csv_path, "wb") as out,
        ):
            shutil.copyfileobj(entry, out)
        logger.info(
            "part %s would be over %s bytes zipped, so it is written as %s",
            part.path,
            self._max,
            csv_path,
        )
        self._parts[self._parts.index(part.path)] = csv_path
        part.path.unlink()
        return csv_path.stat().st_size
