"""SQLite store of the fake deposit: contacts, lists, opt-outs, processed files.

All state lives in one file, `ROOT/.fake-server/store.sqlite`, in WAL mode so
that readers (the front ends, `inspect`, tests) never block the processor.
Each thread gets its own connection. Other modules may add their own tables to
the same file; every table here is created with `IF NOT EXISTS`.

NOTE: the processor applies each file in one write transaction, so another
writer waits until the file is done, and fails with "database is locked"
after 30 seconds. A file of 20,000,000 bytes can take longer than that.

Tables:

- `contacts`: one row per contact.
    `id`         INTEGER primary key.
    `account`    account name (`default` on a single-account deposit).
    `fields`     JSON object of the contact's values by French column name
                 (`Email`, `Téléphone Fixe`, `Champ 1`...), spaces trimmed,
                 invalid values left out.
    `email`, `mobile`, `phone`
                 the valid means of contact in canonical form (e-mail in lower
                 case, phones in E.164), NULL when absent. Opt-outs match on
                 these.
    `dedup_key`  the contact's identity under the account's deduplication
                 criterion, NULL when it has none (criterion `none`, or an
                 empty key value).
    `created_at`, `updated_at`  POSIX seconds from the deposit's clock.
- `lists`: `id`, `name`, `account`, `created_at`. Several lists may share a
  name: import mode 1 creates one per file.
- `memberships`: `list_id`, `contact_id`.
- `optouts`: `contact_id`, `media`: the contact is opted out of that media.
- `suppressions`: `account`, `media`, `column`, `value`: a means of contact
  opted out before any contact held it; imports of it stay opted out.
- `files`: one record per processed file (see `Store.files`).
- `settings`: `key`, `value` pairs, such as the criterion the dedup keys
  were computed with.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STATE_DIR = ".fake-server"
STORE_FILE = "store.sqlite"

# The counts each file record carries, in display order.
COUNT_NAMES = (
    "created",
    "updated",
    "unchanged",
    "invalid",
    "invalid_values",
    "opted_out",
    "opted_in",
    "deleted",
    "suppressed",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    fields TEXT NOT NULL,
    email TEXT,
    mobile TEXT,
    phone TEXT,
    dedup_key TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_by_dedup_key ON contacts (account, dedup_key);
CREATE INDEX IF NOT EXISTS contacts_by_email ON contacts (account, email);
CREATE INDEX IF NOT EXISTS contacts_by_mobile ON contacts (account, mobile);
CREATE INDEX IF NOT EXISTS contacts_by_phone ON contacts (account, phone);
CREATE TABLE IF NOT EXISTS lists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    account TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS lists_by_name ON lists (account, name);
CREATE TABLE IF NOT EXISTS memberships (
    list_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    PRIMARY KEY (list_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_by_contact ON memberships (contact_id);
CREATE TABLE IF NOT EXISTS optouts (
    contact_id INTEGER NOT NULL,
    media TEXT NOT NULL,
    PRIMARY KEY (contact_id, media)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS suppressions (
    account TEXT NOT NULL,
    media TEXT NOT NULL,
    "column" TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account, media, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    action TEXT NOT NULL,
    media TEXT,
    name TEXT NOT NULL,
    list TEXT,
    stage TEXT NOT NULL,
    counts TEXT NOT NULL,
    reason TEXT,
    deposited_at REAL NOT NULL,
    processed_at REAL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def empty_counts() -> dict[str, int]:
    """Return a counts object with every count at zero."""
    return dict.fromkeys(COUNT_NAMES, 0)


class Store:
    """The fake deposit's state in SQLite, usable from several threads.

    Each thread opens its own connection on first use; `close` closes them
    all. Reading methods return plain dicts ready for JSON.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        # executescript commits first, so it runs outside transaction().
        self.connection().executescript(_SCHEMA)

    @classmethod
    def for_root(cls, root: Path) -> Store:
        """Open (or create) the store of the deposit rooted at `root`."""
        return cls(root / STATE_DIR / STORE_FILE)

    def connection(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it on first use.

        Raises RuntimeError once the store is closed.
        """
        if self._closed:
            raise RuntimeError(f"the store {self.path} is closed; open a new Store")
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            # Without fsync a power loss may corrupt the store, but a crash of
            # the process cannot. That is enough for a test server, and it
            # saves seconds per large file.
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute("PRAGMA foreign_keys=OFF")
            # A 64 MiB page cache (the default is 2 MiB) keeps the indexes of a
            # large import in memory instead of spilling them mid-transaction.
            connection.execute("PRAGMA cache_size=-65536")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block in one write transaction, rolled back if it raises."""
        connection = self.connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def close(self) -> None:
        """Close every thread's connection; the store cannot be used afterwards."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    # Reading

    def lists(self) -> list[dict[str, Any]]:
        """Return every list: `id`, `name`, `account`, `created_at`, `size`."""
        rows = self.connection().execute(
            "SELECT l.id, l.name, l.account, l.created_at, COUNT(m.contact_id)"
            " FROM lists l LEFT JOIN memberships m ON m.list_id = l.id"
            " GROUP BY l.id ORDER BY l.id"
        )
        return [
            {
                "id": id_,
                "name": name,
                "account": account,
                "created_at": created,
                "size": size,
            }
            for id_, name, account, created, size in rows
        ]

    def list_members(self, list_id: int) -> list[dict[str, Any]]:
        """Return the contacts of list `list_id`, by id; empty for an unknown list."""
        return self._contacts_where(
            "id IN (SELECT contact_id FROM memberships WHERE list_id = ?)", (list_id,)
        )

    def contacts(self) -> list[dict[str, Any]]:
        """Return every contact: `id`, `account`, `fields`, `optout` (media list)."""
        return self._contacts_where("1", ())

    def _contacts_where(
        self, condition: str, parameters: tuple[Any, ...]
    ) -> list[dict[str, Any]]:
        connection = self.connection()
        optouts: dict[int, list[str]] = {}
        for contact_id, media in connection.execute(
            "SELECT contact_id, media FROM optouts ORDER BY contact_id, media"
        ):
            optouts.setdefault(contact_id, []).append(media)
        rows = connection.execute(
            f"SELECT id, account, fields FROM contacts WHERE {condition} ORDER BY id",
            parameters,
        )
        return [
            {
                "id": id_,
                "account": account,
                "fields": json.loads(fields),
                "optout": optouts.get(id_, []),
            }
            for id_, account, fields in rows
        ]

    def files(self) -> list[dict[str, Any]]:
        """Return the record of every processed file, oldest first.

        Each has `id`, `action` (import, optout, optin, delete), `media`
        (None for import and delete), `name` (the file's name in on/, ok/ or
        ko/, with its timestamp prefix), `list` (the list an import feeds,
        else None), `stage` (on, ok or ko), `counts`, `reason` (why it went
        to ko/, else None), `deposited_at` and `processed_at` (None while in
        on/).
        """
        rows = self.connection().execute(
            "SELECT id, action, media, name, list, stage, counts, reason,"
            " deposited_at, processed_at FROM files ORDER BY id"
        )
        return [_file_record(row) for row in rows]

    def file(self, file_id: int) -> dict[str, Any]:
        """Return the record of file `file_id`; raises KeyError if unknown."""
        row = (
            self.connection()
            .execute(
                "SELECT id, action, media, name, list, stage, counts, reason,"
                " deposited_at, processed_at FROM files WHERE id = ?",
                (file_id,),
            )
            .fetchone()
        )
        if row is None:
            raise KeyError(f"no file record with id {file_id}")
        return _file_record(row)

    def suppressions(self) -> list[dict[str, Any]]:
        """Return every suppressed means: `account`, `media`, `column`, `value`."""
        rows = self.connection().execute(
            'SELECT account, media, "column", value FROM suppressions'
            " ORDER BY account, media, value"
        )
        return [
            {"account": account, "media": media, "column": column, "value": value}
            for account, media, column, value in rows
        ]

    # Settings

    def setting(self, key: str) -> str | None:
        """Return a stored setting, or None when it was never set."""
        row = (
            self.connection()
            .execute("SELECT value FROM settings WHERE key = ?", (key,))
            .fetchone()
        )
        return None if row is None else str(row[0])

    def set_setting(self, connection: sqlite3.Connection, key: str, value: str) -> None:
        """Store a setting inside the caller's transaction."""
        connection.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # Writing file records

    def add_file(
        self,
        action: str,
        media: str | None,
        name: str,
        list_name: str | None,
        deposited_at: float,
    ) -> int:
        """Record a file that entered on/; return its id."""
        with self.transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO files (action, media, name, list, stage, counts, deposited_at)"
                " VALUES (?, ?, ?, ?, 'on', ?, ?)",
                (
                    action,
                    media,
                    name,
                    list_name,
                    json.dumps(empty_counts()),
                    deposited_at,
                ),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_file(
        self,
        connection: sqlite3.Connection,
        file_id: int,
        *,
        name: str,
        stage: str,
        counts: dict[str, int],
        reason: str | None,
        processed_at: float,
    ) -> None:
        """Record the outcome of a file inside the caller's transaction."""
        connection.execute(
            "UPDATE files SET name = ?, stage = ?, counts = ?, reason = ?, processed_at = ?"
            " WHERE id = ?",
            (name, stage, json.dumps(counts), reason, processed_at, file_id),
        )


def _file_record(row: tuple[Any, ...]) -> dict[str, Any]:
    id_, action, media, name, list_name, stage, counts, reason, deposited, processed = (
        row
    )
    return {
        "id": id_,
        "action": action,
        "media": media,
        "name": name,
        "list": list_name,
        "stage": stage,
        "counts": json.loads(counts),
        "reason": reason,
        "deposited_at": deposited,
        "processed_at": processed,
    }
