"""DigitaleoClient: set the import mode, push files, wait for their outcome."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from digitaleo_client.client.arguments import check_push_arguments
from digitaleo_client.client.media_column import check_media_column
from digitaleo_client.client.mode import write_mode
from digitaleo_client.client.outcome import Outcome, PushResult, Upload
from digitaleo_client.client.plan import PartPlan, plan_parts
from digitaleo_client.client.prepare import prepare_deposit
from digitaleo_client.client.recording import PushRecorder
from digitaleo_client.client.session import DEFAULT_WAIT_TIMEOUT, DepositSession
from digitaleo_client.client.settle import resume_hint, start_recorded_push
from digitaleo_client.client.waiting import StageCallback
from digitaleo_client.contacts.convert import ConvertOptions
from digitaleo_client.deposit import (
    Action,
    ActionFolder,
    ImportMode,
    Media,
    Stage,
    remote_file_name,
)
from digitaleo_client.errors import DigitaleoError
from digitaleo_client.transport import ProgressCallback

__all__ = ["DEFAULT_WAIT_TIMEOUT", "DigitaleoClient"]

logger = logging.getLogger(__name__)


class DigitaleoClient(DepositSession):
    """A connection to one deposit, for one account, that pushes contact files.

    Build it as `DepositSession`, whose constructor arguments it takes, and
    use it as a context manager.
    """

    def push(
        self,
        path: Path | str,
        *,
        action: Action = Action.IMPORT,
        media: Media | None = None,
        mode: ImportMode | None = None,
        list_name: str | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        convert: bool = True,
        options: ConvertOptions | None = None,
        max_invalid_share: float | None = None,
        on_stage: StageCallback | None = None,
        on_progress: ProgressCallback | None = None,
        force: bool = False,
        allow_empty: bool = False,
    ) -> PushResult:
        """Convert a contact file, upload its parts and (by default) wait for each outcome.

        `media` is required for opt-out and opt-in and refused otherwise.
        `mode` None keeps the account's current import mode; a mode is set
        before the upload when given. `list_name` None names the list after
        the file. With `wait` false the last part is left in in/ (earlier
        parts are always waited for, since they share the remote name).
        `convert` false sends the file as it is. `on_stage` receives each
        stage change and `on_progress` the bytes sent of each part.

        Several parts keep the meaning of the mode: sync and create apply to
        the first part and the others are added to its list in add mode,
        after which the mode is restored. A part that ends in ko/ stops the
        push, and the result lists the parts sent.

        With a journal, the push is recorded before its upload and at each
        stage. `force` pushes content that the journal says was already
        pushed to the same deposit, action and remote name. A file with no
        contact row, or whose rows would all be rejected, is refused unless
        `allow_empty`, because in sync mode it empties the list.

        Returns the PushResult; check `result.ok`, or `result.rejected` for
        ko/. Raises ConfigurationError for bad arguments, ValidationError
        or InputFileError for an unusable file, WaitTimeout when a part
        reaches no final stage in time, DuplicatePush for content already
        pushed (unless `force`), and connection or transfer errors.
        """
        source = Path(path)
        folder = check_push_arguments(self.account, action, media, mode, list_name)

        with tempfile.TemporaryDirectory(prefix="digitaleo-push-") as work_dir:
            prepared = prepare_deposit(
                source,
                Path(work_dir),
                self.account,
                convert=convert,
                options=options,
                max_invalid_share=max_invalid_share,
                allow_empty=allow_empty,
            )
            check_media_column(
                source, prepared.parts[0], action, media, self.account.separator
            )
            remote_name = remote_file_name(
                source.stem if list_name is None else list_name,
                prepared.parts[0].suffix or ".csv",
            )
            result = PushResult(
                action,
                media,
                remote_name,
                conversion=prepared.report,
                parts=len(prepared.parts),
            )
            recorder = PushRecorder(self.journal, self.display_url)
            start_recorded_push(self, recorder, source, result, force=force)
            try:
                if action is Action.IMPORT:
                    result.mode_change = (
                        self.set_mode(mode) if mode is not None else None
                    )
                    result.mode = mode if mode is not None else self.get_mode()
                    recorder.mode_known(result)
                plan = plan_parts(result.mode, len(prepared.parts), wait)
                result.notes += plan.notes
                self._push_parts(
                    prepared.parts,
                    folder,
                    remote_name,
                    plan,
                    result,
                    timeout,
                    recorder,
                    on_stage,
                    on_progress,
                )
            except BaseException as error:
                open_id = recorder.failed(error, maybe_published=self._renaming)
                if open_id is not None:
                    hint = resume_hint(self.journal, open_id)
                    if isinstance(error, DigitaleoError):
                        _mention_open_push(error, open_id, hint)
                    else:
                        logger.warning("%s", hint)
                raise
            recorder.finished(result)
        return result

    def _push_parts(
        self,
        parts: list[Path],
        folder: ActionFolder,
        remote_name: str,
        plan: PartPlan,
        result: PushResult,
        timeout: float,
        recorder: PushRecorder,
        on_stage: StageCallback | None,
        on_progress: ProgressCallback | None,
    ) -> None:
        watch = recorder.watching(on_stage)
        try:
            for index, part in enumerate(parts, start=1):
                part_mode = plan.mode_of(index)
                if part_mode is not None and part_mode is not self.get_mode():
                    self.set_mode(part_mode)
                upload = self.upload(
                    part,
                    folder,
                    remote_name,
                    index,
                    len(parts),
                    on_progress,
                    before_rename=recorder.renaming,
                )
                recorder.published(upload)
                if plan.waits_for(index):
                    outcome = self.wait(upload, timeout=timeout, on_stage=watch)
                else:
                    outcome = self.locate(upload) or _in_stage(upload)
                recorder.outcome_seen(outcome)
                result.outcomes.append(outcome)
                if outcome.stage is Stage.KO:
                    _note_stopped(result, index, len(parts))
                    break
        except BaseException as error:
            if plan.restore_mode is not None:
                self._restore_mode_after(error, plan.restore_mode)
            raise
        if plan.restore_mode is not None:
            self.set_mode(plan.restore_mode)

    def _restore_mode_after(self, error: BaseException, mode: ImportMode) -> None:
        """Set `mode` back once after a push failed, warning when that fails too.

        An interruption (Ctrl-C, SIGTERM) may stop in the middle of a request,
        so the connection is opened again first. No retry runs here: the
        push already failed, and a user who interrupted wants it to stop.
        """
        if not isinstance(error, Exception):
            self._drop_connection()
        try:
            if self._transport is None:
                self._transport = self._open_connection(self.settings)
            write_mode(self._transport, mode)
        except DigitaleoError as failure:
            logger.warning(
                "could not set the import mode back to %s after the failed push (%s); "
                "run `digitaleo mode set %s` before the next push",
                mode.value,
                failure,
                mode.value,
            )


def _mention_open_push(error: DigitaleoError, push_id: int, hint: str) -> None:
    """Add to `error` how to finish a push that published a part before it."""
    error.details["push_id"] = push_id
    error.message = f"{error.message}; {hint}"


def _in_stage(upload: Upload) -> Outcome:
    return Outcome(
        action=upload.action,
        media=upload.media,
        remote_name=upload.remote_name,
        stage=Stage.IN,
        remote_path=upload.remote_path,
        uploaded_at=upload.uploaded_at,
        part=upload.part,
        parts=upload.parts,
    )


def _note_stopped(result: PushResult, index: int, parts: int) -> None:
    if index < parts:
        result.notes.append(
            f"part {index} of {parts} ended in ko/, so parts {index + 1} to {parts} "
            "were not sent"
        )
