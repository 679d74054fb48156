"""Following pushes of the journal after the process that made them ended.

`refresh_push` looks up once the stage of each open part of a recorded push;
`resume_push` waits until each reaches ok/ or ko/. Both settle a push left
open by a killed process first, update the journal, and close the push once
every part is final.
"""

from __future__ import annotations

import logging
from pathlib import Path

from digitaleo_client.client.core import DEFAULT_WAIT_TIMEOUT, DigitaleoClient
from digitaleo_client.client.outcome import Outcome
from digitaleo_client.client.recording import (
    is_confirmed,
    open_uploads,
    resume_recorder,
)
from digitaleo_client.client.settle import (
    close_if_final,
    has_stopped,
    incomplete_text,
    missing_parts,
    parts_text,
    settle_push,
)
from digitaleo_client.client.waiting import StageCallback
from digitaleo_client.errors import ConfigurationError, IncompletePush
from digitaleo_client.journal import Journal, PushRecord

logger = logging.getLogger(__name__)

__all__ = ["check_same_deposit", "close_if_final", "refresh_push", "resume_push"]


def check_same_deposit(client: DigitaleoClient, record: PushRecord) -> None:
    """Raise ConfigurationError when `record` was pushed to another deposit."""
    if record.deposit != client.display_url:
        raise ConfigurationError(
            f"push {record.id} went to {record.deposit}, not to {client.display_url}; "
            f"give --url {record.deposit} (or the profile of that deposit)",
            key="url",
        )


def refresh_push(
    client: DigitaleoClient, journal: Journal, record: PushRecord
) -> PushRecord:
    """Look up the stage of each open part of `record` once; return the updated record.

    A push left open by a process that ended is settled first: a part
    recorded before its rename is confirmed or forgotten, and a push that
    published nothing becomes "failed" (see `settle_push`).
    """
    check_same_deposit(client, record)
    return settle_push(client, journal, record)


def resume_push(
    client: DigitaleoClient,
    journal: Journal,
    record: PushRecord,
    *,
    timeout: float = DEFAULT_WAIT_TIMEOUT,
    on_stage: StageCallback | None = None,
) -> list[Outcome]:
    """Wait until each open part of `record` reaches ok/ or ko/; return those outcomes.

    The push is settled first, as `refresh_push` does. Raises
    ConfigurationError when the push went to another deposit or has no
    published part to wait for, and WaitTimeout as `DigitaleoClient.wait`.
    Raises IncompletePush, once the published parts are final and none is
    in ko/, when some parts were never uploaded.
    """
    check_same_deposit(client, record)
    record = settle_push(client, journal, record)
    if not any(is_confirmed(item) for item in record.uploads):
        raise ConfigurationError(
            f"push {record.id} of {record.source} published no file "
            f"({record.outcome or 'stage ' + record.stage}); push it again, with "
            "--force if it is rejected as a duplicate",
        )
    recorder = resume_recorder(journal, record)
    outcomes = []
    for upload in open_uploads(record):
        outcome = client.wait(
            upload, timeout=timeout, on_stage=recorder.watching(on_stage)
        )
        recorder.outcome_seen(outcome)
        outcomes.append(outcome)
    record = close_if_final(journal, record.id)
    if record.outcome is None and missing_parts(record):
        raise _incomplete(record)
    return outcomes


def _incomplete(record: PushRecord) -> IncompletePush:
    """Return the error for `record`, whose published parts are final but too few."""
    missing = missing_parts(record)
    head = f"push {record.id} of {Path(record.source).name} is incomplete: "
    if has_stopped(record):
        text = incomplete_text(record)
    else:
        # The pushing process may be between two parts; only it can send the rest.
        verb = "is" if len(missing) == 1 else "are"
        text = (
            f"{parts_text(missing, record.parts)} {verb} not uploaded yet and "
            f"process {record.pid} on {record.host} may still be pushing; run "
            f"`digitaleo wait {record.id}` again once it ends"
        )
    return IncompletePush(head + text, push_id=record.id, missing_parts=missing)
