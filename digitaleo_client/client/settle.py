"""Settling recorded pushes against the deposit, including those of killed processes.

A push records each part just before renaming its hidden `.NAME.part` into
`in/NAME`, and confirms it after the rename. A process killed (SIGKILL, power
loss, out of memory) while uploading or renaming leaves its push open, with
no part or an unconfirmed one. Such a push is abandoned when it ran on this
host and its process no longer exists. Settling then decides from the
deposit's folders whether the rename happened: the file in in/, or a
processed name in on/, ok/ or ko/ that was not there before the upload,
means it did. An abandoned push that published nothing becomes "failed", so
the same content can be pushed again without --force.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digitaleo_client.client.outcome import PushResult
from digitaleo_client.client.recording import (
    PushRecorder,
    is_confirmed,
    open_uploads,
    resume_recorder,
    upload_from_record,
)
from digitaleo_client.deposit import Stage
from digitaleo_client.errors import DuplicatePush
from digitaleo_client.journal import Journal, PushRecord
from digitaleo_client.push_journal import PUSH_FAILED, PUSH_OK, PUSH_REJECTED

if TYPE_CHECKING:
    from digitaleo_client.client.core import DigitaleoClient

logger = logging.getLogger(__name__)


def process_exists(pid: int) -> bool:
    """Tell whether a process of id `pid` exists on this host.

    Signal 0 checks existence without signalling: ProcessLookupError means
    the process is gone, and PermissionError means it exists under another
    user. Ids 0 and below name process groups, so they count as existing.
    """
    # NOTE: on Windows os.kill(pid, 0) would send CTRL_C_EVENT, so pushes
    # there are never taken for abandoned and keep needing --force.
    if pid <= 0 or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_abandoned(record: PushRecord) -> bool:
    """Tell whether `record` is open and its process, which ran on this host, ended.

    A push recorded without a process id (before the journal stored one),
    on another host, or by a process that still exists is not abandoned.
    """
    return (
        not record.final
        and record.pid is not None
        and record.host == socket.gethostname()
        and not process_exists(record.pid)
    )


def start_recorded_push(
    client: DigitaleoClient,
    recorder: PushRecorder,
    source: Path,
    result: PushResult,
    *,
    force: bool,
) -> None:
    """Record a push, settling first the abandoned pushes of the same content.

    When the journal rejects the push as a duplicate of an abandoned push,
    that push is settled against the deposit and the push is recorded again.
    This repeats once per abandoned push named, so an earlier push that did
    publish its file still rejects the new one, now with its real stage.

    Raises DuplicatePush as `PushRecorder.start` does, when the earlier push
    is running, ran on another host, or published a part.
    """
    settled: set[int] = set()
    while True:
        try:
            recorder.start(source, result, force=force)
            return
        except DuplicatePush as duplicate:
            earlier = _abandoned_push_of(recorder.journal, duplicate)
            if recorder.journal is None or earlier is None or earlier.id in settled:
                raise
            settled.add(earlier.id)
            record = settle_push(client, recorder.journal, earlier)
            logger.info(
                "push %d was left open by process %s, which has ended; settled as %s",
                record.id,
                record.pid,
                record.outcome or f"open in stage {record.stage}",
            )


def _abandoned_push_of(
    journal: Journal | None, duplicate: DuplicatePush
) -> PushRecord | None:
    push_id = duplicate.details.get("push_id")
    if journal is None or not isinstance(push_id, int):
        return None
    record = journal.push(push_id)
    return record if record is not None and is_abandoned(record) else None


def settle_push(
    client: DigitaleoClient, journal: Journal, record: PushRecord
) -> PushRecord:
    """Bring `record` up to date with the deposit once; return the updated record.

    Each part recorded before its rename is confirmed when the deposit shows
    it was renamed. When the push is abandoned, a part that was not renamed
    is removed from the record, and a push left with no published part
    becomes "failed". Then the stage of each open part is looked up, and the
    push is closed once every part is final.
    """
    # NOTE: an abandoned push that published some of its parts but not all
    # stays open, so its content is rejected until pushed with --force.
    abandoned = is_abandoned(record)
    for item in record.uploads:
        if not is_confirmed(item):
            _settle_part(client, journal, record, item, abandoned=abandoned)

    record = _current(journal, record.id)
    published = [item for item in record.uploads if is_confirmed(item)]
    if abandoned and not published:
        _fail_abandoned(journal, record)
        return _current(journal, record.id)

    recorder = resume_recorder(journal, record)
    for upload in open_uploads(record):
        outcome = client.locate(upload)
        if outcome is not None:
            recorder.outcome_seen(outcome)
    return close_if_final(journal, record.id)


def _settle_part(
    client: DigitaleoClient,
    journal: Journal,
    record: PushRecord,
    item: dict[str, Any],
    *,
    abandoned: bool,
) -> None:
    """Confirm one part recorded before its rename, or forget it if never renamed.

    The record's earlier names keep an older file of the same name from
    counting as this part. While the pushing process may still rename the
    part, a part not found is left as it is.
    """
    upload = upload_from_record(item)
    outcome = client.locate(upload)
    if outcome is not None:
        recorder = resume_recorder(journal, record)
        recorder.published(upload)
        recorder.outcome_seen(outcome)
        logger.info(
            "part %d of push %d was renamed before its process ended; now in %s",
            upload.part,
            record.id,
            outcome.remote_path,
        )
        return
    if abandoned:
        # The hidden file stays: a later push of the same name reuses and
        # replaces it, and it may be that push's upload in progress now.
        journal.forget_upload(record.id, upload.part)
        logger.info(
            "part %d of push %d was not renamed before process %s ended; "
            "%s is not in the deposit",
            upload.part,
            record.id,
            record.pid,
            upload.remote_path,
        )


def _fail_abandoned(journal: Journal, record: PushRecord) -> None:
    text = (
        f"process {record.pid} on {record.host} ended before publishing "
        f"{record.remote_name}, so the deposit received no file of this push"
    )
    if record.error:
        text = f"{text} (last error: {record.error})"
    journal.update_push(record.id, outcome=PUSH_FAILED, error=text)
    logger.info("push %d failed: %s", record.id, text)


def close_if_final(journal: Journal, push_id: int) -> PushRecord:
    """Set the outcome of push `push_id` once its parts are final; return the record.

    A part in ko/ makes the push "ko". Every part in ok/ makes it "ok" and
    clears the error recorded when the push stopped before ok/.
    Parts not yet confirmed as published count as not final.
    """
    record = _current(journal, push_id)
    stages = [Stage(item["stage"]) for item in record.uploads if is_confirmed(item)]
    outcome = None
    if Stage.KO in stages:
        outcome = PUSH_REJECTED
    elif len(stages) == record.parts and all(stage is Stage.OK for stage in stages):
        outcome = PUSH_OK
    if outcome is not None and record.outcome != outcome:
        # An error that stopped the push before ok/ (a lost connection,
        # Ctrl-C) no longer describes it once every part is in ok/.
        cleared = outcome == PUSH_OK and record.error is not None
        journal.update_push(push_id, outcome=outcome, clear_error=cleared)
        logger.info("push %d ended in %s/", push_id, outcome)
        if cleared:
            logger.info("push %d: cleared its earlier error: %s", push_id, record.error)
        record = journal.push(push_id) or record
    return record


def _current(journal: Journal, push_id: int) -> PushRecord:
    record = journal.push(push_id)
    if record is None:
        raise KeyError(push_id)
    return record


# -- pushes stopped before their last part -------------------------------------------


def missing_parts(record: PushRecord) -> list[int]:
    """Return the numbers of the parts of `record` that the journal has no entry for.

    Each part is recorded just before its rename, so a part missing here was
    never published. One recorded but not confirmed may have been.
    """
    recorded = {int(item.get("part", 1)) for item in record.uploads}
    return [part for part in range(1, record.parts + 1) if part not in recorded]


def has_stopped(record: PushRecord) -> bool:
    """Tell whether the process of `record` recorded an error or has ended."""
    return record.error is not None or is_abandoned(record)


def incomplete_text(record: PushRecord) -> str:
    """Describe a push whose missing parts (see `missing_parts`) will never come.

    Names the parts never uploaded, what the list contains instead, and how
    to finish: push the file again with --force.
    """
    missing = missing_parts(record)
    published = [item for item in range(1, record.parts + 1) if item not in missing]
    verb = "was" if len(missing) == 1 else "were"
    if record.list_name is not None:
        holding = f"the list {record.list_name} contains only the contacts of "
    else:
        folder = f"contacts/{record.action}{record.media or ''}"
        holding = f"{folder} received only the contacts of "
    return (
        f"{parts_text(missing, record.parts)} {verb} never uploaded, so {holding}"
        f"{parts_text(published, record.parts)}; push {record.source} again with "
        "--force to send the whole file (in sync or create mode its first part "
        "applies that mode again and the other parts are added to its list)"
    )


def resume_hint(journal: Journal | None, push_id: int) -> str:
    """Tell how to finish push `push_id`, which stopped after publishing a part.

    `wait` follows the parts already published; a push with parts never
    uploaded must be pushed again instead.
    """
    record = journal.push(push_id) if journal is not None else None
    if record is None or not missing_parts(record):
        return (
            f"the file was uploaded as push {push_id}; resume with "
            f"`digitaleo wait {push_id}`"
        )
    published = sorted({int(item.get("part", 1)) for item in record.uploads})
    return (
        f"push {push_id} stopped with {parts_text(published, record.parts)} "
        f"uploaded: {incomplete_text(record)}"
    )


def parts_text(parts: list[int], total: int) -> str:
    """Return part numbers for people: "part 2 of 3", "parts 2 and 3 of 3"."""
    if not parts:
        return f"no part of {total}"
    if len(parts) == 1:
        return f"part {parts[0]} of {total}"
    numbers = ", ".join(str(part) for part in parts[:-1])
    return f"parts {numbers} and {parts[-1]} of {total}"
