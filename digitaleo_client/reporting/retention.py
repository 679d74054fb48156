"""The deposit's 7-day retention of report day folders, seen from the client."""

from __future__ import annotations

from digitaleo_client.reporting.names import add_days, days_between

# Number of day folders the deposit keeps: the newest day and the 6 before it.
RETENTION_DAYS = 7


def find_missing_days(
    last_pulled: str | None, server_days: list[str], since: str | None = None
) -> list[str]:
    """Return the days after `last_pulled` that have no folder on the server.

    These days were lost to retention, or never written. Days before `since`
    are not reported. Returns an empty list before the first pull.

    NOTE: a day pulled before the server's last write of it, then removed by
    retention before the next pull, is not reported: its last events are
    lost without a warning. Pulling after the day's last write avoids it.
    """
    if last_pulled is None or not server_days:
        return []
    start = add_days(last_pulled, 1)
    if since is not None and since > start:
        start = since
    newest = max(server_days)
    if start > newest:
        return []
    present = set(server_days)
    return [day for day in days_between(start, newest) if day not in present]
