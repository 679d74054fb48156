"""`digitaleo check`: predict what the deposit does with a contact export.

The options that set how an export is read, and the account settings, are
declared here once, and `convert` and `push` take the same ones.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from digitaleo_client.cli import app
from digitaleo_client.cli.common import (
    CommonOptions,
    command_errors,
    emit,
    stderr_console,
    with_output_options,
)
from digitaleo_client.contacts.account import AccountSettings, load_account_settings
from digitaleo_client.contacts.convert import (
    ConvertOptions,
    ProgressCallback,
    check_file,
)
from digitaleo_client.contacts.headers import load_mapping_file, parse_mapping_items
from digitaleo_client.contacts.report import ConversionReport, write_rejects
from digitaleo_client.errors import ConfigurationError, ExitCode
from digitaleo_client.profiles import default_config_path, load_profile

logger = logging.getLogger(__name__)

INPUT_PANEL = "Reading the export"

# push and check reject a file when more than this percentage of its rows
# would be rejected, unless --max-invalid sets another limit.
DEFAULT_MAX_INVALID_PERCENT = 5.0

# The human summary shows this many merged rows; --json lists more.
_SHOWN_DUPLICATES = 10

# Without a terminal, progress is logged once per this many rows.
_LOG_EVERY_ROWS = 100_000

AccountOption = Annotated[
    Path | None,
    typer.Option(
        "--account",
        envvar="DIGITALEO_ACCOUNT",
        help="TOML file of the account's settings (its account and dispatch tables: "
        "separator, dedup, country, invalid_values, custom_fields); default: the "
        "profile's `account`, else the deposit's defaults.",
        rich_help_panel=INPUT_PANEL,
    ),
]
EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Encoding of the export, such as utf-8, cp1252 or latin-1; default: detected.",
        rich_help_panel=INPUT_PANEL,
    ),
]
DelimiterOption = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        help="Separator of the export: one character, or 'tab'; default: detected "
        "among ; , tab |.",
        rich_help_panel=INPUT_PANEL,
    ),
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="Map an export column to a deposit column, as 'crm_col=Prénom'; repeatable.",
        rich_help_panel=INPUT_PANEL,
    ),
]
MapFileOption = Annotated[
    Path | None,
    typer.Option(
        "--map-file",
        help="UTF-8 file of 'export column=deposit column' lines, # for comments.",
        rich_help_panel=INPUT_PANEL,
    ),
]
DropUnmappedOption = Annotated[
    bool,
    typer.Option(
        "--drop-unmapped",
        help="Leave out export columns that match no deposit column, instead of failing.",
        rich_help_panel=INPUT_PANEL,
    ),
]
UnencodableOption = Annotated[
    str,
    typer.Option(
        "--unencodable",
        help="Characters outside ISO-8859-1: 'transliterate' (œ to oe, € to EUR, curly "
        "quotes to straight ones; other scripts reject the row), 'ascii' (also "
        "romanise other scripts) or 'strict' (reject every such value).",
        rich_help_panel=INPUT_PANEL,
    ),
]
DispatchOption = Annotated[
    str | None,
    typer.Option(
        "--dispatch",
        help="Reference of the target account, written as the dispatch column of "
        "every row (multi-account deposits).",
        rich_help_panel=INPUT_PANEL,
    ),
]
BlankInvalidOption = Annotated[
    bool,
    typer.Option(
        "--blank-invalid",
        help="Empty invalid e-mails and phone numbers, so a contact still goes in "
        "on its valid ones even when the account rejects contacts with invalid values.",
        rich_help_panel=INPUT_PANEL,
    ),
]
MaxInvalidOption = Annotated[
    float,
    typer.Option(
        "--max-invalid",
        min=0.0,
        max=100.0,
        help="Largest percentage of rows the deposit may reject; above it the "
        f"command fails with exit code 6 (default {DEFAULT_MAX_INVALID_PERCENT:g}).",
        show_default=False,
        rich_help_panel=INPUT_PANEL,
    ),
]
RejectsOption = Annotated[
    Path | None,
    typer.Option(
        "--rejects",
        help="Write the rejected rows (row, column, value, reason) to this CSV file, "
        "in the export's encoding.",
        rich_help_panel=INPUT_PANEL,
    ),
]


def load_account(path: Path | None) -> tuple[AccountSettings, str]:
    """Return the account settings and a label saying where they came from.

    `path` None means the `account` file of the default profile, if any, else
    the deposit's default settings. Raises ConfigurationError for a missing or
    invalid file.
    """
    if path is not None:
        return load_account_settings(path.expanduser()), f"--account {path}"
    config = default_config_path()
    profile_account = load_profile(None, config).get("account")
    if profile_account:
        profile_path = Path(profile_account).expanduser()
        return load_account_settings(profile_path), f"profile {config}: {profile_path}"
    return AccountSettings(), "default settings"


def require_input_file(path: Path) -> None:
    """Refuse a missing input file as a usage error, before any work.

    Raises ConfigurationError (exit code 2) when `path` is not a file.
    """
    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "not found"
        raise ConfigurationError(
            f"{path}: {what}; check the path of the contact file", path=str(path)
        )


@dataclass(frozen=True)
class ReadingOptions:
    """Command-line options that set how an export is read and judged."""

    account: Path | None = None
    encoding: str | None = None
    delimiter: str | None = None
    map: list[str] | None = None
    map_file: Path | None = None
    drop_unmapped: bool = False
    unencodable: str = "transliterate"
    dispatch: str | None = None
    blank_invalid: bool = False
    max_invalid: float = DEFAULT_MAX_INVALID_PERCENT

    def convert_options(self, **extra: Any) -> ConvertOptions:
        """Build ConvertOptions; `extra` sets the writing ones (zip, base_name).

        The mapping file's entries come first, so --map overrides them.
        Raises ConfigurationError for an invalid mapping, mapping file,
        --encoding, --delimiter or --unencodable value.
        """
        items: dict[str, str] = {}
        if self.map_file is not None:
            items.update(load_mapping_file(self.map_file))
        items.update(parse_mapping_items(self.map or []))
        delimiter = self.delimiter
        if delimiter is not None and delimiter.lower() == "tab":
            delimiter = "\t"
        options = ConvertOptions(
            encoding=self.encoding,
            delimiter=delimiter,
            mapping=items,
            drop_unmapped=self.drop_unmapped,
            unencodable=self.unencodable,
            dispatch=self.dispatch,
            blank_invalid=self.blank_invalid,
            **extra,
        )
        options.check_reading()
        options.policy()
        return options


_READING_PARAMETERS: dict[str, Any] = {
    "account": AccountOption,
    "encoding": EncodingOption,
    "delimiter": DelimiterOption,
    "map": MapOption,
    "map_file": MapFileOption,
    "drop_unmapped": DropUnmappedOption,
    "unencodable": UnencodableOption,
    "dispatch": DispatchOption,
    "blank_invalid": BlankInvalidOption,
    "max_invalid": MaxInvalidOption,
}

Command = TypeVar("Command", bound=Callable[..., Any])


def with_reading_options(function: Command) -> Command:
    """Give a command the export reading options, as a `reading` parameter.

    Apply it below `with_output_options`, as in `check`.
    """
    signature = inspect.signature(function, eval_str=True)
    own = [
        parameter
        for name, parameter in signature.parameters.items()
        if name != "reading"
    ]
    added = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=annotation,
            default=getattr(ReadingOptions, name),
        )
        for name, annotation in _READING_PARAMETERS.items()
    ]

    @functools.wraps(function)
    def command(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _READING_PARAMETERS}
        return function(*args, reading=ReadingOptions(**values), **kwargs)

    command.__signature__ = signature.replace(parameters=own + added)  # type: ignore[attr-defined]
    return command  # type: ignore[return-value]


@contextmanager
def row_progress(common: CommonOptions, source: Path) -> Iterator[ProgressCallback]:
    """Yield a progress callback: a rich bar with rows/s on a terminal, else log lines."""
    total = source.stat().st_size if source.is_file() else None
    started = time.monotonic()
    if not common.show_progress:
        yield _logging_progress(source, started)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[rows]:,} rows, {task.fields[rate]:,.0f} rows/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr_console, transient=True) as progress:
        task = progress.add_task(source.name, total=total, rows=0, rate=0.0)

        def update(rows: int, position: int) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            progress.update(task, completed=position, rows=rows, rate=rows / elapsed)

        yield update


def _logging_progress(source: Path, started: float) -> ProgressCallback:
    logged = [0]

    def update(rows: int, position: int) -> None:
        if rows - logged[0] < _LOG_EVERY_ROWS:
            return
        logged[0] = rows
        rate = rows / max(time.monotonic() - started, 1e-6)
        logger.info("%s: %s rows read (%.0f rows/s)", source, rows, rate)

    return update


def summary_text(report: ConversionReport, max_invalid: float | None = None) -> str:
    """Return the human summary of a check or conversion."""
    lines = [
        f"{report.source}: {report.dialect}",
        f"account settings: {report.settings_used}",
        f"columns: {', '.join(report.columns)}",
    ]
    if report.dropped_columns:
        lines.append(f"dropped columns: {', '.join(report.dropped_columns)}")
    lines += [
        f"rows read: {report.rows_read}",
        f"valid (written): {report.rows_written}",
        f"rejected: {report.rows_rejected} ({report.invalid_share:.1%})",
    ]
    lines += [
        f"  {count} {reason}" for reason, count in report.rejected_by_reason().items()
    ]
    lines.append(f"invalid values: {len(report.invalid_values)}")
    by_column = Counter(problem.column for problem in report.invalid_values)
    lines += [f"  {count} in {column}" for column, count in by_column.most_common()]
    lines.append(f"values changed: {len(report.changes)}")
    by_why = Counter(change.why for change in report.changes)
    lines += [f"  {count} {why}" for why, count in by_why.most_common()]
    lines += _duplicate_lines(report)
    for path in report.parts:
        lines.append(f"part: {path}")
    if max_invalid is not None and _over_limit(report, max_invalid):
        lines.append(
            f"more than {max_invalid:g}% of rows would be rejected; see them with "
            "--rejects FILE, or raise --max-invalid"
        )
    return "\n".join(lines)


def _duplicate_lines(report: ConversionReport) -> list[str]:
    shown = report.duplicates[:_SHOWN_DUPLICATES]
    lines = [f"rows merged by the deposit: {report.duplicate_rows}"]
    lines += [f"  {duplicate.message}" for duplicate in shown]
    hidden = report.duplicate_rows - len(shown)
    if hidden:
        lines.append(
            f"  and {hidden} more; --json lists the first {len(report.duplicates)}"
        )
    if report.duplicates_compared_until is not None:
        lines.append(
            f"  rows after row {report.duplicates_compared_until:,} were not compared, "
            "to bound memory; split the export to check them all"
        )
    return lines


def _over_limit(report: ConversionReport, max_invalid: float) -> bool:
    return report.invalid_share * 100 > max_invalid


def finish(
    common: CommonOptions,
    report: ConversionReport,
    rejects: Path | None,
    max_invalid: float,
) -> None:
    """Write the rejects file, print the report, exit 6 above --max-invalid."""
    if rejects is not None:
        write_rejects(report, rejects, report.encoding)
    document = {
        "ok": not _over_limit(report, max_invalid),
        "max_invalid_percent": max_invalid,
        **report.as_dict(),
    }
    emit(common, document, summary_text(report, max_invalid))
    if report.rows_read == 0:
        stderr_console.print(
            f"warning: {report.source} has no contact rows, only a header; pushing "
            "it would import nothing (in sync mode, it would empty the list)",
            markup=False,
        )
    elif report.rows_written == 0:
        stderr_console.print(
            f"warning: all {report.rows_read} rows of {report.source} would be "
            "rejected; pushing it would import nothing (in sync mode, it would "
            "empty the list)",
            markup=False,
        )
    if _over_limit(report, max_invalid):
        raise typer.Exit(ExitCode.INVALID_INPUT)


@app.command()
@with_output_options
@with_reading_options
def check(
    common: CommonOptions,
    reading: ReadingOptions,
    file: Annotated[Path, typer.Argument(help="CRM export to check (CSV).")],
    rejects: RejectsOption = None,
) -> None:
    """Predict which contacts of FILE the deposit will reject, and why, without uploading.

    Prints rows read, valid, rejected by reason and values changed. Exit code
    6 when the file cannot be read or more than --max-invalid percent of its
    rows would be rejected; 2 for invalid options.
    """
    with command_errors(common):
        require_input_file(file)
        settings, origin = load_account(reading.account)
        options = reading.convert_options()
        with row_progress(common, file) as progress:
            report = check_file(file, settings, options, progress, origin)
        finish(common, report, rejects, reading.max_invalid)


__all__ = [
    "DEFAULT_MAX_INVALID_PERCENT",
    "ReadingOptions",
    "finish",
    "load_account",
    "require_input_file",
    "row_progress",
    "summary_text",
    "with_reading_options",
]
