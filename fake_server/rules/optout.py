"""Opt-out and opt-in: per media, matched on the means of contact the media uses.

EMAIL matches on Email, SMS and VOICEMAIL on Mobile, VOICE on Téléphone Fixe,
always in canonical form, whatever the account's dedup criterion. Every
contact of the account with that value is changed.

Counts of an opt-out:
- `opted_out` per contact newly opted out, `unchanged` per contact that
  already was.
- `suppressed` per value that no contact has. The value is recorded, and a
  later import of it stays opted out.
- `invalid` per row without a valid value in the media's column, or with an
  unknown dispatch reference.

Counts of an opt-in:
- `opted_in` per contact opted back in, or per suppression lifted when no
  contact has the value. The suppression of the value is lifted in every
  case.
- `unchanged` per contact that was not opted out, and per unknown value
  that was not suppressed.
- `invalid` as for an opt-out.
"""

from __future__ import annotations

from collections.abc import Iterator

from digitaleo_client.deposit import Media
from fake_server.rules.context import FileContext
from fake_server.rules.reader import DepositTable, Rejected


def check_media_column(table: DepositTable, media: Media) -> None:
    """Raise Rejected when the file lacks the column `media` matches on."""
    if not table.has(media.contact_column):
        raise Rejected(
            f"the header has no {media.contact_column} column, which the {media.value} "
            f"media matches contacts on; add it"
        )


def opt_out(table: DepositTable, context: FileContext, media: Media) -> None:
    """Opt the file's contacts out of `media`, suppressing unknown values."""
    check_media_column(table, media)
    book = context.book
    for account, value in _matched_values(table, context, media):
        contact_ids = book.matching(account, media.contact_column, value)
        if not contact_ids:
            book.suppress(account, media, value)
            context.counts["suppressed"] += 1
        for contact_id in contact_ids:
            changed = book.opt_out(contact_id, media)
            context.counts["opted_out" if changed else "unchanged"] += 1


def opt_in(table: DepositTable, context: FileContext, media: Media) -> None:
    """Opt the file's contacts back in to `media` and lift suppressions of them."""
    check_media_column(table, media)
    book = context.book
    for account, value in _matched_values(table, context, media):
        contact_ids = book.matching(account, media.contact_column, value)
        lifted = book.lift(account, media, value)
        if not contact_ids:
            context.counts["opted_in" if lifted else "unchanged"] += 1
        for contact_id in contact_ids:
            changed = book.opt_in(contact_id, media)
            context.counts["opted_in" if changed else "unchanged"] += 1


def _matched_values(
    table: DepositTable, context: FileContext, media: Media
) -> Iterator[tuple[str, str]]:
    """Yield `(account, canonical value)` of each valid row, counting invalid ones."""
    for _line, values in table.rows:
        verdict = context.validator.check(values)
        account = context.account_of(values)
        value = verdict.canonical.get(media.contact_column)
        if account is None or value is None:
            context.counts["invalid"] += 1
            continue
        yield account, value
