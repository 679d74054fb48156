"""Local journal of the client: an SQLite file in the user's state folder.

The journal remembers which report zips were pulled (by remote path, size
and modification time) so that a rerun transfers only what is new, and
every push with its content hash, remote names and stage, so that `status`
and `wait` pick up after a crash and a rerun does not push the same content
twice.

Several processes may use one journal at once (two cron jobs): the file is
in WAL mode, writers wait up to 30 seconds for each other, and every write
is one short transaction.

The schema grows by numbered migrations: `PRAGMA user_version` stores how
many of `MIGRATIONS` the file has applied, and opening a journal applies the
rest in order. To add a table, append a migration written with
`CREATE TABLE IF NOT EXISTS`; never edit a migration that was released.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import platformdirs

from digitaleo_client.errors import ConfigurationError
from digitaleo_client.push_journal import NewPush, PushJournal, PushRecord

logger = logging.getLogger(__name__)

__all__ = ["Journal", "NewPush", "PulledReport", "PushRecord", "default_journal_path"]

JOURNAL_FILE_NAME = "journal.sqlite3"
# Seconds a writer waits for another process that holds the journal's lock.
_BUSY_TIMEOUT = 30.0

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: report zips pulled from reporting/.
    (
        """
        CREATE TABLE IF NOT EXISTS pulled_reports (
            remote_path   TEXT PRIMARY KEY,
            day           TEXT NOT NULL,
            campaign_id   TEXT,
            campaign_name TEXT,
            size          INTEGER NOT NULL,
            mtime         REAL,
            sha256        TEXT NOT NULL,
            local_zip     TEXT NOT NULL,
            local_folder  TEXT NOT NULL,
            pulled_at     REAL NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS pulled_reports_day ON pulled_reports (day)",
    ),
    # 2: pushes, one row per push of a file, whatever its number of parts.
    (
        """
        CREATE TABLE IF NOT EXISTS pushes (
            id             INTEGER PRIMARY KEY,
            deposit        TEXT NOT NULL,
            content_sha256 TEXT NOT NULL,
            source         TEXT NOT NULL,
            action         TEXT NOT NULL,
            media          TEXT,
            mode           TEXT,
            remote_name    TEXT NOT NULL,
            parts          INTEGER NOT NULL,
            uploads        TEXT NOT NULL,
            stage          TEXT NOT NULL,
            outcome        TEXT,
            error          TEXT,
            created_at     REAL NOT NULL,
            updated_at     REAL NOT NULL,
            finished_at    REAL
        )
        """,
        (
            "CREATE INDEX IF NOT EXISTS pushes_content "
            "ON pushes (deposit, content_sha256, action, remote_name)"
        ),
    ),
    # 3: pulled reports keyed by deposit too, because two deposits have the
    # same remote paths. Rows of version 1 get an empty deposit, matching no
    # deposit, so their zips are pulled once more.
    (
        """
        CREATE TABLE pulled_reports_by_deposit (
            deposit       TEXT NOT NULL,
            remote_path   TEXT NOT NULL,
            day           TEXT NOT NULL,
            campaign_id   TEXT,
            campaign_name TEXT,
            size          INTEGER NOT NULL,
            mtime         REAL,
            sha256        TEXT NOT NULL,
            local_zip     TEXT NOT NULL,
            local_folder  TEXT NOT NULL,
            pulled_at     REAL NOT NULL,
            PRIMARY KEY (deposit, remote_path)
        )
        """,
        """
        INSERT INTO pulled_reports_by_deposit
        SELECT '', remote_path, day, campaign_id, campaign_name, size, mtime, sha256,
               local_zip, local_folder, pulled_at
        FROM pulled_reports
        """,
        "DROP TABLE pulled_reports",
        "ALTER TABLE pulled_reports_by_deposit RENAME TO pulled_reports",
        "CREATE INDEX IF NOT EXISTS pulled_reports_day ON pulled_reports (deposit, day)",
    ),
    # 4: the process id and host name of the process that runs each push, so
    # that a push left open by a killed process is distinguished from a
    # running one. Rows of earlier versions keep NULL, which no process matches.
    (
        "ALTER TABLE pushes ADD COLUMN pid INTEGER",
        "ALTER TABLE pushes ADD COLUMN host TEXT",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def default_journal_path() -> Path:
    """Return the journal's path in the user's state folder, per platformdirs."""
    return platformdirs.user_state_path("digitaleo") / JOURNAL_FILE_NAME


@dataclass(frozen=True)
class PulledReport:
    """A report zip pulled from the deposit and unpacked locally.

    `deposit` is the deposit's URL without a password. `campaign_id` and
    `campaign_name` are None for the general zip of a day; `mtime` is None
    when the server did not give one. `pulled_at` is in POSIX seconds of the
    client's clock.
    """

    deposit: str
    remote_path: str
    day: str
    campaign_id: str | None
    campaign_name: str | None
    size: int
    mtime: float | None
    sha256: str
    local_zip: Path
    local_folder: Path
    pulled_at: float


class Journal(PushJournal):
    """The client's SQLite journal; use it as a context manager.

    `clock` returns POSIX seconds; tests pass a fake one.
    """

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        if path.is_dir():
            raise ConfigurationError(
                f"journal {path} is a folder; give the path of the journal file, "
                f"for instance {path / JOURNAL_FILE_NAME}",
                key="journal",
                path=str(path),
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT)
        except (OSError, sqlite3.Error) as error:
            raise ConfigurationError(
                f"cannot open the journal {path} ({error}); give a writable file path "
                "with --journal or DIGITALEO_JOURNAL",
                key="journal",
                path=str(path),
            ) from error
        try:
            self._prepare()
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise ConfigurationError(
                f"journal {path} is not a readable SQLite file ({error}); "
                "move it aside and rerun, which starts a new journal",
                path=str(path),
            ) from error

    @classmethod
    def open_default(cls) -> Journal:
        """Open the journal at `default_journal_path()`."""
        return cls(default_journal_path())

    def _prepare(self) -> None:
        """Switch to WAL and migrate, waiting while another process does the same.

        SQLite can return "database is locked" at once, without waiting for
        the busy timeout, while another connection changes the journal mode
        or recovers the WAL index. So these first steps are repeated until
        they pass or the busy timeout runs out.
        """
        deadline = time.monotonic() + _BUSY_TIMEOUT
        while True:
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._migrate()
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                logger.debug("journal %s is locked by another process; waiting", self.path)
                time.sleep(0.05)

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise ConfigurationError(
                f"journal {self.path} has schema version {version} but this "
                f"digitaleo-client knows up to {SCHEMA_VERSION}; upgrade digitaleo-client",
                path=str(self.path),
            )
        for number in range(version, SCHEMA_VERSION):
            # One transaction per migration, and the version read again inside
            # it, so that another process migrating at the same time waits and
            # then skips what it already applied.
            with self._write() as db:
                if self.schema_version > number:
                    continue
                for statement in MIGRATIONS[number]:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")
            logger.info(
                "journal %s migrated to schema version %d", self.path, number + 1
            )

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def now(self) -> float:
        """Return the journal clock's time in POSIX seconds."""
        return self._clock()

    # -- pulled reports ------------------------------------------------------

    def pulled_report(self, deposit: str, remote_path: str) -> PulledReport | None:
        """Return what was pulled from `remote_path` of `deposit`, or None if never.

        `deposit` is the deposit's URL without a password.
        """
        row = self._db.execute(
            f"SELECT {_PULLED_COLUMNS} FROM pulled_reports "
            "WHERE deposit = ? AND remote_path = ?",
            (deposit, remote_path),
        ).fetchone()
        return None if row is None else _pulled_from_row(row)

    def record_pulled_report(self, report: PulledReport) -> None:
        """Store `report`, replacing an earlier pull of the same deposit and path."""
        with self._db:
            self._db.execute(
                f"INSERT OR REPLACE INTO pulled_reports ({_PULLED_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    report.deposit,
                    report.remote_path,
                    report.day,
                    report.campaign_id,
                    report.campaign_name,
                    report.size,
                    report.mtime,
                    report.sha256,
                    str(report.local_zip),
                    str(report.local_folder),
                    report.pulled_at,
                ),
            )

    def pulled_reports(
        self, since: str | None = None, deposit: str | None = None
    ) -> list[PulledReport]:
        """Return the pulled reports of `since` (`YYYY-MM-DD`) and later days.

        None for `since` means every day, and None for `deposit` every
        deposit. Sorted by day, deposit, then remote path.
        """
        rows = self._db.execute(
            f"SELECT {_PULLED_COLUMNS} FROM pulled_reports "
            "WHERE day >= ? AND (? IS NULL OR deposit = ?) "
            "ORDER BY day, deposit, remote_path",
            (since or "", deposit, deposit),
        ).fetchall()
        return [_pulled_from_row(row) for row in rows]

    def last_pulled_day(self, deposit: str) -> str | None:
        """Return the latest day of which a report of `deposit` was pulled, or None."""
        row = self._db.execute(
            "SELECT MAX(day) FROM pulled_reports WHERE deposit = ?", (deposit,)
        ).fetchone()
        return None if row[0] is None else str(row[0])

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Run one write transaction that holds the write lock from its start.

        BEGIN IMMEDIATE makes a second process wait (up to the busy timeout)
        at the start instead of failing when it tries to write after a read.
        """
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.rollback()
            raise
        self._db.commit()

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


_PULLED_COLUMNS = (
    "deposit, remote_path, day, campaign_id, campaign_name, size, mtime, sha256, "
    "local_zip, local_folder, pulled_at"
)


def _pulled_from_row(row: tuple[object, ...]) -> PulledReport:
    (deposit, remote_path, day, campaign_id, campaign_name, size, mtime) = row[:7]
    sha256, local_zip, local_folder, pulled_at = row[7:]
    return PulledReport(
        deposit=str(deposit),
        remote_path=str(remote_path),
        day=str(day),
        campaign_id=None if campaign_id is None else str(campaign_id),
        campaign_name=None if campaign_name is None else str(campaign_name),
        size=int(str(size)),
        mtime=None if mtime is None else float(str(mtime)),
        sha256=str(sha256),
        local_zip=Path(str(local_zip)),
        local_folder=Path(str(local_folder)),
        pulled_at=float(str(pulled_at)),
    )
