"""Turning the user's file into the parts to deposit, in one call."""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.contacts.convert import (
    ConversionReport,
    ConvertOptions,
    build_deposit,
)
from digitaleo_client.contacts.reader import check_not_binary
from digitaleo_client.deposit import MAX_PART_BYTES
from digitaleo_client.errors import InputFileError, ValidationError

# Bytes read from the start of a file sent as it is, to tell UTF-8 from ISO-8859-1.
UTF8_SAMPLE_BYTES = 65_536


@dataclass(frozen=True)
class PreparedDeposit:
    """Local files to deposit in order, and the converter's report as a dict.

    `report` is None when the file is sent as it is.
    """

    parts: list[Path]
    report: dict[str, Any] | None
    invalid_share: float = 0.0


def prepare_deposit(
    source: Path,
    work_dir: Path,
    account: AccountSettings,
    *,
    convert: bool = True,
    options: ConvertOptions | None = None,
    max_invalid_share: float | None = None,
    allow_empty: bool = False,
) -> PreparedDeposit:
    """Convert `source` into deposit parts in `work_dir`, or take it as it is.

    With `convert` false the file must already be in the deposit format
    (ISO-8859-1, not UTF-8) and at most 20,000,000 bytes. `options` None means the converter's defaults;
    `max_invalid_share` None accepts any share of rejected rows. A file
    with a header and no contact row, or whose rows would all be rejected,
    is refused unless `allow_empty`, since in sync mode it empties the list.

    Raises InputFileError for an unreadable or oversized file, and
    ValidationError for a file without contact rows, one whose rows would
    all be rejected, or when more rows than `max_invalid_share` would be
    rejected.
    """
    if not source.is_file():
        raise InputFileError(
            f"{source} is not a file; check the path", path=str(source)
        )
    if not convert:
        checked = _checked_as_is(source)
        _check_deposit_container(checked)
        _check_not_utf8(checked)
        if not allow_empty and not _has_data_line(checked):
            raise _empty_file_error(source)
        return PreparedDeposit([checked], None)

    report = build_deposit(source, work_dir, account, options)
    if report.rows_read == 0 and not allow_empty:
        raise _empty_file_error(source)
    if report.rows_written == 0 and not allow_empty:
        raise _all_rejected_error(source, report)
    if max_invalid_share is not None and report.invalid_share > max_invalid_share:
        raise ValidationError(
            f"{source}: {report.rows_rejected} of {report.rows_read} rows "
            f"({report.invalid_share:.1%}) would be rejected, more than the allowed "
            f"{max_invalid_share:.1%}; run `digitaleo check {source}` to see why, "
            "fix the export, or raise --max-invalid",
            path=str(source),
        )
    return PreparedDeposit(list(report.parts), _summary(report), report.invalid_share)


def _empty_file_error(source: Path) -> ValidationError:
    return ValidationError(
        f"{source} has no contact rows, only a header; depositing it would import "
        "nothing, and in sync mode would empty the list; check the export, or pass "
        "--allow-empty to deposit it anyway",
        path=str(source),
    )


def _all_rejected_error(source: Path, report: ConversionReport) -> ValidationError:
    return ValidationError(
        f"{source}: all {report.rows_read} rows would be rejected and 0 written, so "
        "the deposit would get only a header, which imports nothing and in sync "
        f"mode empties the list; run `digitaleo check {source}` to see why, fix the "
        "export, or pass --allow-empty to deposit it anyway",
        path=str(source),
    )


def _check_not_utf8(source: Path) -> None:
    """Raise InputFileError when a CSV sent as it is reads as UTF-8.

    The deposit reads ISO-8859-1 and moves a file whose non-ASCII bytes
    form valid UTF-8 sequences, or that starts with a UTF-8 BOM, to ko/.
    """
    if source.suffix.lower() == ".zip":
        return
    with source.open("rb") as stream:
        sample = stream.read(UTF8_SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        found = "starts with a UTF-8 byte order mark"
    elif not sample.isascii() and _reads_as_utf8(sample):
        found = "is encoded in UTF-8 (its accented letters are multi-byte sequences)"
    else:
        return
    raise InputFileError(
        f"{source} {found}, and the deposit reads ISO-8859-1, so it would "
        "move the file to ko/; drop --no-convert to let push convert it",
        path=str(source),
    )


def _reads_as_utf8(sample: bytes) -> bool:
    # The sample may end inside a character, so the decode is not marked final.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _has_data_line(source: Path) -> bool:
    """Tell whether `source` has a non-blank line after its header line."""
    with source.open("rb") as lines:
        next(lines, None)
        return any(line.strip() for line in lines)


def _summary(report: ConversionReport) -> dict[str, Any]:
    """Return the report's counts; `digitaleo check` lists the rows themselves."""
    full = report.as_dict()
    kept = ("source", "dialect", "settings_used", "rows_read", "rows_written")
    summary = {key: full[key] for key in kept}
    summary["rows_rejected"] = report.rows_rejected
    summary["rejected_by_reason"] = report.rejected_by_reason()
    summary["invalid_values"] = len(report.invalid_values)
    summary["changes"] = len(report.changes)
    return summary


def _check_deposit_container(source: Path) -> None:
    """Raise InputFileError unless `source` is a CSV or a zip of exactly one CSV.

    The deposit moves any other zip to ko/; gzip, Office and PDF files are
    caught by their first bytes.
    """
    if not zipfile.is_zipfile(source):
        check_not_binary(source)
        return
    with zipfile.ZipFile(source) as archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
    if len(names) == 1 and names[0].lower().endswith(".csv"):
        return
    shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "") or "nothing"
    raise InputFileError(
        f"{source} is a zip (or xlsx) file containing {shown}, but a zipped deposit "
        "must contain exactly one CSV file, so the deposit would move it to ko/; "
        "drop --no-convert to let push convert a CSV export, or zip one CSV file",
        path=str(source),
    )


def _checked_as_is(source: Path) -> Path:
    size = source.stat().st_size
    if size > MAX_PART_BYTES:
        raise InputFileError(
            f"{source} has {size:,} bytes, more than the deposit's limit of "
            f"{MAX_PART_BYTES:,} bytes per file; let push convert it, which splits "
            "it into parts",
            path=str(source),
        )
    return source
