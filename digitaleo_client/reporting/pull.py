"""Listing and pulling report zips from the deposit's reporting folder.

A pull downloads each zip that is new or changed since the journal last saw
it (by remote path, size and modification time), writes it atomically,
unpacks it safely and records it. A zip that fails its checks is reported
and left unrecorded, so the next pull tries it again.

The deposit keeps 7 day folders. Which day is "today" comes from the newest
day folder on the server, never from the client's clock.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from digitaleo_client import retry
from digitaleo_client.client.retrying import RetryPolicies, needs_reconnect
from digitaleo_client.config import ConnectionSettings, parse_url
from digitaleo_client.deposit import REPORTING_DIR, report_day_folder
from digitaleo_client.errors import (
    DigitaleoError,
    RemoteNotFound,
    ReportError,
)
from digitaleo_client.journal import Journal, PulledReport
from digitaleo_client.reporting.archive import (
    DEFAULT_LIMITS,
    ExtractionLimits,
    extract_report,
)
from digitaleo_client.reporting.lock import pull_lock
from digitaleo_client.reporting.names import (
    ReportName,
    add_days,
    is_day,
    parse_report_name,
)
from digitaleo_client.reporting.retention import RETENTION_DAYS, find_missing_days
from digitaleo_client.transport import open_transport
from digitaleo_client.transport.base import ProgressCallback, Transport

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Called before each download with the report; `report.size` is in bytes.
StartCallback = Callable[["RemoteReport"], None]


@dataclass(frozen=True)
class RemoteReport:
    """A report zip on the server, with its size and modification time."""

    name: ReportName
    size: int
    mtime: float | None

    def matches(self, pulled: PulledReport | None) -> bool:
        """Tell whether `pulled` is this zip as it is now on the server.

        NOTE: when the server gives no modification time, only the size is
        compared, so a rewrite of the same size goes unnoticed.
        """
        return pulled is not None and (pulled.size, pulled.mtime) == (
            self.size,
            self.mtime,
        )


@dataclass(frozen=True)
class ReportDay:
    """A day folder of the server, its report zips, and which were pulled."""

    day: str
    reports: list[RemoteReport]
    pulled: list[bool]
    leaving: bool

    @property
    def fully_pulled(self) -> bool:
        return all(self.pulled)


@dataclass
class PullResult:
    """Outcome of one pull.

    `missing_days` are days never pulled that the server lost, and
    `vanished` the zips it removed between the listing and their download.
    """

    pulled: list[PulledReport] = field(default_factory=list)
    unchanged: list[RemoteReport] = field(default_factory=list)
    failed: list[tuple[RemoteReport, ReportError]] = field(default_factory=list)
    vanished: list[RemoteReport] = field(default_factory=list)
    missing_days: list[str] = field(default_factory=list)
    bytes_received: int = 0


class ReportPuller:
    """Lists and pulls the deposit's report zips, recording pulls in a journal.

    `limits` bounds what a zip may unpack to. `reconnect` opens a new
    connection after the current one dropped or timed out. With it, listing
    and downloading are retried under `read_policy` (None: the client's
    read policy, which repeats dropped connections and timeouts). Without
    it (None), a dropped connection ends the pull. Use it as a context manager to close
    the connection it holds.
    """

    def __init__(
        self,
        transport: Transport,
        journal: Journal,
        *,
        limits: ExtractionLimits = DEFAULT_LIMITS,
        reconnect: Callable[[], Transport] | None = None,
        read_policy: retry.RetryPolicy | None = None,
    ) -> None:
        self._transport: Transport | None = transport
        # The journal tells deposits apart by their URL without a password.
        self.deposit = transport.display_url
        self.journal = journal
        self.limits = limits
        self._reconnect = reconnect
        self.read_policy = read_policy or RetryPolicies().read

    @classmethod
    def connect(
        cls,
        settings: ConnectionSettings,
        journal: Journal,
        *,
        limits: ExtractionLimits = DEFAULT_LIMITS,
        connect_policy: retry.RetryPolicy = retry.CONNECT,
        read_policy: retry.RetryPolicy | None = None,
    ) -> ReportPuller:
        """Connect to the deposit, retrying under `connect_policy`, and reconnect after drops.

        Raises DepositConnectionError when the attempts run out.
        """
        display = parse_url(settings.url).display

        def open_connection() -> Transport:
            return connect_policy.call(
                lambda: open_transport(settings), f"connect to {display}"
            )

        return cls(
            open_connection(),
            journal,
            limits=limits,
            reconnect=open_connection,
            read_policy=read_policy,
        )

    @property
    def transport(self) -> Transport:
        """The open connection, opened again after a drop."""
        if self._transport is None:
            assert self._reconnect is not None
            self._transport = self._reconnect()
        return self._transport

    def close(self) -> None:
        """Close the connection held now."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _retried(self, operation: Callable[[Transport], T], description: str) -> T:
        """Run `operation` on the connection, reconnecting and retrying after drops."""
        if self._reconnect is None:
            return operation(self.transport)

        def attempt() -> T:
            try:
                return operation(self.transport)
            except DigitaleoError as error:
                if not needs_reconnect(error):
                    raise
                dropped, self._transport = self._transport, None
                if dropped is not None:
                    with contextlib.suppress(DigitaleoError, OSError):
                        dropped.close()
                raise

        return self.read_policy.call(attempt, description)

    def remote_reports(self) -> dict[str, list[RemoteReport]]:
        """Return the report zips of each day folder on the server, days in order."""
        entries = self._retried(
            lambda transport: transport.list_or_empty(REPORTING_DIR),
            f"list {REPORTING_DIR}",
        )
        days = sorted(
            entry.name for entry in entries if entry.is_dir and is_day(entry.name)
        )
        return {day: self._day_reports(day) for day in days}

    def _day_reports(self, day: str) -> list[RemoteReport]:
        folder = report_day_folder(day)
        reports = []
        entries = self._retried(
            lambda transport: transport.list_or_empty(folder), f"list {folder}"
        )
        for entry in entries:
            if entry.is_dir or entry.name.startswith("."):
                continue
            name = parse_report_name(day, entry.name)
            if name is None:
                logger.warning("skipping %s/%s: not a report zip name", day, entry.name)
                continue
            reports.append(RemoteReport(name, entry.size, entry.mtime))
        return sorted(
            reports,
            key=lambda report: (not report.name.is_general, report.name.file_name),
        )

    def list_days(self) -> list[ReportDay]:
        """Return each day on the server with its zips, pulled flags and retention.

        A day is `leaving` when it is the oldest the deposit keeps, so the
        next day's reports push it out.
        """
        by_day = self.remote_reports()
        if not by_day:
            return []
        oldest_kept = add_days(max(by_day), -(RETENTION_DAYS - 1))
        return [
            ReportDay(
                day,
                reports,
                [
                    report.matches(
                        self.journal.pulled_report(
                            self.deposit, report.name.remote_path
                        )
                    )
                    for report in reports
                ],
                day <= oldest_kept,
            )
            for day, reports in by_day.items()
        ]

    def pull(
        self,
        destination: Path,
        *,
        since: str | None = None,
        campaign: str | None = None,
        on_start: StartCallback | None = None,
        progress: ProgressCallback | None = None,
    ) -> PullResult:
        """Download and unpack what is new into `destination/<day>/<folder>/`.

        `since` (`YYYY-MM-DD`) skips older days; `campaign` keeps only that
        campaign id's zips (and no general zip); None means no filter.
        `on_start` and `progress` report each download. A pull into a
        destination that another pull is using waits for it to finish. Raises
        DepositConnectionError or TransferError when the deposit fails;
        a zip that fails its checks lands in `PullResult.failed` instead.
        """
        with pull_lock(destination):
            return self._pull_locked(destination, since, campaign, on_start, progress)

    def _pull_locked(
        self,
        destination: Path,
        since: str | None,
        campaign: str | None,
        on_start: StartCallback | None,
        progress: ProgressCallback | None,
    ) -> PullResult:
        by_day = self.remote_reports()
        result = PullResult(
            missing_days=find_missing_days(
                self.journal.last_pulled_day(self.deposit), list(by_day), since
            )
        )
        if result.missing_days:
            logger.warning(
                "reports of %s were never pulled and are no longer on the server; "
                "the deposit keeps %d days, so pull at least every %d days",
                ", ".join(result.missing_days),
                RETENTION_DAYS,
                RETENTION_DAYS - 1,
            )

        for day, reports in by_day.items():
            if since is not None and day < since:
                continue
            for report in reports:
                if campaign is not None and report.name.campaign_id != campaign:
                    continue
                self._pull_one(report, destination, result, on_start, progress)
        return result

    def _pull_one(
        self,
        report: RemoteReport,
        destination: Path,
        result: PullResult,
        on_start: StartCallback | None,
        progress: ProgressCallback | None,
    ) -> None:
        previous = self.journal.pulled_report(self.deposit, report.name.remote_path)
        if (
            report.matches(previous)
            and previous is not None
            and previous.local_folder.is_dir()
        ):
            result.unchanged.append(report)
            return

        if on_start is not None:
            on_start(report)
        day_folder = destination / report.name.day
        day_folder.mkdir(parents=True, exist_ok=True)
        zip_path = day_folder / f"{report.name.folder_name}.zip"
        remote_path = report.name.remote_path
        try:
            result.bytes_received += self._retried(
                lambda transport: transport.download(remote_path, zip_path, progress),
                f"download {remote_path}",
            )
        except RemoteNotFound:
            # Retention may remove a day folder between the listing and the download.
            logger.warning(
                "%s left the server before it was downloaded", report.name.label
            )
            result.vanished.append(report)
            return
        try:
            extract_report(zip_path, day_folder / report.name.folder_name, self.limits)
        except ReportError as error:
            logger.error("%s rejected: %s", report.name.label, error)
            zip_path.unlink(missing_ok=True)
            result.failed.append((report, error))
            return

        pulled = self._record(report, zip_path, day_folder / report.name.folder_name)
        result.pulled.append(pulled)
        logger.info("pulled %s into %s", report.name.label, pulled.local_folder)

    def _record(
        self, report: RemoteReport, zip_path: Path, folder: Path
    ) -> PulledReport:
        pulled = PulledReport(
            deposit=self.deposit,
            remote_path=report.name.remote_path,
            day=report.name.day,
            campaign_id=report.name.campaign_id,
            campaign_name=report.name.campaign_name,
            size=report.size,
            mtime=report.mtime,
            sha256=_sha256(zip_path),
            local_zip=zip_path.resolve(),
            local_folder=folder.resolve(),
            pulled_at=self.journal.now(),
        )
        self.journal.record_pulled_report(pulled)
        return pulled


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
