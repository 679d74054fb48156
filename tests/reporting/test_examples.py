"""The suppression list example, run as a script on a journal of pulled reports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pulled_journal import record

from digitaleo_client.journal import Journal

SCRIPT = Path(__file__).parents[2] / "examples" / "suppression_list.py"


def test_suppression_list_script(tmp_path: Path) -> None:
    journal_path = tmp_path / "journal.sqlite3"
    with Journal(journal_path) as journal:
        record(
            journal,
            tmp_path / "r" / "1",
            "2026-11-02",
            "1",
            {
                "EMAIL_optout.csv": "Email;Référence\nzoe@example.com;R1\n",
                "EMAIL_opened.csv": "Email\nluc@example.com\n",
            },
        )
        record(
            journal,
            tmp_path / "r" / "2",
            "2026-11-03",
            "2",
            {
                "EMAIL_optout.csv": "Email;Référence\nzoe@example.com;R1\n",
                "SMS_optout.csv": "Mobile\n0612345678\n",
            },
        )
    output = tmp_path / "suppressions.csv"

    completed = subprocess.run(
        [sys.executable, str(SCRIPT), str(output), "--journal", str(journal_path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert output.read_text(encoding="utf-8").splitlines() == [
        "media,email,mobile,phone,reference,day,campaign_id",
        "EMAIL,zoe@example.com,,,R1,2026-11-02,1",
        "SMS,,0612345678,,,2026-11-03,2",
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "journal.sqlite3",
        "r",
        "suppressions.csv",
    ]
