"""Soak: hundreds of small pushes in a row, each under a fault drawn at random.

The draw is seeded, so a failure replays the same sequence. After every
push the same invariants hold as in the single-fault tests: the push ends
in ok/, the deposit holds exactly one more list with the file's contacts,
it processed only whole, visibly named files, and the journal agrees.
"""

from __future__ import annotations

import random
from pathlib import Path

from digitaleo_client.client import DigitaleoClient
from digitaleo_client.client.retrying import RetryPolicies
from digitaleo_client.journal import Journal
from fake_server.server import FakeServer
from tests.resilience.support import (
    FAST_POLLS,
    check_processed_files,
    deposit_csv,
    leftover_temporary_files,
    list_sizes,
    settings_for,
    write_export,
)

PUSHES = 300
SEED = 20261204
CONTACTS_PER_FILE = 3
# Each entry is armed before one push; None pushes without a fault.
FAULTS = [
    None,
    None,
    "drop-upload-after=40",
    "drop-upload-after=0",
    "refuse-rename",
    "drop-after-rename",
    "stall-listing=1",
]

# Retries without pauses: the faults fire once, so the next attempt succeeds.
NO_PAUSES = RetryPolicies().with_timing(sleep=lambda seconds: None)


def test_soak_random_faults(tmp_path: Path) -> None:
    draw = random.Random(SEED)
    expected_files: dict[str, bytes] = {}
    expected_lists: list[tuple[str, int]] = []
    source_folder = tmp_path / "crm"

    with (
        FakeServer(tmp_path / "deposit") as server,
        Journal(tmp_path / "journal.sqlite3") as journal,
        DigitaleoClient(
            settings_for(server, operation_timeout=0.3),
            poll_policy=FAST_POLLS,
            retry_policies=NO_PAUSES,
            journal=journal,
        ) as client,
    ):
        for number in range(PUSHES):
            fault = draw.choice(FAULTS)
            if fault is not None:
                server.faults.arm(fault)
            name = f"soak-{number}.csv"
            content = deposit_csv(number * CONTACTS_PER_FILE, CONTACTS_PER_FILE)
            source = write_export(source_folder, name, content)

            result = client.push(source, convert=False, timeout=30)

            expected_files[name] = content
            expected_lists.append((f"soak-{number}", CONTACTS_PER_FILE))
            context = f"push {number} under {fault}"
            assert result.ok, context
            assert list_sizes(server) == expected_lists, context
            check_processed_files(server, expected_files)
            assert leftover_temporary_files(server) == [], context
            record = journal.push(result.push_id or 0)
            assert record is not None, context
            assert (record.stage, record.outcome) == ("ok", "ok"), context
            assert [item["stage"] for item in record.uploads] == ["ok"], context

    assert len(journal_rows(tmp_path)) == PUSHES


def journal_rows(tmp_path: Path) -> list[int]:
    with Journal(tmp_path / "journal.sqlite3") as journal:
        return [record.id for record in journal.pushes()]
