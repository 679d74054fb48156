"""`digitaleo push FILE`: convert a contact file, upload it, wait for ok/ or ko/."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Annotated, Self

import typer
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from digitaleo_client.cli import app
from digitaleo_client.cli.check import (
    ReadingOptions,
    load_account,
    require_input_file,
    with_reading_options,
)
from digitaleo_client.cli.common import (
    CommonOptions,
    command_errors,
    emit,
    stderr_console,
    with_connection_options,
)
from digitaleo_client.cli.status import (
    JournalPathOption,
    open_journal,
)
from digitaleo_client.client import (
    DEFAULT_WAIT_TIMEOUT,
    DigitaleoClient,
    PushResult,
    StageChange,
    check_push_arguments,
)
from digitaleo_client.deposit import (
    Action,
    ImportMode,
    Media,
    Stage,
)
from digitaleo_client.errors import (
    ExitCode,
)

# The --media option of push and wait.
MediaOption = Annotated[
    Media | None,
    typer.Option(
        "--media",
        case_sensitive=False,
        help="Media of an optout or optin: EMAIL, SMS, VOICE or VOICEMAIL.",
    ),
]


class PushDisplay:
    """Live progress on a terminal: bytes sent, then the stage of each part.

    Without a terminal (cron, CI) or with --no-progress it draws nothing; the
    client's INFO log lines on stderr tell the same story.
    """

    def __init__(self, enabled: bool) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=stderr_console,
                transient=True,
            )

    def __enter__(self) -> Self:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("converting", total=None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def bytes_sent(self, sent: int, total: int | None) -> None:
        self._describe(f"uploading: {sent / 1_000_000:.1f} MB sent")

    def stage_changed(self, change: StageChange) -> None:
        upload = change.upload
        part = f"part {upload.part}/{upload.parts} " if upload.parts > 1 else ""
        waiting = "" if change.stage.is_final else ", waiting"
        self._describe(f"{part}{upload.remote_name}: in {change.stage.value}/{waiting}")

    def _describe(self, text: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=text)


def _user_path(value: str) -> Path:
    return Path(value).expanduser()


def summary_text(result: PushResult) -> str:
    """Return the result as a few lines for people."""
    lines = []
    if result.mode_change is not None:
        lines.append(result.mode_change.describe())
    elif result.mode is not None:
        lines.append(f"import mode is {result.mode.value} ({result.mode.description})")
    if result.conversion is not None:
        lines.append(_conversion_line(result.conversion))
    for outcome in result.outcomes:
        part = f"part {outcome.part}/{outcome.parts} " if outcome.parts > 1 else ""
        lines.append(
            f"{part}{outcome.remote_name}: {outcome.stage.value} ({outcome.remote_path})"
        )
    if result.list_name is not None and result.outcomes:
        lines.append(f"list: {result.list_name}")
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


def _conversion_line(report: dict[str, object]) -> str:
    rejected = report.get("rows_rejected", report.get("rejected_rows", "?"))
    return (
        f"converted: {report.get('rows_read', '?')} rows read, "
        f"{report.get('rows_written', '?')} written, {rejected} rejected"
    )


@app.command()
@with_connection_options
@with_reading_options
def push(
    file: Annotated[
        Path,
        typer.Argument(help="Contact file (CSV export) to push."),
    ],
    common: CommonOptions,
    reading: ReadingOptions,
    mode: Annotated[
        ImportMode | None,
        typer.Option(
            "--mode",
            case_sensitive=False,
            help="Import mode to set before the upload: create, add or sync "
            "(default: keep the account's current mode).",
        ),
    ] = None,
    list_name: Annotated[
        str | None,
        typer.Option(
            "--list",
            help="Name of the list to feed; the file is uploaded as NAME.csv "
            "(default: the file's name).",
        ),
    ] = None,
    action: Annotated[
        Action,
        typer.Option(
            "--action", case_sensitive=False, help="What the file does to contacts."
        ),
    ] = Action.IMPORT,
    media: MediaOption = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="Wait until the deposit moves the file to ok/ or ko/.",
        ),
    ] = True,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            envvar="DIGITALEO_TIMEOUT",
            min=0.0,
            help="Seconds to wait for ok/ or ko/ (per part).",
        ),
    ] = DEFAULT_WAIT_TIMEOUT,
    convert: Annotated[
        bool,
        typer.Option(
            "--convert/--no-convert",
            help="Convert the export to the deposit format (ISO-8859-1, ';', French "
            "headers, parts of at most 20,000,000 bytes); --no-convert sends a file "
            "already in that format as it is.",
        ),
    ] = True,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Push even when the journal shows the same content already pushed "
            "to the same action and list (which in create mode makes a second list).",
        ),
    ] = False,
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Deposit a file with a header and no contact rows, or whose rows "
            "would all be rejected; in sync mode this empties the list. Without it "
            "such a file is refused.",
        ),
    ] = False,
    journal_path: JournalPathOption = None,
) -> None:
    """Push a contact file to the deposit and (by default) wait for its outcome.

    Each push is recorded in the journal; see `digitaleo status`.
    """
    with command_errors(common):
        account_path = common.profile_setting("account", reading.account, _user_path)
        account, _origin = load_account(account_path)
        require_input_file(file)
        check_push_arguments(account, action, media, mode, list_name)
        options = reading.convert_options()
        timeout = common.profile_setting("timeout", timeout, float)
        settings = common.connection_settings()
        with (
            open_journal(journal_path) as journal,
            DigitaleoClient(settings, account, journal=journal) as client,
            PushDisplay(common.show_progress) as display,
        ):
            result = client.push(
                file,
                action=action,
                media=media,
                mode=mode,
                list_name=list_name,
                wait=wait,
                timeout=timeout,
                convert=convert,
                options=options,
                max_invalid_share=reading.max_invalid / 100,
                on_stage=display.stage_changed,
                on_progress=display.bytes_sent,
                force=force,
                allow_empty=allow_empty,
            )
    emit(common, result.as_dict(), summary_text(result))
    if result.rejected:
        rejected = next(item for item in result.outcomes if item.stage is Stage.KO)
        stderr_console.print(
            f"error: the deposit rejected {rejected.remote_name} "
            f"({rejected.remote_path}) as a whole: its separator, header or a row's "
            "field count is unreadable, or the action is not allowed for the account; "
            f"run `digitaleo check {file}` with the account's settings (--account) "
            "to test the file",
            markup=False,
        )
        raise typer.Exit(ExitCode.REJECTED)
