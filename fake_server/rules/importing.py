"""The import action: validate each contact, deduplicate, and fill the list.

- Mode 1 (create) makes a new list for every file, even when one of the
  same name exists.
- Mode 2 (add) adds the file's contacts to the newest list of that name,
  created if missing.
- Mode 3 (sync) leaves the newest list of that name holding exactly the
  file's valid contacts, created if missing.

On a single-account deposit the list is opened before the first row, so a
file without valid contacts still creates (mode 1) or empties (mode 3) its
list. On a multi-account deposit each account gets its own list, opened when
the file's first valid contact for that account is read. Lists of accounts
that the file sends no valid contact to stay untouched.

Counts:
- `created` and `updated` per contact, and `unchanged` per matched contact
  whose fields stay the same.
- `invalid` per rejected row, and `invalid_values` per value left out of an
  imported contact.
- `suppressed` per media that a contact is opted out of because its means
  of contact is suppressed.
"""

from __future__ import annotations

from digitaleo_client.contacts import columns
from digitaleo_client.contacts.validation import InvalidValue
from digitaleo_client.deposit import ImportMode, Media
from fake_server.rules.contacts import dedup_key
from fake_server.rules.context import FileContext
from fake_server.rules.reader import DepositTable


class ListTarget:
    """The list each account's contacts join, opened on first use."""

    def __init__(self, context: FileContext, name: str, mode: ImportMode) -> None:
        self.context = context
        self.name = name
        self.mode = mode
        self._list_ids: dict[str, int] = {}

    def list_id(self, account: str) -> int:
        """Return the id of the list `account`'s contacts join, opening it once."""
        list_id = self._list_ids.get(account)
        if list_id is None:
            list_id = self._open(account)
            self._list_ids[account] = list_id
        return list_id

    def add(self, account: str, contact_id: int) -> None:
        """Make a contact a member of `account`'s list."""
        self.context.book.add_member(self.list_id(account), contact_id)

    def _open(self, account: str) -> int:
        self.context.book.flush()
        connection = self.context.book.connection
        if self.mode is not ImportMode.CREATE:
            row = connection.execute(
                "SELECT id FROM lists WHERE account = ? AND name = ? ORDER BY id DESC LIMIT 1",
                (account, self.name),
            ).fetchone()
            if row is not None:
                if self.mode is ImportMode.SYNC:
                    connection.execute(
                        "DELETE FROM memberships WHERE list_id = ?", (row[0],)
                    )
                return int(row[0])
        cursor = connection.execute(
            "INSERT INTO lists (name, account, created_at) VALUES (?, ?, ?)",
            (self.name, account, self.context.now),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid


def import_contacts(
    table: DepositTable, context: FileContext, list_name: str, mode: ImportMode
) -> None:
    """Apply an import file to the store, counting what happened in `context.counts`.

    Invalid contacts are skipped and counted; a valid contact's invalid
    values are left out and counted. Raises Rejected (from the table) when a
    row breaks the format.
    """
    target = ListTarget(context, list_name, mode)
    if not context.settings.multi_account:
        target.list_id(context.default_account)
    suppressed: dict[str, set[tuple[str, str]]] = {}

    for _line, values in table.rows:
        verdict = context.validator.check(values)
        account = context.account_of(values)
        if not verdict.valid or account is None:
            context.counts["invalid"] += 1
            continue
        fields = _kept_fields(values, verdict.invalid_values)
        context.counts["invalid_values"] += len(verdict.invalid_values)

        contact_id, canonical = _save(context, account, fields, verdict.canonical)
        if account not in suppressed:
            suppressed[account] = context.book.suppressions(account)
        if suppressed[account]:
            _apply_suppressions(context, contact_id, canonical, suppressed[account])
        target.add(account, contact_id)


def _kept_fields(values: dict[str, str], invalid: list[InvalidValue]) -> dict[str, str]:
    """Return a row's values without its invalid values and its dispatch reference."""
    if not invalid and columns.DISPATCH not in values:
        return values
    dropped = {value.column for value in invalid}
    dropped.add(columns.DISPATCH)
    return {column: value for column, value in values.items() if column not in dropped}


def _save(
    context: FileContext,
    account: str,
    fields: dict[str, str],
    canonical: dict[str, str],
) -> tuple[int, dict[str, str]]:
    """Create the contact or update its match; return its id and canonical means."""
    book = context.book
    key = dedup_key(context.settings.dedup, fields, canonical)
    existing = book.find(account, key) if key is not None else None
    if existing is None:
        context.counts["created"] += 1
        return book.create(account, fields, canonical, key), canonical

    merged_fields = existing.fields | fields
    merged_canonical = existing.canonical | canonical
    if merged_fields == existing.fields and merged_canonical == existing.canonical:
        context.counts["unchanged"] += 1
    else:
        context.counts["updated"] += 1
        book.update(existing.id, merged_fields, merged_canonical)
    return existing.id, merged_canonical


def _apply_suppressions(
    context: FileContext,
    contact_id: int,
    canonical: dict[str, str],
    suppressed: set[tuple[str, str]],
) -> None:
    """Opt a contact out of each media whose means of contact is suppressed."""
    for media in Media:
        value = canonical.get(media.contact_column)
        if value is None or (media.value, value) not in suppressed:
            continue
        if context.book.opt_out(contact_id, media):
            context.counts["suppressed"] += 1
