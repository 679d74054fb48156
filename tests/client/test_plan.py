"""Modes and waits of each part when a file is split into several parts."""

from __future__ import annotations

import pytest

from digitaleo_client.client.plan import plan_parts
from digitaleo_client.deposit import ImportMode

CREATE, ADD, SYNC = ImportMode.CREATE, ImportMode.ADD, ImportMode.SYNC


@pytest.mark.parametrize(
    ("mode", "parts", "wait", "modes", "waits", "restore"),
    [
        (SYNC, 1, True, [None], [True], None),
        (SYNC, 1, False, [None], [False], None),
        (SYNC, 3, True, [SYNC, ADD, ADD], [True, True, True], SYNC),
        (SYNC, 2, False, [SYNC, ADD], [True, True], SYNC),
        (CREATE, 2, True, [CREATE, ADD], [True, True], CREATE),
        (ADD, 3, False, [None, None, None], [True, True, False], None),
        (None, 2, False, [None, None], [True, False], None),
    ],
    ids=[
        "one-part",
        "one-part-no-wait",
        "sync-three-parts",
        "sync-no-wait-still-waits",
        "create-two-parts",
        "add-no-switch",
        "optout-two-parts",
    ],
)
def test_plan_parts(
    mode: ImportMode | None,
    parts: int,
    wait: bool,
    modes: list[ImportMode | None],
    waits: list[bool],
    restore: ImportMode | None,
) -> None:
    plan = plan_parts(mode, parts, wait)

    assert [plan.mode_of(part) for part in range(1, parts + 1)] == modes
    assert [plan.waits_for(part) for part in range(1, parts + 1)] == waits
    assert plan.restore_mode is restore


def test_plan_sync_notes() -> None:
    plan = plan_parts(SYNC, 3, wait=False)

    assert plan.notes == [
        "the file was split into 3 parts, sent one after another under one name",
        (
            "part 1 synchronises the list in sync mode; parts 2 to 3 are added to "
            "it in add mode, then sync mode is restored"
        ),
        "every part was waited for, because the mode is restored after the last",
    ]
