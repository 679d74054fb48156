"""Contacts of the store as the rules read and change them, inside one transaction."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from digitaleo_client.contacts import columns
from digitaleo_client.contacts.account import AccountSettings, Dedup
from digitaleo_client.deposit import Media

# Store column holding the canonical form of each means of contact.
CANONICAL_COLUMNS: dict[str, str] = {
    columns.EMAIL: "email",
    columns.MOBILE: "mobile",
    columns.TELEPHONE_FIXE: "phone",
}

# Rows buffered before one executemany: enough to amortise the call while
# the buffer stays a few megabytes.
_BATCH_ROWS = 5_000

# Contact fields as stored: JSON with accents kept as they are.
_JSON = json.JSONEncoder(ensure_ascii=False)

# Separates the parts of a key made of several columns. No value contains it.
_KEY_SEPARATOR = "\x1f"


def dedup_key(
    criterion: Dedup, fields: dict[str, str], canonical: dict[str, str]
) -> str | None:
    """Return a contact's identity under `criterion`, or None when it has none.

    Means of contact compare in canonical form (`Pierre@Example.com` matches
    `pierre@example.com`, `06 12 34 56 78` matches `+33612345678`), other
    columns as trimmed text. A criterion of several columns matches only
    when every one of them is equal, an empty value matching only an empty
    value. A key whose values are all empty is None: such a contact matches
    no other and is always created.
    """
    key_columns = criterion.key_columns
    if len(key_columns) == 1:
        # The common criteria have one column: skip building a list per row.
        column = key_columns[0]
        source = canonical if column in CANONICAL_COLUMNS else fields
        return source.get(column) or None
    parts = [
        canonical.get(column, "")
        if column in CANONICAL_COLUMNS
        else fields.get(column, "")
        for column in key_columns
    ]
    if not any(parts):
        return None
    return _KEY_SEPARATOR.join(parts)


def target_account(
    values: dict[str, str], settings: AccountSettings, default: str
) -> str | None:
    """Return the account a row goes to, or None for an unknown dispatch reference."""
    if not settings.multi_account:
        return default
    return settings.dispatch.get(values.get(columns.DISPATCH, ""))


@dataclass
class StoredContact:
    """A contact as stored: its id, fields and canonical means of contact."""

    id: int
    fields: dict[str, str]
    canonical: dict[str, str]


class ContactBook:
    """Reads and writes contacts, opt-outs and suppressions on one connection.

    New contacts and memberships are buffered and written in batches, which
    makes large imports several times faster than one INSERT per row. Every
    other method writes the buffers first, so reads always see them; call
    `flush` before committing.
    """

    def __init__(self, connection: sqlite3.Connection, now: float) -> None:
        self.connection = connection
        self.now = now
        self._next_id: int | None = None
        self._new_contacts: list[tuple[object, ...]] = []
        self._new_keys: set[tuple[str, str]] = set()
        self._new_members: list[tuple[int, int]] = []
        # Accounts without any contact when first looked up, and the keys
        # of the contacts created since: together they spare a SELECT per row.
        self._fresh_accounts: dict[str, bool] = {}
        self._created_keys: set[tuple[str, str]] = set()

    def flush(self) -> None:
        """Write the buffered contacts and memberships."""
        if self._new_contacts:
            self.connection.executemany(
                "INSERT INTO contacts (id, account, fields, email, mobile, phone,"
                " dedup_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self._new_contacts,
            )
            self._new_contacts.clear()
            self._new_keys.clear()
        if self._new_members:
            self.connection.executemany(
                "INSERT OR IGNORE INTO memberships (list_id, contact_id) VALUES (?, ?)",
                self._new_members,
            )
            self._new_members.clear()

    def find(self, account: str, key: str) -> StoredContact | None:
        """Return the first contact of `account` whose dedup key is `key`, or None."""
        if account not in self._fresh_accounts:
            self._check_fresh(account)
        if self._fresh_accounts[account] and (account, key) not in self._created_keys:
            return None
        if (account, key) in self._new_keys:
            self.flush()
        row = self.connection.execute(
            "SELECT id, fields, email, mobile, phone FROM contacts"
            " WHERE account = ? AND dedup_key = ? ORDER BY id LIMIT 1",
            (account, key),
        ).fetchone()
        if row is None:
            return None
        id_, fields, email, mobile, phone = row
        return StoredContact(id_, json.loads(fields), _canonical(email, mobile, phone))

    def _check_fresh(self, account: str) -> None:
        """Note whether `account` has no contact yet.

        A fresh account can only match contacts that this book created, so
        `find` returns None without a query for keys it did not create.
        """
        self.flush()
        row = self.connection.execute(
            "SELECT 1 FROM contacts WHERE account = ? LIMIT 1", (account,)
        ).fetchone()
        self._fresh_accounts[account] = row is None

    def find_all(self, account: str, key: str) -> list[int]:
        """Return the ids of every contact of `account` whose dedup key is `key`."""
        self.flush()
        rows = self.connection.execute(
            "SELECT id FROM contacts WHERE account = ? AND dedup_key = ? ORDER BY id",
            (account, key),
        )
        return [id_ for (id_,) in rows]

    def create(
        self,
        account: str,
        fields: dict[str, str],
        canonical: dict[str, str],
        key: str | None,
    ) -> int:
        """Add a contact to the write buffer and return the id it will have."""
        if self._next_id is None:
            row = self.connection.execute("SELECT MAX(id) FROM contacts").fetchone()
            self._next_id = (row[0] or 0) + 1
        contact_id = self._next_id
        self._next_id += 1
        fields_json = _JSON.encode(fields)
        means = _means(canonical)
        self._new_contacts.append(
            (contact_id, account, fields_json, *means, key, self.now, self.now)
        )
        if key is not None:
            self._new_keys.add((account, key))
            self._created_keys.add((account, key))
        if len(self._new_contacts) >= _BATCH_ROWS:
            self.flush()
        return contact_id

    def add_member(self, list_id: int, contact_id: int) -> None:
        """Add a membership to the write buffer; an existing one is kept as is."""
        self._new_members.append((list_id, contact_id))
        if len(self._new_members) >= _BATCH_ROWS:
            self.flush()

    def update(
        self, contact_id: int, fields: dict[str, str], canonical: dict[str, str]
    ) -> None:
        """Replace a contact's fields and canonical means of contact."""
        self.flush()
        self.connection.execute(
            "UPDATE contacts SET fields = ?, email = ?, mobile = ?, phone = ?, updated_at = ?"
            " WHERE id = ?",
            (
                _JSON.encode(fields),
                *_means(canonical),
                self.now,
                contact_id,
            ),
        )

    def matching(self, account: str, column: str, value: str) -> list[int]:
        """Return the ids of `account`'s contacts whose means `column` is `value`."""
        self.flush()
        store_column = CANONICAL_COLUMNS[column]
        rows = self.connection.execute(
            f"SELECT id FROM contacts WHERE account = ? AND {store_column} = ? ORDER BY id",
            (account, value),
        )
        return [id_ for (id_,) in rows]

    def delete(self, contact_id: int) -> None:
        """Remove a contact with its memberships and opt-outs."""
        self.flush()
        for statement in (
            "DELETE FROM memberships WHERE contact_id = ?",
            "DELETE FROM optouts WHERE contact_id = ?",
            "DELETE FROM contacts WHERE id = ?",
        ):
            self.connection.execute(statement, (contact_id,))

    def opt_out(self, contact_id: int, media: Media) -> bool:
        """Opt a contact out of `media`; return False if it already was."""
        self.flush()
        cursor = self.connection.execute(
            "INSERT OR IGNORE INTO optouts (contact_id, media) VALUES (?, ?)",
            (contact_id, media.value),
        )
        return cursor.rowcount > 0

    def opt_in(self, contact_id: int, media: Media) -> bool:
        """Opt a contact back in to `media`; return False if it was not opted out."""
        self.flush()
        cursor = self.connection.execute(
            "DELETE FROM optouts WHERE contact_id = ? AND media = ?",
            (contact_id, media.value),
        )
        return cursor.rowcount > 0

    def suppressions(self, account: str) -> set[tuple[str, str]]:
        """Return the suppressed `(media, canonical value)` pairs of `account`."""
        self.flush()
        rows = self.connection.execute(
            "SELECT media, value FROM suppressions WHERE account = ?", (account,)
        )
        return {(media, value) for media, value in rows}

    def suppress(self, account: str, media: Media, value: str) -> bool:
        """Record a means of contact as opted out of `media`; False if it already was."""
        self.flush()
        cursor = self.connection.execute(
            'INSERT OR IGNORE INTO suppressions (account, media, "column", value)'
            " VALUES (?, ?, ?, ?)",
            (account, media.value, media.contact_column, value),
        )
        return cursor.rowcount > 0

    def lift(self, account: str, media: Media, value: str) -> bool:
        """Remove a suppression; return False if there was none."""
        self.flush()
        cursor = self.connection.execute(
            "DELETE FROM suppressions WHERE account = ? AND media = ? AND value = ?",
            (account, media.value, value),
        )
        return cursor.rowcount > 0

    def recompute_keys(self, criterion: Dedup) -> int:
        """Recompute every contact's dedup key under `criterion`; return the count."""
        self.flush()
        rows = self.connection.execute(
            "SELECT id, fields, email, mobile, phone FROM contacts"
        ).fetchall()
        updates = []
        for id_, fields, email, mobile, phone in rows:
            canonical = _canonical(email, mobile, phone)
            updates.append((dedup_key(criterion, json.loads(fields), canonical), id_))
        self.connection.executemany(
            "UPDATE contacts SET dedup_key = ? WHERE id = ?", updates
        )
        return len(updates)


def _means(canonical: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    return (
        canonical.get(columns.EMAIL),
        canonical.get(columns.MOBILE),
        canonical.get(columns.TELEPHONE_FIXE),
    )


def _canonical(
    email: str | None, mobile: str | None, phone: str | None
) -> dict[str, str]:
    stored = zip(CANONICAL_COLUMNS, (email, mobile, phone), strict=True)
    return {column: value for column, value in stored if value is not None}
