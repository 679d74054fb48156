"""Safe unpacking of report zips, which are untrusted input.

Every entry of the central directory is checked before a single byte is
written, then the entries are written into a fresh staging folder that
replaces the destination folder only once everything succeeded. A rejected
zip leaves nothing behind, inside or outside the destination.

Rejected as hostile (HostileReport):

- entry names with a `..` component, an absolute path (`/x`, `\\x`), a drive
  (`C:x`) or a NUL byte;
- symbolic links and other special files;
- duplicate names, compared after Unicode NFC normalization and case
  folding so that case-insensitive file systems cannot merge two entries,
  and a file whose name is also used as a folder;
- more than `max_entries` entries, more than `max_total_bytes` bytes once
  unpacked, or an entry of over 1 MiB that unpacks to more than
  `max_ratio` times its compressed size (a zip bomb).

Rejected as corrupt (CorruptReport): a truncated or undecodable archive, an
entry whose CRC or size does not match, an encrypted entry or an unsupported
compression method.

Entry names are decoded as zipfile does it: UTF-8 when the entry's UTF-8
flag (bit 11) is set, code page 437 otherwise.
"""

from __future__ import annotations

import logging
import re
import shutil
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from digitaleo_client.errors import CorruptReport, HostileReport

logger = logging.getLogger(__name__)

_HOSTILE_FIX = (
    "the zip was not unpacked; have Digitaleo check the report before using it"
)
_CORRUPT_FIX = "it is not recorded as pulled, so the next pull downloads it again"

_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK_BYTES = 1 << 20
# Entries smaller than this are never judged by their compression ratio.
_RATIO_MIN_BYTES = 1 << 20
_UNIX_CREATOR = 3
_ENCRYPTED_FLAG = 0x1


@dataclass(frozen=True)
class ExtractionLimits:
    """Bounds that a report zip must stay within to be unpacked.

    The defaults leave room for a daily zip of campaigns sent to millions of
    contacts (CSV compresses about 5 to 20 times with deflate), while a zip
    bomb, which reaches ratios of 1,000 and more, is rejected.
    """

    max_entries: int = 1_000
    max_total_bytes: int = 4_000_000_000
    max_ratio: float = 200.0


DEFAULT_LIMITS = ExtractionLimits()


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]
    is_dir: bool


def extract_report(
    zip_path: Path, destination: Path, limits: ExtractionLimits = DEFAULT_LIMITS
) -> list[Path]:
    """Check a report zip and unpack it into `destination`, replacing its content.

    The zip is unpacked into a hidden staging folder beside `destination`
    that then takes its place, so `destination` holds either the old or the
    new content. Returns the unpacked files, sorted.

    Raises HostileReport when an entry breaks the safety rules above,
    CorruptReport when the archive cannot be read; in both cases nothing is
    left on disk.
    """
    with _open_zip(zip_path) as archive:
        members = check_members(archive, zip_path, limits)
        staging = destination.with_name(f".{destination.name}.part")
        _remove_tree(staging)
        staging.mkdir(parents=True)
        try:
            files = [
                _write_member(archive, zip_path, member, staging) for member in members
            ]
        except BaseException:
            _remove_tree(staging)
            raise

    _swap_folder(staging, destination)
    unpacked = [
        destination / path.relative_to(staging) for path in files if path is not None
    ]
    return sorted(unpacked)


@contextmanager
def _open_zip(zip_path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(zip_path)
    except UnicodeDecodeError as error:
        raise CorruptReport(
            f"report {zip_path} has an entry name flagged UTF-8 that is not UTF-8; "
            f"{_CORRUPT_FIX}",
            zip=str(zip_path),
        ) from error
    except (
        zipfile.BadZipFile,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
    ) as error:
        raise CorruptReport(
            f"report {zip_path} is not a readable zip ({error}); {_CORRUPT_FIX}",
            zip=str(zip_path),
        ) from error
    with archive:
        yield archive


def check_members(
    archive: zipfile.ZipFile, zip_path: Path, limits: ExtractionLimits = DEFAULT_LIMITS
) -> list[_Member]:
    """Check every entry of `archive` against the safety rules, writing nothing.

    Returns the entries with their checked path components. Raises
    HostileReport or CorruptReport naming the zip, the entry and the rule.
    """
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise _hostile(
            zip_path,
            f"has {len(infos)} entries, over the bound of {limits.max_entries}",
        )

    members = [_check_entry(info, zip_path, limits) for info in infos]
    _check_duplicates(members, zip_path)

    total = sum(member.info.file_size for member in members)
    if total > limits.max_total_bytes:
        raise _hostile(
            zip_path,
            f"unpacks to {total} bytes, over the bound of {limits.max_total_bytes} bytes",
        )
    return members


def _check_entry(
    info: zipfile.ZipInfo, zip_path: Path, limits: ExtractionLimits
) -> _Member:
    name = info.orig_filename
    if "\x00" in name:
        raise _hostile(zip_path, f"has entry {name!r} whose name contains a NUL byte")
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise _hostile(zip_path, f"has entry {name!r} with an absolute path")

    parts = tuple(part for part in re.split(r"[/\\]", name) if part not in ("", "."))
    if ".." in parts:
        raise _hostile(zip_path, f"has entry {name!r} that climbs out with '..'")
    if not parts:
        raise _hostile(zip_path, f"has entry {name!r} with an empty path")

    # Unix creators store the st_mode in the high 16 bits; a file type of 0
    # means none was recorded.
    mode = info.external_attr >> 16
    is_dir = name.endswith(("/", "\\"))
    if info.create_system == _UNIX_CREATOR and stat.S_IFMT(mode):
        if stat.S_ISLNK(mode):
            raise _hostile(zip_path, f"has entry {name!r} that is a symbolic link")
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise _hostile(zip_path, f"has entry {name!r} that is a special file")
        is_dir = is_dir or stat.S_ISDIR(mode)

    if info.flag_bits & _ENCRYPTED_FLAG:
        raise CorruptReport(
            f"report {zip_path} has entry {name!r} that is encrypted and cannot be read; "
            "ask Digitaleo for an unencrypted report",
            zip=str(zip_path),
            entry=name,
        )
    _check_ratio(info, zip_path, limits)
    return _Member(info, parts, is_dir)


def _check_ratio(
    info: zipfile.ZipInfo, zip_path: Path, limits: ExtractionLimits
) -> None:
    if info.file_size < _RATIO_MIN_BYTES:
        return
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > limits.max_ratio:
        raise _hostile(
            zip_path,
            f"has entry {info.orig_filename!r} that unpacks {ratio:.0f} times its "
            f"compressed size ({info.file_size} bytes), over the bound of {limits.max_ratio:.0f}",
        )


def _check_duplicates(members: list[_Member], zip_path: Path) -> None:
    files: dict[tuple[str, ...], str] = {}
    folders: dict[tuple[str, ...], str] = {}
    for member in members:
        key = tuple(
            unicodedata.normalize("NFC", part).casefold() for part in member.parts
        )
        name = member.info.orig_filename
        if key in files or (not member.is_dir and key in folders):
            other = files.get(key) or folders[key]
            raise _hostile(
                zip_path, f"has entries {other!r} and {name!r} with the same name"
            )
        if member.is_dir:
            folders[key] = name
        else:
            files[key] = name
        for depth in range(1, len(key)):
            folders.setdefault(key[:depth], name)
    clashes = sorted(set(files) & set(folders))
    if clashes:
        name = files[clashes[0]]
        raise _hostile(zip_path, f"has entry {name!r} that is both a file and a folder")


def _write_member(
    archive: zipfile.ZipFile, zip_path: Path, member: _Member, staging: Path
) -> Path | None:
    target = staging.joinpath(*member.parts)
    if not target.resolve().is_relative_to(staging.resolve()):
        raise _hostile(
            zip_path, f"has entry {member.info.orig_filename!r} outside the folder"
        )
    if member.is_dir:
        target.mkdir(parents=True, exist_ok=True)
        return None

    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with archive.open(member.info) as source, target.open("xb") as output:
            shutil.copyfileobj(source, output, _CHUNK_BYTES)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise CorruptReport(
            f"report {zip_path} has entry {member.info.orig_filename!r} that cannot be "
            f"read ({error}); {_CORRUPT_FIX}",
            zip=str(zip_path),
            entry=member.info.orig_filename,
        ) from error
    return target


def _swap_folder(staging: Path, destination: Path) -> None:
    previous = destination.with_name(f".{destination.name}.old")
    _remove_tree(previous)
    if destination.exists():
        destination.rename(previous)
    staging.rename(destination)
    _remove_tree(previous)


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _hostile(zip_path: Path, problem: str) -> HostileReport:
    return HostileReport(
        f"report {zip_path} {problem}; {_HOSTILE_FIX}", zip=str(zip_path)
    )
