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
    parts = [
        canonical.get(column, "")
        if column in CANONICAL_COLUMNS
        else fields.get(column, "")
        for column in criterion.key_columns
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
    """Reads and writes contacts, opt-outs and suppressions on one connection."""

    def __init__(self, connection: sqlite3.Connection, now: float) -> None:
        self.connection = connection
        self.now = now

    def find(self, account: str, key: str) -> StoredContact | None:
        """Return the first contact of `account` whose dedup key is `key`, or None."""
        row = self.connection.execute(
            "SELECT id, fields, email, mobile, phone FROM contacts"
            " WHERE account = ? AND dedup_key = ? ORDER BY id LIMIT 1",
            (account, key),
        ).fetchone()
        if row is None:
            return None
        id_, fields, email, mobile, phone = row
        return StoredContact(id_, json.loads(fields), _canonical(email, mobile, phone))

    def find_all(self, account: str, key: str) -> list[int]:
        """Return the ids of every contact of `account` whose dedup key is `key`."""
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
        """Insert a contact and return its id."""
        cursor = self.connection.execute(
            "INSERT INTO contacts (account, fields, email, mobile, phone, dedup_key,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                account,
                json.dumps(fields, ensure_ascii=False),
                *_means(canonical),
                key,
                self.now,
                self.now,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def update(
        self, contact_id: int, fields: dict[str, str], canonical: dict[str, str]
    ) -> None:
        """Replace a contact's fields and canonical means of contact."""
        self.connection.execute(
            "UPDATE contacts SET fields = ?, email = ?, mobile = ?, phone = ?, updated_at = ?"
            " WHERE id = ?",
            (
                json.dumps(fields, ensure_ascii=False),
                *_means(canonical),
                self.now,
                contact_id,
            ),
        )

    def matching(self, account: str, column: str, value: str) -> list[int]:
        """Return the ids of `account`'s contacts whose means `column` is `value`."""
        store_column = CANONICAL_COLUMNS[column]
        rows = self.connection.execute(
            f"SELECT id FROM contacts WHERE account = ? AND {store_column} = ? ORDER BY id",
            (account, value),
        )
        return [id_ for (id_,) in rows]

    def delete(self, contact_id: int) -> None:
        """Remove a contact with its memberships and opt-outs."""
        for statement in (
            "DELETE FROM memberships WHERE contact_id = ?",
            "DELETE FROM optouts WHERE contact_id = ?",
            "DELETE FROM contacts WHERE id = ?",
        ):
            self.connection.execute(statement, (contact_id,))

    def opt_out(self, contact_id: int, media: Media) -> bool:
        """Opt a contact out of `media`; return False if it already was."""
        cursor = self.connection.execute(
            "INSERT OR IGNORE INTO optouts (contact_id, media) VALUES (?, ?)",
            (contact_id, media.value),
        )
        return cursor.rowcount > 0

    def opt_in(self, contact_id: int, media: Media) -> bool:
        """Opt a contact back in to `media`; return False if it was not opted out."""
        cursor = self.connection.execute(
            "DELETE FROM optouts WHERE contact_id = ? AND media = ?",
            (contact_id, media.value),
        )
        return cursor.rowcount > 0

    def suppressions(self, account: str) -> set[tuple[str, str]]:
        """Return the suppressed `(media, canonical value)` pairs of `account`."""
        rows = self.connection.execute(
            "SELECT media, value FROM suppressions WHERE account = ?", (account,)
        )
        return {(media, value) for media, value in rows}

    def suppress(self, account: str, media: Media, value: str) -> bool:
        """Record a means of contact as opted out of `media`; False if it already was."""
        cursor = self.connection.execute(
            'INSERT OR IGNORE INTO suppressions (account, media, "column", value)'
            " VALUES (?, ?, ?, ?)",
            (account, media.value, media.contact_column, value),
        )
        return cursor.rowcount > 0

    def lift(self, account: str, media: Media, value: str) -> bool:
        """Remove a suppression; return False if there was none."""
        cursor = self.connection.execute(
            "DELETE FROM suppressions WHERE account = ? AND media = ? AND value = ?",
            (account, media.value, value),
        )
        return cursor.rowcount > 0

    def recompute_keys(self, criterion: Dedup) -> int:
        """Recompute every contact's dedup key under `criterion`; return the count."""
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
