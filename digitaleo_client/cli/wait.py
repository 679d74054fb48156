"""`digitaleo wait ID|NAME`: follow a push or a deposited file to ok/ or ko/."""

from __future__ import annotations

import math
import posixpath
from typing import Annotated

import typer

from digitaleo_client.cli import app
from digitaleo_client.cli.common import (
    CommonOptions,
    command_errors,
    emit,
    with_connection_options,
)
from digitaleo_client.cli.push import MediaOption, PushDisplay
from digitaleo_client.cli.status import (
    JournalPathOption,
    recorded_push_id,
    wait_for_recorded_push,
)
from digitaleo_client.client import DEFAULT_WAIT_TIMEOUT, DigitaleoClient, Upload
from digitaleo_client.client.arguments import action_folder
from digitaleo_client.deposit import (
    Action,
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

    A number that is a push id in the journal resumes that push, including
    its parts and the earlier files of the same name. Anything else is a
    file name, as after push --no-wait. A name without extension or ending
    in .csv also finds NAME.zip, the name of a zipped push.
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
