"""Following pushes of the journal after the process that made them ended.

`refresh_push` looks up once the stage of each open part of a recorded push;
`resume_push` waits until each reaches ok/ or ko/. Both update the journal
and close the push once every part is final.
"""

from __future__ import annotations

import logging

from digitaleo_client.client.core import DEFAULT_WAIT_TIMEOUT, DigitaleoClient
from digitaleo_client.client.outcome import Outcome
from digitaleo_client.client.recording import open_uploads, resume_recorder
from digitaleo_client.client.waiting import StageCallback
from digitaleo_client.deposit import Stage
from digitaleo_client.errors import ConfigurationError
from digitaleo_client.journal import Journal, PushRecord
from digitaleo_client.push_journal import PUSH_OK, PUSH_REJECTED

logger = logging.getLogger(__name__)


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

    NOTE: a push that failed while its rename was in flight has no part
    recorded, so it stays open here; push again with --force after checking
    the deposit's in/, ok/ and ko/ folders.
    """
    check_same_deposit(client, record)
    recorder = resume_recorder(journal, record)
    for upload in open_uploads(record):
        outcome = client.locate(upload)
        if outcome is not None:
            recorder.outcome_seen(outcome)
    return close_if_final(journal, record.id)


def resume_push(
    client: DigitaleoClient,
    journal: Journal,
    record: PushRecord,
    *,
    timeout: float = DEFAULT_WAIT_TIMEOUT,
    on_stage: StageCallback | None = None,
) -> list[Outcome]:
    """Wait until each open part of `record` reaches ok/ or ko/; return those outcomes.

    Raises ConfigurationError when the push went to another deposit or has
    no published part to wait for, and WaitTimeout as `DigitaleoClient.wait`.
    """
    check_same_deposit(client, record)
    uploads = open_uploads(record)
    if not record.uploads:
        raise ConfigurationError(
            f"push {record.id} of {record.source} published no file "
            f"(stage {record.stage}); push it again, with --force if it is rejected "
            "as a duplicate",
        )
    recorder = resume_recorder(journal, record)
    outcomes = []
    for upload in uploads:
        outcome = client.wait(
            upload, timeout=timeout, on_stage=recorder.watching(on_stage)
        )
        recorder.outcome_seen(outcome)
        outcomes.append(outcome)
    close_if_final(journal, record.id)
    return outcomes


def close_if_final(journal: Journal, push_id: int) -> PushRecord:
    """Set the outcome of push `push_id` once its parts are final; return the record.

    A part in ko/ makes the push "ko". Every part in ok/ makes it "ok".
    """
    record = journal.push(push_id)
    if record is None:
        raise KeyError(push_id)
    stages = [Stage(item["stage"]) for item in record.uploads]
    outcome = None
    if Stage.KO in stages:
        outcome = PUSH_REJECTED
    elif len(stages) == record.parts and all(stage is Stage.OK for stage in stages):
        outcome = PUSH_OK
    if outcome is not None and record.outcome != outcome:
        journal.update_push(push_id, outcome=outcome)
        logger.info("push %d ended in %s/", push_id, outcome)
        record = journal.push(push_id) or record
    return record
