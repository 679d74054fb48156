"""Fixtures of the resilience tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from digitaleo_client.journal import Journal


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """Open the journal at the path `digitaleo` commands get from DIGITALEO_JOURNAL."""
    with Journal(tmp_path / "journal.sqlite3") as opened:
        yield opened
