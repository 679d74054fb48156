"""Campaigns, their events and the daily report zips of the fake deposit.

Campaign events live in two tables of the store's SQLite file:

- `campaigns`: `id`, `name`, `created_at`.
- `campaign_events`: `campaign_id`, `day` (`YYYY-MM-DD`, Europe/Paris),
  `media`, `event`, `contact_id`, `fields` (JSON copy of the contact's
  values when the event happened), `at` (POSIX seconds).

Reports follow the published layout: `reporting/<day>/` contains one
`<day>_<campaignId>_<campaignName>.zip` per campaign with events that day,
and `<day>_Daily.zip` with every event of the day. Each zip holds one
`<MEDIA>_<event>.csv` per media and event present, in the deposit's CSV
format (ISO-8859-1, `;`, LF, French headers). The server keeps 7 day
folders, today's and the 6 before it, and removes older ones.
"""

from __future__ import annotations

import datetime
import json
import logging
import shutil
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digitaleo_client.deposit import REPORTING_DIR, Media
from fake_server.clock import Clock, paris_day
from fake_server.report_zips import EventRow, server_file_name, write_zip
from fake_server.store import Store

logger = logging.getLogger(__name__)

OPENED = "opened"
CLICKED = "clicked"
OPTOUT = "optout"
EVENTS = (OPENED, CLICKED, OPTOUT)

# Number of day folders kept: today's and the 6 before it.
RETENTION_DAYS = 7

# Store column of the means of contact that each media reaches.
_MEDIA_STORE_COLUMN = {
    Media.EMAIL: "email",
    Media.SMS: "mobile",
    Media.VOICE: "phone",
    Media.VOICEMAIL: "mobile",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS campaign_events (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    media TEXT NOT NULL,
    event TEXT NOT NULL,
    contact_id INTEGER NOT NULL,
    fields TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS campaign_events_by_day ON campaign_events (day, campaign_id);
"""


class CampaignError(ValueError):
    """A campaign request that the store cannot satisfy."""


@dataclass(frozen=True)
class Campaign:
    """A campaign and the events one request recorded for it.

    `counts` maps `(media, event)` to the number of contacts recorded.
    """

    id: int
    name: str
    day: str
    counts: dict[tuple[str, str], int] = field(default_factory=dict)


class Reporting:
    """Records campaign events in the store and writes the report zips under `root`."""

    def __init__(self, root: Path, store: Store, clock: Clock) -> None:
        self.root = root
        self.store = store
        self.clock = clock
        with store.transaction() as connection:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)

    # -- campaigns -------------------------------------------------------------

    def record_campaign(
        self,
        name: str,
        *,
        campaign_id: int | None = None,
        media: Sequence[Media | str] = (Media.EMAIL,),
        opened: int = 0,
        clicked: int = 0,
        optout: int = 0,
        day: str | None = None,
    ) -> Campaign:
        """Record events of a campaign for contacts of the store, on `day`.

        For each media, the candidates are the contacts that have its means
        of contact and are not opted out of it, in id order. The first
        `opened` candidates open, the first `clicked` click and the first
        `optout` opt out, and the store opts those out of that media.
        `campaign_id` None picks the next free id, and an existing id adds
        events to that campaign. `day` None means today in Europe/Paris by
        the server's clock.

        NOTE: campaigns reach the contacts of every account of a
        multi-account deposit, because the published rules do not say how
        such a deposit reports.

        Raises CampaignError for an empty name, a negative count, an unknown
        media, an id used by a campaign of another name, or a count larger
        than the contacts the media can reach.
        """
        name = name.strip()
        media_list = [_parse_media(value) for value in media]
        day = day or paris_day(self.clock.now())
        _check_request(name, day, {OPENED: opened, CLICKED: clicked, OPTOUT: optout})

        requested = {OPENED: opened, CLICKED: clicked, OPTOUT: optout}
        counts: dict[tuple[str, str], int] = {}
        with self.store.transaction() as connection:
            campaign_id = self._campaign_id(connection, name, campaign_id)
            for each in media_list:
                contacts = _reachable_contacts(
                    connection, each, max(requested.values())
                )
                for event, count in requested.items():
                    if count:
                        self._add_events(
                            connection, campaign_id, day, each, event, contacts[:count]
                        )
                        counts[(each.value, event)] = count
        logger.info("campaign %d %r: recorded %s on %s", campaign_id, name, counts, day)
        return Campaign(campaign_id, name, day, counts)

    def _campaign_id(
        self, connection: sqlite3.Connection, name: str, requested: int | None
    ) -> int:
        if requested is None:
            row = connection.execute("SELECT MAX(id) FROM campaigns").fetchone()
            requested = max(int(row[0] or 0) + 1, 10001)
        existing = connection.execute(
            "SELECT name FROM campaigns WHERE id = ?", (requested,)
        ).fetchone()
        if existing is None:
            connection.execute(
                "INSERT INTO campaigns (id, name, created_at) VALUES (?, ?, ?)",
                (requested, name, self.clock.now()),
            )
        elif existing[0] != name:
            raise CampaignError(
                f"campaign {requested} is named {existing[0]!r}, not {name!r}; "
                "give its name to add events, or another --id"
            )
        return requested

    def _add_events(
        self,
        connection: sqlite3.Connection,
        campaign_id: int,
        day: str,
        media: Media,
        event: str,
        contacts: list[tuple[int, str]],
    ) -> None:
        now = self.clock.now()
        connection.executemany(
            "INSERT INTO campaign_events (campaign_id, day, media, event, contact_id, fields, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (campaign_id, day, media.value, event, id_, fields, now)
                for id_, fields in contacts
            ],
        )
        if event == OPTOUT:
            connection.executemany(
                "INSERT OR IGNORE INTO optouts (contact_id, media) VALUES (?, ?)",
                [(id_, media.value) for id_, _ in contacts],
            )

    def campaigns(self) -> list[dict[str, Any]]:
        """Return every campaign: `id`, `name`, `created_at`, `events` (count)."""
        rows = self.store.connection().execute(
            "SELECT c.id, c.name, c.created_at, COUNT(e.id) FROM campaigns c"
            " LEFT JOIN campaign_events e ON e.campaign_id = c.id GROUP BY c.id ORDER BY c.id"
        )
        return [
            {"id": id_, "name": name, "created_at": created, "events": events}
            for id_, name, created, events in rows
        ]

    # -- report zips -----------------------------------------------------------

    def write_reports(self, day: str | None = None) -> list[Path]:
        """Write the report zips of `day` (None: today), then apply retention.

        A zip whose content did not change is left as it is, so its size
        and modification time stay the same. Returns the zips of the day.
        Raises CampaignError when `day` is not a `YYYY-MM-DD` date.
        """
        day = day or paris_day(self.clock.now())
        if not _is_day(day):
            raise CampaignError(f"day {day!r} is not a date; write it as YYYY-MM-DD")
        events = self._events_of_day(day)
        folder = self.root / REPORTING_DIR / day
        folder.mkdir(parents=True, exist_ok=True)

        written = [write_zip(folder / f"{day}_Daily.zip", day, events)]
        for campaign_id, name in sorted(
            {(e.campaign_id, e.campaign_name) for e in events}
        ):
            campaign_events = [e for e in events if e.campaign_id == campaign_id]
            zip_name = f"{day}_{campaign_id}_{server_file_name(name)}.zip"
            written.append(write_zip(folder / zip_name, day, campaign_events))
        self.prune()
        logger.info(
            "reports of %s written: %d zips, %d events", day, len(written), len(events)
        )
        return written

    def _events_of_day(self, day: str) -> list[EventRow]:
        rows = self.store.connection().execute(
            "SELECT e.campaign_id, c.name, e.media, e.event, e.fields FROM campaign_events e"
            " JOIN campaigns c ON c.id = e.campaign_id WHERE e.day = ? ORDER BY e.id",
            (day,),
        )
        return [
            EventRow(campaign_id, name, media, event, json.loads(fields))
            for campaign_id, name, media, event, fields in rows
        ]

    def prune(self) -> list[str]:
        """Remove day folders older than the 7 kept; return the removed days."""
        today = datetime.date.fromisoformat(paris_day(self.clock.now()))
        oldest_kept = (today - datetime.timedelta(days=RETENTION_DAYS - 1)).isoformat()
        reporting = self.root / REPORTING_DIR
        removed = []
        for folder in sorted(reporting.iterdir()) if reporting.is_dir() else []:
            if folder.is_dir() and _is_day(folder.name) and folder.name < oldest_kept:
                shutil.rmtree(folder)
                removed.append(folder.name)
        if removed:
            logger.info("retention removed the reports of %s", ", ".join(removed))
        return removed


def _parse_media(value: Media | str) -> Media:
    try:
        return Media(str(value).upper())
    except ValueError as error:
        known = ", ".join(member.value for member in Media)
        raise CampaignError(f"unknown media {value!r}; use one of {known}") from error


def _check_request(name: str, day: str, counts: dict[str, int]) -> None:
    if not name:
        raise CampaignError(
            "the campaign name is empty; give a name such as 'Spring sale'"
        )
    if not _is_day(day):
        raise CampaignError(f"day {day!r} is not a date; write it as YYYY-MM-DD")
    for event, count in counts.items():
        if count < 0:
            raise CampaignError(f"--{event} is {count}; give a count of 0 or more")


def _reachable_contacts(
    connection: sqlite3.Connection, media: Media, count: int
) -> list[tuple[int, str]]:
    column = _MEDIA_STORE_COLUMN[media]
    rows = connection.execute(
        f"SELECT id, fields FROM contacts WHERE {column} IS NOT NULL AND id NOT IN"
        " (SELECT contact_id FROM optouts WHERE media = ?) ORDER BY id LIMIT ?",
        (media.value, count),
    ).fetchall()
    if len(rows) < count:
        raise CampaignError(
            f"{count} contacts requested on {media.value} but only {len(rows)} have "
            f"{media.contact_column} and are not opted out; import more contacts or "
            "lower the counts"
        )
    return [(int(id_), str(fields)) for id_, fields in rows]


def _is_day(name: str) -> bool:
    try:
        return datetime.date.fromisoformat(name).isoformat() == name
    except ValueError:
        return False


class ReportSchedule:
    """Writes today's reports every `interval` seconds in a background thread.

    The interval is in real seconds; the day written comes from the
    reporting's clock.
    """

    def __init__(self, reporting: Reporting, interval: float) -> None:
        if interval <= 0:
            raise ValueError(
                f"report interval is {interval}; give a number of seconds above 0"
            )
        self.reporting = reporting
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="fake-server-reports", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while True:
            try:
                self.reporting.write_reports()
            except (OSError, sqlite3.Error) as error:
                logger.error("writing the scheduled reports failed: %s", error)
            if self._stop.wait(self.interval):
                return
