"""Reports of the deposit: list, pull, unpack safely, read events, summarize.

from digitaleo_client.reporting import ReportPuller, iter_pulled_events

with open_transport(settings) as transport, Journal.open_default() as journal:
    ReportPuller(transport, journal).pull(Path("reports"))
    for event in iter_pulled_events(journal, optouts_only=True):
        print(event.media, event.email)
"""

from digitaleo_client.reporting.archive import (
    DEFAULT_LIMITS,
    ExtractionLimits,
    extract_report,
)
from digitaleo_client.reporting.events import (
    ReportEvent,
    ReportSource,
    iter_folder_events,
    iter_pulled_events,
    read_event_file,
)
from digitaleo_client.reporting.names import (
    ReportName,
    parse_event_file_name,
    parse_report_name,
)
from digitaleo_client.reporting.pull import (
    PullResult,
    RemoteReport,
    ReportDay,
    ReportPuller,
)
from digitaleo_client.reporting.retention import RETENTION_DAYS, find_missing_days
from digitaleo_client.reporting.summary import SummaryRow, summarize

__all__ = [
    "DEFAULT_LIMITS",
    "RETENTION_DAYS",
    "ExtractionLimits",
    "PullResult",
    "RemoteReport",
    "ReportDay",
    "ReportEvent",
    "ReportName",
    "ReportPuller",
    "ReportSource",
    "SummaryRow",
    "extract_report",
    "find_missing_days",
    "iter_folder_events",
    "iter_pulled_events",
    "parse_event_file_name",
    "parse_report_name",
    "read_event_file",
    "summarize",
]
