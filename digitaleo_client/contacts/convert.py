"""Turning a CRM export into deposit parts, and predicting what the deposit rejects.

`build_deposit` reads an export (any encoding and separator that `reader`
recognises), maps its columns, repairs spreadsheet damage, makes values fit
ISO-8859-1, judges each contact with the deposit's own rules, and writes the
kept rows as deposit parts. `check_file` does the same work without writing.
Both stream. Memory grows with the number of problems reported, and with
the rows written by about 20 bytes each (about 90 after the last row), to
find the rows that the deposit merges.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from digitaleo_client import deposit
from digitaleo_client.contacts import columns
from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.contacts.encoding import codec_name
from digitaleo_client.contacts.headers import plan_columns
from digitaleo_client.contacts.latin1 import Unencodable
from digitaleo_client.contacts.reader import ExportReader
from digitaleo_client.contacts.report import Change, ConversionReport, Problem
from digitaleo_client.contacts.rows import RowConverter
from digitaleo_client.contacts.writer import PartWriter, ZipMode
from digitaleo_client.errors import (
    ConfigurationError,
    InputFileError,
    InvalidRemoteName,
)

logger = logging.getLogger(__name__)

__all__ = [
    "Change",
    "ConversionReport",
    "ConvertOptions",
    "Problem",
    "build_deposit",
    "check_file",
]

_Choice = TypeVar("_Choice", Unencodable, ZipMode)

# Characters that quote values or end records, so never separate fields.
_NOT_SEPARATORS = frozenset('"\r\n')

# Rows converted together: enough for the validator's batch screen to pay
# off, few enough to keep memory flat.
BATCH_ROWS = 1000

# Calls the progress callback about once per this many rows.
PROGRESS_EVERY_ROWS = 5000

# Receives (rows read so far, bytes of the export read so far).
ProgressCallback = Callable[[int, int], None]


@dataclass
class ConvertOptions:
    """How to read an export and write its deposit parts.

    None for `encoding` or `delimiter` means detect it. `mapping` maps export
    column names to deposit column names. `dispatch`, when set, is written as
    the `dispatch` column of every row. `base_name` (None: the export's file
    name without extension) names the parts.
    """

    encoding: str | None = None
    delimiter: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    drop_unmapped: bool = False
    unencodable: str = Unencodable.TRANSLITERATE.value
    dispatch: str | None = None
    zip: str = ZipMode.AUTO.value
    blank_invalid: bool = False
    max_part_bytes: int = deposit.MAX_PART_BYTES
    base_name: str | None = None

    def policy(self) -> Unencodable:
        """Return the --unencodable policy; raises ConfigurationError if unknown."""
        return _choice("--unencodable", self.unencodable, Unencodable)

    def zip_mode(self) -> ZipMode:
        """Return the --zip mode; raises ConfigurationError if unknown."""
        return _choice("--zip", self.zip, ZipMode)

    def check_reading(self) -> None:
        """Raise ConfigurationError for an unknown `encoding` or an unusable `delimiter`."""
        if self.encoding is not None:
            codec_name(self.encoding)
        if self.delimiter is None:
            return
        if len(self.delimiter) != 1 or self.delimiter in _NOT_SEPARATORS:
            raise ConfigurationError(
                f"--delimiter {self.delimiter!r} is invalid: the separator must be "
                "one character other than a quote or a line break, such as ';' or "
                "',', or 'tab'",
                key="delimiter",
            )


def _choice(option: str, value: str, kind: type[_Choice]) -> _Choice:
    try:
        return kind(value)
    except ValueError as error:
        allowed = ", ".join(member.value for member in kind)
        raise ConfigurationError(
            f"{option} {value!r} is invalid; use one of {allowed}"
        ) from error


def build_deposit(
    source: Path,
    out_dir: Path,
    account: AccountSettings,
    options: ConvertOptions | None = None,
    progress: ProgressCallback | None = None,
    settings_origin: str = "defaults",
) -> ConversionReport:
    """Convert the export `source` into deposit parts written in `out_dir`.

    Rejected contacts stay out of the parts and go to the report. The parts
    are `NAME.csv` (or `.zip`), then `NAME.part2.csv` and so on, in the
    order they must be deposited, and they all feed the list NAME.
    `options` None means the defaults. `progress` (None: no calls) receives
    the rows and bytes read every few thousand rows. `settings_origin` names
    where `account` came from, for the report.

    Raises InputFileError when the export cannot be read (encoding, header,
    quotes) and ConfigurationError for invalid options.
    """
    options = options or ConvertOptions()
    options.check_reading()
    if options.base_name is not None:
        _check_base_name(options.base_name)
    base_name = _base_name(source, options)
    if out_dir.resolve() == source.resolve().parent and source.name.startswith(
        f"{base_name}."
    ):
        raise ConfigurationError(
            f"writing the parts of {source} to {out_dir} would overwrite it; "
            "choose another output folder or part name"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    return _run(source, account, options, progress, settings_origin, out_dir)


def check_file(
    source: Path,
    account: AccountSettings,
    options: ConvertOptions | None = None,
    progress: ProgressCallback | None = None,
    settings_origin: str = "defaults",
) -> ConversionReport:
    """Predict what the deposit does with `source`, writing no parts.

    Takes the same arguments as build_deposit, without `out_dir`, and does
    the same work; the report lists the same rejections and changes.
    """
    return _run(
        source, account, options or ConvertOptions(), progress, settings_origin, None
    )


def _run(
    source: Path,
    account: AccountSettings,
    options: ConvertOptions,
    progress: ProgressCallback | None,
    settings_origin: str,
    out_dir: Path | None,
) -> ConversionReport:
    policy = options.policy()
    zip_mode = options.zip_mode()
    options.check_reading()
    report = ConversionReport(
        source=str(source), settings_used=f"{settings_origin}: {account.describe()}"
    )
    with ExportReader(source, options.encoding, options.delimiter) as reader:
        report.dialect = reader.dialect.describe()
        report.encoding = reader.dialect.encoding
        converter = _converter(reader, account, options, policy, report)
        report.columns = converter.columns
        writer = None
        if out_dir is not None:
            writer = PartWriter(
                out_dir,
                _base_name(source, options),
                converter.columns,
                account.separator,
                options.max_part_bytes,
                zip_mode,
            )
        try:
            _stream_rows(reader, converter, writer, report, progress)
            if writer is not None:
                report.parts = writer.close()
        except BaseException:
            # Parts of a file that failed half way must not be deposited.
            if writer is not None:
                writer.discard()
            raise
    logger.info(
        "%s: %s rows read, %s written, %s rejected",
        source,
        report.rows_read,
        report.rows_written,
        report.rows_rejected,
    )
    if report.duplicate_rows:
        logger.warning(
            "%s: %s rows have the deduplication key of an earlier row; the "
            "deposit merges each into the earlier row's contact, and the "
            "later row's values replace the earlier one's",
            source,
            report.duplicate_rows,
        )
    return report


def _converter(
    reader: ExportReader,
    account: AccountSettings,
    options: ConvertOptions,
    policy: Unencodable,
    report: ConversionReport,
) -> RowConverter:
    path = str(reader.path)
    plan = plan_columns(
        reader.header, account, options.mapping, options.drop_unmapped, path
    )
    report.dropped_columns = plan.dropped
    present = set(plan.deposit_columns)
    if options.dispatch is not None and columns.DISPATCH in present:
        raise ConfigurationError(
            f"{path} already has a dispatch column; leave out --dispatch "
            "or drop that column with --map"
        )
    has_dispatch = options.dispatch is not None or columns.DISPATCH in present
    if account.multi_account and not has_dispatch:
        raise InputFileError(
            f"{path}: row 1: the account dispatches to several accounts, so each row "
            "needs a dispatch reference; add a dispatch column or give --dispatch REF",
            path=path,
            row=1,
        )
    if account.requires_reference and columns.REFERENCE not in present:
        raise InputFileError(
            f"{path}: row 1: the account deduplicates on Référence, and no column "
            "maps to it; map the customer reference column with --map",
            path=path,
            row=1,
        )
    return RowConverter(
        plan, account, report, policy, options.dispatch, options.blank_invalid
    )


def _check_base_name(name: str) -> None:
    """Refuse a part name that would leave the output folder or be hidden."""
    try:
        deposit.check_remote_name(name)
        deposit.remote_file_name(name)
    except InvalidRemoteName as error:
        raise InvalidRemoteName(
            name, error.reason, "choose another name with --name"
        ) from error


def _base_name(source: Path, options: ConvertOptions) -> str:
    name = options.base_name or source.name
    return deposit.list_name_of(name)


def _stream_rows(
    reader: ExportReader,
    converter: RowConverter,
    writer: PartWriter | None,
    report: ConversionReport,
    progress: ProgressCallback | None,
) -> None:
    read = written = 0
    for batch in reader.batches(BATCH_ROWS):
        kept = converter.convert_batch(batch)
        written += len(kept)
        if writer is not None:
            writer.write_rows(kept)
        previous, read = read, read + len(batch)
        if (
            progress is not None
            and read // PROGRESS_EVERY_ROWS > previous // PROGRESS_EVERY_ROWS
        ):
            progress(read, reader.bytes_read)
    converter.finish()
    report.rows_read = read
    report.rows_written = written
    if progress is not None:
        progress(read, reader.bytes_read)
