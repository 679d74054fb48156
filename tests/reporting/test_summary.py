"""Counting events per day, campaign, media and event."""

from __future__ import annotations

from digitaleo_client.reporting.events import ReportEvent
from digitaleo_client.reporting.summary import SummaryRow, summarize


def event(day: str, campaign: str | None, media: str, name: str) -> ReportEvent:
    return ReportEvent(
        day, campaign, f"C{campaign}" if campaign else None, media, name, {}
    )


def test_summarize_counts_and_sorts() -> None:
    events = [
        event("2026-11-02", "7", "EMAIL", "opened"),
        event("2026-11-01", "7", "SMS", "optout"),
        event("2026-11-01", "7", "EMAIL", "opened"),
        event("2026-11-01", "7", "EMAIL", "opened"),
        event("2026-11-01", None, "EMAIL", "clicked"),
    ]

    assert summarize(events) == [
        SummaryRow("2026-11-01", "", "", "EMAIL", "clicked", 1),
        SummaryRow("2026-11-01", "7", "C7", "EMAIL", "opened", 2),
        SummaryRow("2026-11-01", "7", "C7", "SMS", "optout", 1),
        SummaryRow("2026-11-02", "7", "C7", "EMAIL", "opened", 1),
    ]


def test_summarize_nothing() -> None:
    assert summarize([]) == []
