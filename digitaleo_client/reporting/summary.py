"""Counts of report events per day, campaign, media and event."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from digitaleo_client.reporting.events import ReportEvent


@dataclass(frozen=True, order=True)
class SummaryRow:
    """How many contacts had one event on one media, in one campaign on one day."""

    day: str
    campaign_id: str
    campaign_name: str
    media: str
    event: str
    count: int

    def as_dict(self) -> dict[str, str | int]:
        return {
            "day": self.day,
            "campaign_id": self.campaign_id,
            "campaign_name": self.campaign_name,
            "media": self.media,
            "event": self.event,
            "count": self.count,
        }


def summarize(events: Iterable[ReportEvent]) -> list[SummaryRow]:
    """Count `events` per day, campaign, media and event, sorted in that order.

    Events of a general zip have an empty campaign id and name.
    """
    counts: Counter[tuple[str, str, str, str, str]] = Counter(
        (
            event.day,
            event.campaign_id or "",
            event.campaign_name or "",
            event.media,
            event.event,
        )
        for event in events
    )
    return sorted(SummaryRow(*key, count) for key, count in counts.items())
