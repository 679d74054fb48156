"""Builders of report zips for tests, hostile ones included."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path


class Cp437Info(zipfile.ZipInfo):
    """An entry whose name is written in code page 437, without the UTF-8 flag."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # overrides zipfile's method
        return self.filename.encode("cp437"), self.flag_bits & ~0x800


class RawNameInfo(zipfile.ZipInfo):
    """An entry written with the exact name bytes given, UTF-8 flag unset."""

    raw_name: bytes = b""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # overrides zipfile's method
        return self.raw_name, self.flag_bits & ~0x800


def write_zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    """Write a deflated zip holding `entries` (name or ZipInfo, content)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return path


def symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def fifo_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFIFO | 0o644) << 16
    return info


def cp437_info(name: str) -> zipfile.ZipInfo:
    info = Cp437Info(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def raw_name_info(raw_name: bytes) -> zipfile.ZipInfo:
    info = RawNameInfo("placeholder")
    info.raw_name = raw_name
    info.compress_type = zipfile.ZIP_DEFLATED
    return info
