"""`digitaleo reports`: list, pull, stream and summarize the deposit's reports."""

from __future__ import annotations

import csv
import datetime
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import platformdirs
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from digitaleo_client.cli import app
from digitaleo_client.cli.common import (
    CommonOptions,
    command_errors,
    emit,
    folding_table,
    print_json,
    stderr_console,
    stdout_console,
    usage_error,
    with_connection_options,
    with_output_options,
)
from digitaleo_client.config import parse_url
from digitaleo_client.errors import ExitCode
from digitaleo_client.journal import Journal, default_journal_path
from digitaleo_client.reporting import (
    PullResult,
    RemoteReport,
    ReportDay,
    ReportEvent,
    ReportPuller,
    SummaryRow,
    iter_pulled_events,
    summarize,
)
from digitaleo_client.reporting.events import event_columns, report_sources
from digitaleo_client.transport.base import ProgressCallback

REPORTS_EXIT_CODES = (
    "Exit codes: 0 done; 1 unexpected error; 2 usage or configuration error; "
    "5 connection, login or host key failure; 8 a report zip was corrupt or "
    "hostile and was not unpacked (the others were); 9 days of reports left "
    "the deposit's 7-day retention before they were pulled."
)

reports_app = typer.Typer(
    help="List, pull and read the daily report zips of the deposit's reporting/ folder.\n\n"
    + REPORTS_EXIT_CODES,
    no_args_is_help=True,
)
app.add_typer(reports_app, name="reports")


class EventFormat(StrEnum):
    """Output format of `reports events`."""

    CSV = "csv"
    JSONL = "jsonl"


def default_reports_folder() -> Path:
    """Return the default folder reports unpack to, in the user's data folder."""
    return platformdirs.user_data_path("digitaleo") / "reports"


JournalOption = Annotated[
    Path | None,
    typer.Option(
        "--journal",
        envvar="DIGITALEO_JOURNAL",
        help="SQLite journal of what was pulled (default: journal.sqlite3 in the "
        "user's state folder).",
    ),
]
DepositOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="DIGITALEO_URL",
        help="Only reports pulled from this deposit URL; default every deposit pulled.",
    ),
]
SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="Only days on or after this one, YYYY-MM-DD."),
]


def _open_journal(path: Path | None) -> Journal:
    return Journal(path or default_journal_path())


def _deposit_of(url: str | None) -> str | None:
    """Return how the journal names the deposit at `url`, or None for every deposit."""
    return None if url is None else parse_url(url).display


def _checked_day(common: CommonOptions, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        usage_error(common, f"--since {value!r} is not a date; write it as YYYY-MM-DD")


# -- list ----------------------------------------------------------------------


@reports_app.command("list")
@with_connection_options
def list_reports(common: CommonOptions, journal_path: JournalOption = None) -> None:
    """List the days on the server, their zips and sizes, and which were pulled.

    Days about to leave the 7-day retention without a full pull are flagged.
    """
    with command_errors(common):
        settings = common.connection_settings()
        with (
            _open_journal(journal_path) as journal,
            ReportPuller.connect(settings, journal) as puller,
        ):
            days = puller.list_days()

    leaving = [day.day for day in days if day.leaving and not day.fully_pulled]
    document = {
        "ok": True,
        "days": [_day_document(day) for day in days],
        "leaving_unpulled": leaving,
    }
    if common.json:
        print_json(document)
        return
    stdout_console.print(_days_table(days))
    if leaving:
        stderr_console.print(
            f"warning: the reports of {', '.join(leaving)} leave the server with the next day's "
            "reports and were never fully pulled; run `digitaleo reports pull` now",
            markup=False,
        )


def _day_document(day: ReportDay) -> dict[str, Any]:
    return {
        "day": day.day,
        "leaving": day.leaving,
        "reports": [
            {
                "name": report.name.file_name,
                "campaign_id": report.name.campaign_id,
                "campaign_name": report.name.campaign_name,
                "size": report.size,
                "pulled": pulled,
            }
            for report, pulled in zip(day.reports, day.pulled, strict=True)
        ],
    }


def _days_table(days: list[ReportDay]) -> Table:
    # Names come from the server, so cells are Text: a "[" in them is no markup.
    table = folding_table("Day", "Zip", "Size", "Pulled", title="Reports on the deposit")
    for day in days:
        note = " (leaves next)" if day.leaving else ""
        for report, pulled in zip(day.reports, day.pulled, strict=True):
            table.add_row(
                Text(day.day + note),
                Text(report.name.file_name),
                f"{report.size:,}",
                "yes" if pulled else "no",
            )
    return table


# -- pull ------------------------------------------------------------------------


@reports_app.command()
@with_connection_options
def pull(
    common: CommonOptions,
    dest: Annotated[
        Path | None,
        typer.Option(
            "--dest",
            envvar="DIGITALEO_REPORTS_DIR",
            file_okay=False,
            help="Folder to unpack into, as DEST/<day>/<campaignId>_<campaignName>/ "
            "(default: reports in the user's data folder).",
        ),
    ] = None,
    since: SinceOption = None,
    campaign: Annotated[
        str | None,
        typer.Option("--campaign", help="Only the zips of this campaign id."),
    ] = None,
    journal_path: JournalOption = None,
) -> None:
    """Download, check and unpack the report zips that are new since the last pull.

    A rerun with nothing new transfers no bytes. Days that left the server
    before any pull are named in a warning and exit with code 9.
    """
    since = _checked_day(common, since)
    destination = dest or default_reports_folder()
    with command_errors(common):
        settings = common.connection_settings()
        with (
            _open_journal(journal_path) as journal,
            ReportPuller.connect(settings, journal) as puller,
            _download_progress(common) as (on_start, progress),
        ):
            result = puller.pull(
                destination,
                since=since,
                campaign=campaign,
                on_start=on_start,
                progress=progress,
            )

    _report_pull(common, result, destination)
    if result.failed:
        raise typer.Exit(ExitCode.REPORT_REJECTED)
    if result.missing_days:
        raise typer.Exit(ExitCode.REPORTS_LOST)


@contextmanager
def _download_progress(
    common: CommonOptions,
) -> Iterator[tuple[Any, ProgressCallback | None]]:
    """Yield download callbacks that draw a bar on a terminal, or none otherwise."""
    if not common.show_progress:
        yield None, None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, console=stderr_console, transient=True) as bars:
        current: list[Any] = []

        def on_start(report: RemoteReport) -> None:
            current[:] = [bars.add_task(report.name.file_name, total=report.size)]

        def progress(done: int, total: int | None) -> None:
            if current:
                bars.update(current[0], completed=done, total=total)

        yield on_start, progress


def _report_pull(common: CommonOptions, result: PullResult, destination: Path) -> None:
    document = {
        "ok": not result.failed and not result.missing_days,
        "destination": str(destination),
        "pulled": [
            {
                "remote_path": pulled.remote_path,
                "folder": str(pulled.local_folder),
                "size": pulled.size,
            }
            for pulled in result.pulled
        ],
        "unchanged": len(result.unchanged),
        "failed": [
            {"remote_path": report.name.remote_path, "error": error.message}
            for report, error in result.failed
        ],
        "missing_days": result.missing_days,
        "vanished": [report.name.remote_path for report in result.vanished],
        "bytes_received": result.bytes_received,
    }
    text = (
        f"pulled {len(result.pulled)} zips ({result.bytes_received:,} bytes) into {destination}, "
        f"{len(result.unchanged)} unchanged, {len(result.failed)} rejected"
    )
    emit(common, document, text)
    for report, error in result.failed:
        stderr_console.print(
            f"error: {report.name.label}: {error.message}", markup=False
        )


# -- events ------------------------------------------------------------------------


@reports_app.command()
@with_output_options
def events(
    common: CommonOptions,
    since: SinceOption = None,
    output_format: Annotated[
        EventFormat,
        typer.Option(
            "--format",
            help="csv: UTF-8, comma-separated, one header line; jsonl: one JSON object per line.",
        ),
    ] = EventFormat.CSV,
    optouts_only: Annotated[
        bool,
        typer.Option(
            "--optouts-only", help="Only opt-out events: the suppression list to apply."
        ),
    ] = False,
    journal_path: JournalOption = None,
    url: DepositOption = None,
) -> None:
    """Print the pulled events as one stream on stdout.

    Each event carries its day, campaign id and name, media, event and the
    contact's fields. Reads only what `reports pull` unpacked. --json
    prints one JSON array of the events, as --format jsonl shapes them.
    """
    since = _checked_day(common, since)
    with command_errors(common), _open_journal(journal_path) as journal:
        deposit = _deposit_of(url)
        stream = iter_pulled_events(
            journal, since=since, optouts_only=optouts_only, deposit=deposit
        )
        if common.json:
            _write_json_array(stream)
        elif output_format is EventFormat.JSONL:
            _write_jsonl(stream)
        else:
            contact_columns = event_columns(
                report_sources(journal.pulled_reports(since, deposit))
            )
            _write_csv(stream, contact_columns)


_EVENT_COLUMNS = ["day", "campaign_id", "campaign_name", "media", "event"]


@contextmanager
def _utf8_stdout() -> Iterator[TextIO]:
    """Yield stdout as UTF-8 text whatever the locale, as the help promises."""
    sys.stdout.flush()
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:
        yield sys.stdout
        return
    text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
    try:
        yield text
    finally:
        text.flush()
        # Detach so that closing the wrapper later leaves stdout open.
        text.detach()


def _write_csv(stream: Iterator[ReportEvent], contact_columns: list[str]) -> None:
    names = _EVENT_COLUMNS + contact_columns
    with _utf8_stdout() as output:
        writer = csv.writer(output, lineterminator="\n")
        writer.writerow(names)
        for event in stream:
            record = event.as_dict()
            writer.writerow([record.get(name) or "" for name in names])


def _event_record(event: ReportEvent) -> dict[str, Any]:
    record: dict[str, Any] = {name: getattr(event, name) for name in _EVENT_COLUMNS}
    record["contact"] = dict(event.contact)
    return record


def _write_jsonl(stream: Iterator[ReportEvent]) -> None:
    with _utf8_stdout() as output:
        for event in stream:
            output.write(json.dumps(_event_record(event), ensure_ascii=False) + "\n")


def _write_json_array(stream: Iterator[ReportEvent]) -> None:
    """Write the events as one JSON array, one event per line, without holding them."""
    with _utf8_stdout() as output:
        separator = "[\n"
        for event in stream:
            output.write(
                separator + json.dumps(_event_record(event), ensure_ascii=False)
            )
            separator = ",\n"
        output.write("[]\n" if separator == "[\n" else "\n]\n")


# -- summary -------------------------------------------------------------------------

_BAR_WIDTH = 20


@reports_app.command()
@with_output_options
def summary(
    common: CommonOptions,
    since: SinceOption = None,
    journal_path: JournalOption = None,
    url: DepositOption = None,
) -> None:
    """Count each event per media, per day and campaign, with bars to compare them.

    Opt-out rows are drawn in red so a spike of unsubscribes is easy to spot.
    """
    since = _checked_day(common, since)
    with command_errors(common), _open_journal(journal_path) as journal:
        events = iter_pulled_events(journal, since=since, deposit=_deposit_of(url))
        rows = summarize(events)

    if common.json:
        print_json({"ok": True, "rows": [row.as_dict() for row in rows]})
        return
    if not rows:
        stderr_console.print(
            "no events: nothing pulled yet for these days; run `digitaleo reports pull`",
            markup=False,
        )
        return
    stdout_console.print(_summary_table(rows))


def _summary_table(rows: list[SummaryRow]) -> Table:
    table = folding_table(
        "Day", "Campaign", "Media", "Event", "Count", "", title="Report events"
    )
    largest = max((row.count for row in rows), default=0)
    for row in rows:
        campaign = (
            f"{row.campaign_id} {row.campaign_name}"
            if row.campaign_id
            else "(general zip)"
        )
        width = max(1, round(_BAR_WIDTH * row.count / largest)) if largest else 0
        style = "red" if row.event.lower() == "optout" else "green"
        table.add_row(
            row.day,
            Text(campaign),
            Text(row.media),
            Text(row.event),
            f"{row.count:,}",
            Text("█" * width, style=style),
        )
    return table
