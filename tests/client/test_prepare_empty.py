"""prepare_deposit on files that would deposit no contact."""

from __future__ import annotations

from pathlib import Path

import pytest

from digitaleo_client.client.prepare import prepare_deposit
from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.errors import ValidationError

# Each row has a different number of fields than the header, so each is
# rejected: 2 rows read, 0 written.
RAGGED = (
    "email,first_name,mobile\nr1@example.com,R1\nr2@example.com,R2,0611111111,x,y\n"
)


def test_all_rejected_raises(tmp_path: Path) -> None:
    source = tmp_path / "ragged.csv"
    source.write_text(RAGGED, encoding="utf-8")
    work = tmp_path / "work"

    with pytest.raises(ValidationError) as caught:
        prepare_deposit(source, work, AccountSettings())

    assert caught.value.message == (
        f"{source}: all 2 rows would be rejected and 0 written, so the deposit "
        "would get only a header, which imports nothing and in sync mode empties "
        f"the list; run `digitaleo check {source}` to see why, fix the export, or "
        "pass --allow-empty to deposit it anyway"
    )
    assert caught.value.exit_code == 6


def test_all_rejected_allowed_empty(tmp_path: Path) -> None:
    source = tmp_path / "ragged.csv"
    source.write_text(RAGGED, encoding="utf-8")
    work = tmp_path / "work"

    prepared = prepare_deposit(source, work, AccountSettings(), allow_empty=True)

    assert prepared.parts == [work / "ragged.csv"]
    assert prepared.parts[0].read_bytes() == b"Pr\xe9nom;Email;Mobile\n"
    assert prepared.report is not None
    assert prepared.report["rows_read"] == 2
    assert prepared.report["rows_written"] == 0
