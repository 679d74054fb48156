"""`digitaleo push FILE`: convert a contact file, upload it, wait for ok/ or ko/."""

from __future__ import annotations

import math
import posixpath
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
    recorded_push_id,
    wait_for_recorded_push,
)
from digitaleo_client.client import (
    DEFAULT_WAIT_TIMEOUT,
    DigitaleoClient,
    PushResult,
    StageChange,
    Upload,
    check_push_arguments,
)
from digitaleo_client.client.arguments import action_folder
from digitaleo_client.deposit import (
    Action,
    ImportMode,
    Media,
    Stage,
    check_remote_name,
    parse_processed_name,
    remote_file_name,
)
from digitaleo_client.errors import (
    ConfigurationError,
    ExitCode,
    InvalidRemoteName,
    RemoteNotFound,
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


@app.command("wait")
@with_connection_options
def wait_command(
    name: Annotated[
        str,
        typer.Argument(
            help="Push id from `digitaleo status`, to resume waiting after a crash; "
            "or the name of the deposited file (NAME.csv or NAME.zip), or of the "
            "list it feeds."
        ),
    ],
    common: CommonOptions,
    action: Annotated[
        Action,
        typer.Option(
            "--action", case_sensitive=False, help="Action folder of the file."
        ),
    ] = Action.IMPORT,
    media: MediaOption = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            envvar="DIGITALEO_TIMEOUT",
            min=0.0,
            help="Seconds to wait for ok/ or ko/.",
        ),
    ] = DEFAULT_WAIT_TIMEOUT,
    journal_path: JournalPathOption = None,
) -> None:
    """Wait for a push, or the newest file of that name, to reach ok/ or ko/.

    A number that is a push id in the journal resumes that push, parts and
    earlier files of the same name included; anything else is a file name,
    as after push --no-wait. A name without extension or ending in .csv
    also finds NAME.zip, the name of a zipped push.
    """
    with command_errors(common):
        timeout = common.profile_setting("timeout", timeout, float)
        settings = common.connection_settings()
        push_id = recorded_push_id(name, journal_path)
        if push_id is None and name.isdigit():
            raise ConfigurationError(
                f"no push {name} in the journal; run `digitaleo status` to list the "
                f"pushes, or give the file's name ({name}.csv) to wait for a file "
                "named so"
            )
        with (
            DigitaleoClient(settings) as client,
            PushDisplay(common.show_progress) as display,
        ):
            if push_id is not None:
                wait_for_recorded_push(
                    common,
                    client,
                    push_id,
                    journal_path,
                    timeout,
                    display.stage_changed,
                )
                return
            upload = _find_named_upload(client, name, action, media)
            outcome = client.wait(
                upload, timeout=timeout, on_stage=display.stage_changed
            )
    emit(
        common,
        {"ok": outcome.ok, **outcome.as_dict()},
        f"{outcome.remote_name}: {outcome.stage.value} ({outcome.remote_path})",
    )
    if outcome.stage is Stage.KO:
        raise typer.Exit(ExitCode.REJECTED)


def _find_named_upload(
    client: DigitaleoClient, name: str, action: Action, media: Media | None
) -> Upload:
    """Return the Upload of the newest deposited file that `name` names.

    Raises ConfigurationError when `name` cannot be a deposited file's name
    or no stage folder has a file of that name.
    """
    names = _deposited_names(name)
    found = []
    for candidate in names:
        try:
            found.append(client.find_upload(candidate, action=action, media=media))
        except RemoteNotFound:
            continue
    if not found:
        folder = action_folder(action, media).path
        raise ConfigurationError(
            f"no file named {' or '.join(names)} in the in/, on/, ok/ or ko/ "
            f"folders of {folder}/; check the name and --action, or give the push "
            "id that `digitaleo status` lists",
            key="name",
        )
    return max(found, key=lambda upload: _recency(client, upload))


def _deposited_names(name: str) -> list[str]:
    """Return the file names `name` may stand for: push sends large exports as zips."""
    stem = name[:-4] if name.lower().endswith(".csv") else name
    try:
        if name.lower().endswith(".zip"):
            return [check_remote_name(name)]
        return [remote_file_name(name), check_remote_name(f"{stem}.zip")]
    except InvalidRemoteName as error:
        raise ConfigurationError(
            f"invalid file name {name!r}: {error.reason}; give the name of the "
            "deposited file without folders (NAME.csv or NAME.zip), or the push id "
            "that `digitaleo status` lists",
            key="name",
        ) from error


def _recency(client: DigitaleoClient, upload: Upload) -> tuple[float, bool]:
    """Order a found file by its deposit time, then by not being in ok/ or ko/.

    A file still in in/, or moving between folders, has no deposit time yet
    and ranks as the newest. The deposit's times are in seconds, so two files of the
    same second rank by stage.
    """
    outcome = client.locate(upload)
    if outcome is None or outcome.stage is Stage.IN:
        return (math.inf, True)
    parsed = parse_processed_name(posixpath.basename(outcome.remote_path))
    return (parsed[0] if parsed is not None else 0.0, not outcome.stage.is_final)
