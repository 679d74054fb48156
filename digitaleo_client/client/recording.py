"""Keeping the journal's record of a push up to date, stage by stage.

A push is recorded before its upload starts (which is when a duplicate is
rejected), each part just before its rename ("confirmed": false, with its
hidden temporary path) and again once published, each stage change seen
while waiting, and its outcome. `wait ID` rebuilds the uploads from the
record to resume waiting after a crash.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from digitaleo_client.client.outcome import Outcome, PushResult, StageChange, Upload
from digitaleo_client.client.waiting import StageCallback
from digitaleo_client.deposit import Action, Media, Stage
from digitaleo_client.journal import Journal, NewPush, PushRecord
from digitaleo_client.push_journal import PUSH_FAILED, PUSH_OK, PUSH_REJECTED

logger = logging.getLogger(__name__)

_HASH_CHUNK_BYTES = 1 << 20


def content_hash(path: Path) -> str:
    """Return the SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def upload_record(
    upload: Upload, stage: Stage, remote_path: str, *, confirmed: bool = True
) -> dict[str, Any]:
    """Return what the journal keeps of one part.

    `confirmed` false marks a part recorded before its rename, which may or
    may not have happened.
    """
    return {
        "part": upload.part,
        "parts": upload.parts,
        "action": upload.action.value,
        "media": upload.media.value if upload.media else None,
        "remote_name": upload.remote_name,
        "uploaded_at": upload.uploaded_at,
        "size": upload.size,
        "earlier_names": sorted(upload.earlier_names),
        "stage": stage.value,
        "remote_path": remote_path,
        "confirmed": confirmed,
    }


def is_confirmed(record: dict[str, Any]) -> bool:
    """Tell whether a part's journal record marks its rename into in/ as done.

    Records written before the journal kept unconfirmed parts have no
    "confirmed" key and were all written after the rename.
    """
    return bool(record.get("confirmed", True))


def upload_from_record(record: dict[str, Any]) -> Upload:
    """Rebuild the Upload of a part from its journal record."""
    media = record.get("media")
    return Upload(
        action=Action(record["action"]),
        media=Media(media) if media else None,
        remote_name=str(record["remote_name"]),
        uploaded_at=record.get("uploaded_at"),
        size=record.get("size"),
        earlier_names=frozenset(record.get("earlier_names", [])),
        part=int(record.get("part", 1)),
        parts=int(record.get("parts", 1)),
    )


class PushRecorder:
    """Writes one push to the journal; with `journal` None it does nothing."""

    def __init__(self, journal: Journal | None, deposit: str) -> None:
        self.journal = journal
        self.deposit = deposit
        self.push_id: int | None = None
        self._uploads: dict[int, Upload] = {}

    def start(self, source: Path, result: PushResult, *, force: bool) -> None:
        """Record the push before its upload.

        Raises DuplicatePush, unless `force`, when the journal contains a push
        of the same content to the same deposit, action and remote name.
        """
        if self.journal is None:
            return
        push = NewPush(
            deposit=self.deposit,
            content_sha256=content_hash(source),
            source=str(source.absolute()),
            action=result.action.value,
            media=result.media.value if result.media else None,
            remote_name=result.remote_name,
            parts=result.parts,
        )
        self.push_id = self.journal.begin_push(push, force=force)
        result.push_id = self.push_id

    def mode_known(self, result: PushResult) -> None:
        """Record the import mode the push uses."""
        if self.journal is not None and self.push_id is not None and result.mode:
            self.journal.update_push(self.push_id, mode=result.mode.value)

    def renaming(self, upload: Upload, temporary_path: str) -> None:
        """Record a part whose bytes are in `temporary_path`, just before its rename.

        A process killed during the rename leaves this record, so that a
        later look at the deposit can tell whether the part was published.
        """
        if self.journal is None or self.push_id is None:
            return
        record = upload_record(upload, Stage.IN, upload.remote_path, confirmed=False)
        record["temporary_path"] = temporary_path
        self.journal.record_upload(self.push_id, record)

    def published(self, upload: Upload) -> None:
        """Record a part just renamed into in/."""
        self._uploads[upload.part] = upload
        self.stage_seen(StageChange(upload, Stage.IN, upload.remote_path))

    def stage_seen(self, change: StageChange) -> None:
        """Record the stage a part was seen in."""
        if self.journal is None or self.push_id is None:
            return
        record = upload_record(change.upload, change.stage, change.remote_path)
        self.journal.record_upload(self.push_id, record)
        self.journal.update_push(self.push_id, stage=change.stage.value)

    def watching(self, on_stage: StageCallback | None) -> StageCallback:
        """Return a stage callback that records each change, then calls `on_stage`."""

        def record_then_report(change: StageChange) -> None:
            self.stage_seen(change)
            if on_stage is not None:
                on_stage(change)

        return record_then_report

    def outcome_seen(self, outcome: Outcome) -> None:
        """Record a part's outcome, from push or from a resumed wait."""
        upload = self._uploads.get(outcome.part)
        if upload is not None:
            self.stage_seen(StageChange(upload, outcome.stage, outcome.remote_path))

    def finished(self, result: PushResult) -> None:
        """Record how the push ended; a part left in in/ keeps it open."""
        if self.journal is None or self.push_id is None:
            return
        outcome = None
        if result.rejected:
            outcome = PUSH_REJECTED
        elif result.ok:
            outcome = PUSH_OK
        self.journal.update_push(self.push_id, outcome=outcome)

    def failed(
        self, error: BaseException, *, maybe_published: bool = False
    ) -> int | None:
        """Record an error that ended the push; return its id if it stays open.

        A push that surely published nothing is final ("failed"). A push
        with a published part, or one that failed while a rename was in
        flight, has its outcome still to come. It stays open for `status` and
        `wait`, and a second push of the same content is rejected.

        Returns None without a journal or when the push is final.
        """
        if self.journal is None or self.push_id is None:
            return None
        still_open = bool(self._uploads) or maybe_published
        outcome = None if still_open else PUSH_FAILED
        self.journal.update_push(self.push_id, outcome=outcome, error=error_text(error))
        logger.debug("journal: push %d ended with an error", self.push_id)
        return self.push_id if still_open else None


def error_text(error: BaseException) -> str:
    """Return what the journal records of the error that ended a push.

    Ctrl-C raises a KeyboardInterrupt without a message.
    """
    if type(error) is KeyboardInterrupt and not str(error):
        return "interrupted (Ctrl-C)"
    return str(error) or type(error).__name__


def resume_recorder(journal: Journal, record: PushRecord) -> PushRecorder:
    """Return a recorder that continues the journal's record of an earlier push."""
    recorder = PushRecorder(journal, record.deposit)
    recorder.push_id = record.id
    for item in record.uploads:
        if is_confirmed(item):
            upload = upload_from_record(item)
            recorder._uploads[upload.part] = upload
    return recorder


def open_uploads(record: PushRecord) -> list[Upload]:
    """Return the published parts of `record` not yet seen in ok/ or ko/."""
    return [
        upload_from_record(item)
        for item in record.uploads
        if is_confirmed(item) and not Stage(item.get("stage", Stage.IN.value)).is_final
    ]
