"""Pulled reports written straight into a journal, without a deposit."""

from __future__ import annotations

from pathlib import Path

from digitaleo_client.journal import Journal, PulledReport


def record(
    journal: Journal, folder: Path, day: str, campaign_id: str, files: dict[str, str]
) -> None:
    """Write `files` (name to text, ISO-8859-1) into `folder`; record it as pulled."""
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_bytes(text.encode("iso-8859-1"))
    journal.record_pulled_report(
        PulledReport(
            deposit="sftp://crm@deposit.example.com:22",
            remote_path=f"reporting/{day}/{day}_{campaign_id}_C.zip",
            day=day,
            campaign_id=campaign_id,
            campaign_name="C",
            size=1,
            mtime=None,
            sha256="0" * 64,
            local_zip=folder.with_suffix(".zip"),
            local_folder=folder,
            pulled_at=0.0,
        )
    )
