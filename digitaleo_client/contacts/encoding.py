"""Finding the text encoding of a CRM export.

Strategy, soundest first:

1. A byte order mark decides (UTF-8, UTF-16).
2. A file that decodes strictly as UTF-8 is UTF-8: text in another 8-bit
   encoding almost never forms valid multi-byte UTF-8 sequences.
3. A file that decodes strictly as Windows-1252 is Windows-1252. It matches
   ISO-8859-1 on every byte that ISO-8859-1 uses for printable text, and Excel
   writes it; the bytes 0x80-0x9F are control characters in ISO-8859-1, which
   never appear in a contact export.
4. Otherwise charset-normalizer's best guess, if it has one.

Each check reads the whole file in chunks, so memory stays constant.
"""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

import charset_normalizer

from digitaleo_client.errors import ConfigurationError, InputFileError

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 20
_SAMPLE_BYTES = 1 << 20

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def first_decode_error(path: Path, encoding: str) -> tuple[int, int] | None:
    """Return (offset, byte) of the first byte `encoding` cannot decode, or None.

    The offset counts bytes from the start of the file.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with open(path, "rb") as stream:
        while True:
            chunk = stream.read(_CHUNK_BYTES)
            final = not chunk
            try:
                decoder.decode(chunk, final=final)
            except UnicodeDecodeError as error:
                # The decoder may hold back the start of a sequence from the
                # previous chunk, so the position is relative to that data.
                pending = len(error.object) - len(chunk)
                position = offset - pending + error.start
                return position, error.object[error.start]
            if final:
                return None
            offset += len(chunk)


def _bom_encoding(path: Path) -> str | None:
    with open(path, "rb") as stream:
        head = stream.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    return None


def detect_encoding(path: Path) -> str:
    """Return the Python codec name of the file's encoding.

    Raises InputFileError naming the first byte that UTF-8 cannot decode when
    no encoding fits, with the fix (--encoding).
    """
    bom = _bom_encoding(path)
    if bom is not None:
        return check_encoding(path, bom)

    utf8_error = first_decode_error(path, "utf-8")
    if utf8_error is None:
        return "utf-8"
    if first_decode_error(path, "cp1252") is None:
        logger.info(
            "%s is not UTF-8 (byte %s), reading it as Windows-1252", path, utf8_error[0]
        )
        return "cp1252"

    guess = _guess_with_charset_normalizer(path)
    if guess is not None and first_decode_error(path, guess) is None:
        logger.info("%s: charset-normalizer reads it as %s", path, guess)
        return guess
    offset, byte = utf8_error
    raise InputFileError(
        f"{path}: cannot tell the encoding: byte 0x{byte:02X} at offset {offset} is "
        "invalid UTF-8, and the file is neither Windows-1252 nor ISO-8859-1 text; "
        "give the encoding with --encoding",
        path=str(path),
        offset=offset,
    )


def _guess_with_charset_normalizer(path: Path) -> str | None:
    with open(path, "rb") as stream:
        sample = stream.read(_SAMPLE_BYTES)
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        return None
    return str(best.encoding)


def codec_name(encoding: str) -> str:
    """Return Python's codec name for `encoding` (`latin-1` gives `iso8859-1`).

    Raises ConfigurationError for an unknown encoding name.
    """
    try:
        return codecs.lookup(encoding).name
    except LookupError as error:
        raise ConfigurationError(
            f"unknown encoding {encoding!r}; use a name such as utf-8, cp1252 or latin-1",
            key="encoding",
        ) from error


def check_encoding(path: Path, encoding: str) -> str:
    """Return the codec name of `encoding` once the whole file decodes with it.

    Raises ConfigurationError for an unknown encoding name, and InputFileError
    naming the offset and value of the first byte that does not decode.
    """
    name = codec_name(encoding)
    failure = first_decode_error(path, name)
    if failure is not None:
        offset, byte = failure
        raise InputFileError(
            f"{path}: byte 0x{byte:02X} at offset {offset} is invalid {name}; "
            "check --encoding, or leave it out to detect the encoding",
            path=str(path),
            offset=offset,
        )
    return name
