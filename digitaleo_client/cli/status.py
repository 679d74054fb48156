"""`digitaleo status`: the pushes of the journal, with the open ones looked up again."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from digitaleo_client.cli import app
from digitaleo_client.cli.common import (
    CommonOptions,
    command_errors,
    emit,
    folding_table,
    print_json,
    stdout_console,
    with_connection_options,
)
from digitaleo_client.client import DigitaleoClient
from digitaleo_client.client.outcome import timestamp_text
from digitaleo_client.client.resume import refresh_push, resume_push
from digitaleo_client.client.retrying import RetryPolicies
from digitaleo_client.client.settle import is_abandoned, missing_parts, parts_text
from digitaleo_client.client.waiting import StageCallback
from digitaleo_client.errors import (
    ConfigurationError,
    DepositConnectionError,
    ExitCode,
    TransferError,
)
from digitaleo_client.journal import Journal, PushRecord, default_journal_path
from digitaleo_client.push_journal import PUSH_OK, PUSH_REJECTED

logger = logging.getLogger(__name__)

JournalPathOption = Annotated[
    Path | None,
    typer.Option(
        "--journal",
        envvar="DIGITALEO_JOURNAL",
        help="SQLite journal of pushes and pulled reports (default: "
        "journal.sqlite3 in the user's state folder).",
    ),
]


# A refresh is optional, so a deposit that is down should not hold up the
# journal's records for the connect policy's backoff.
_CONNECT_ONCE = RetryPolicies(connect=replace(RetryPolicies().connect, max_attempts=1))


def open_journal(path: Path | None) -> Journal:
    """Open the journal at `path`, or at the default path when None."""
    return Journal(path or default_journal_path())


@app.command()
@with_connection_options
def status(
    common: CommonOptions,
    journal_path: JournalPathOption = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Show the newest N pushes.")
    ] = 20,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh/--no-refresh",
            help="Look up on the deposit where the pushes not yet in ok/ or ko/ "
            "stand now (only pushes to the deposit of --url). The deposit gets one "
            "connection attempt; if it fails, the journal's records are shown as "
            "last recorded, with a warning.",
        ),
    ] = True,
) -> None:
    """List recent pushes and their outcomes, refreshing those not yet final."""
    with command_errors(common), open_journal(journal_path) as journal:
        records = journal.pushes(limit)
        if refresh:
            records = _refreshed(common, journal, records)
    if common.json:
        print_json({"pushes": [_document(record) for record in records]})
    else:
        stdout_console.print(_table(records))


def _refreshed(
    common: CommonOptions, journal: Journal, records: list[PushRecord]
) -> list[PushRecord]:
    """Return `records`, with the open ones of the configured deposit looked up.

    An open push without a recorded part is looked up only when its process
    has ended, because a running push has nothing on the deposit yet.
    """
    waiting = [
        record
        for record in records
        if not record.final and (record.uploads or is_abandoned(record))
    ]
    if not waiting:
        return records
    try:
        settings = common.connection_settings()
    except ConfigurationError as error:
        logger.warning("open pushes not refreshed: %s", error)
        return records
    updated: dict[int, PushRecord] = {}
    try:
        with DigitaleoClient(settings, retry_policies=_CONNECT_ONCE) as client:
            for record in waiting:
                if record.deposit != client.display_url:
                    logger.info(
                        "push %d went to %s, not refreshed", record.id, record.deposit
                    )
                    continue
                updated[record.id] = refresh_push(client, journal, record)
    except (DepositConnectionError, TransferError) as error:
        # The journal is local, so its records are still worth showing.
        logger.warning(
            "the stages of open pushes could not be refreshed, so they are shown "
            "as last recorded: %s",
            error,
        )
    return [updated.get(record.id, record) for record in records]


def recorded_push_id(name: str, journal_path: Path | None) -> int | None:
    """Return `name` as a push id when it is a number the journal has a push for."""
    if not name.isdigit():
        return None
    with open_journal(journal_path) as journal:
        return int(name) if journal.push(int(name)) is not None else None


def wait_for_recorded_push(
    common: CommonOptions,
    client: DigitaleoClient,
    push_id: int,
    journal_path: Path | None,
    timeout: float,
    on_stage: StageCallback | None,
) -> None:
    """Wait for the open parts of a journal push, print it, and exit 3 for ko/."""
    with open_journal(journal_path) as journal:
        record = journal.push(push_id)
        assert record is not None
        resume_push(client, journal, record, timeout=timeout, on_stage=on_stage)
        record = journal.push(push_id) or record
    state = record.outcome or record.stage
    lines = [f"push {record.id} of {Path(record.source).name}: {state}"]
    lines += [
        f"{item['remote_name']}: {item['stage']} ({item['remote_path']})"
        for item in record.uploads
    ]
    emit(
        common,
        {"ok": record.outcome == PUSH_OK, "push": record.as_dict()},
        "\n".join(lines),
    )
    if record.outcome == PUSH_REJECTED:
        raise typer.Exit(ExitCode.REJECTED)


def _document(record: PushRecord) -> dict[str, object]:
    """Return `record` as JSON-ready values, with the parts never recorded."""
    return {**record.as_dict(), "missing_parts": missing_parts(record)}


def _table(records: list[PushRecord]) -> Table | str:
    if not records:
        return "no pushes in the journal"
    table = folding_table("id", "pushed at", "file", "to", "stage", "outcome")
    for record in records:
        folder = f"{record.action}{record.media or ''}"
        table.add_row(
            str(record.id),
            timestamp_text(record.created_at) or "",
            Path(record.source).name,
            f"{folder}/{record.remote_name}",
            record.stage,
            _outcome_text(record),
        )
    return table


def _outcome_text(record: PushRecord) -> str:
    missing = missing_parts(record)
    if record.outcome is not None:
        return record.outcome
    if record.error is not None and missing:
        verb = "was" if len(missing) == 1 else "were"
        return (
            f"incomplete: {parts_text(missing, record.parts)} {verb} never "
            f"uploaded ({record.error})"
        )
    return "error: " + record.error if record.error else "open"
