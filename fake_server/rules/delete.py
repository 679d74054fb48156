"""The delete action, allowed only under the triplet and reference criteria.

A row deletes every contact of its account whose dedup key equals the row's:
under `reference` its Référence, under `email_phone_mobile` its Email,
Téléphone Fixe and Mobile together (an empty value matching only an empty
value). Counts: `deleted` per contact removed, `unchanged` per row matching
none, `invalid` per row without a key, with an invalid means of contact
under the triplet, or with an unknown dispatch reference.
"""

from __future__ import annotations

from digitaleo_client.contacts import columns
from digitaleo_client.contacts.account import Dedup
from fake_server.rules.contacts import dedup_key
from fake_server.rules.context import FileContext
from fake_server.rules.reader import DepositTable, Rejected


def check_delete_allowed(table: DepositTable, context: FileContext) -> None:
    """Raise Rejected when the account's criterion or the header rules out a delete.

    Under the triplet criterion the header must hold Email, Téléphone Fixe
    and Mobile, because a missing column would read as empty values and
    match other contacts than the ones meant.
    """
    criterion = context.settings.dedup
    if not criterion.allows_delete:
        raise Rejected(
            f"delete is not available under the account's {criterion.value} dedup "
            "criterion; the deposit deletes only under the email_phone_mobile or "
            "reference criterion"
        )
    missing = [column for column in criterion.key_columns if not table.has(column)]
    if missing:
        raise Rejected(
            f"the header has no {', '.join(missing)} column, which a delete under the "
            f"{criterion.value} criterion matches contacts on; add it"
        )


def delete_contacts(table: DepositTable, context: FileContext) -> None:
    """Delete the contacts the file lists, counting what happened."""
    check_delete_allowed(table, context)
    book = context.book
    criterion = context.settings.dedup

    for _line, values in table.rows:
        verdict = context.validator.check(values)
        account = context.account_of(values)
        fields = {
            column: value
            for column, value in values.items()
            if column != columns.DISPATCH
        }
        key = dedup_key(criterion, fields, verdict.canonical)
        broken_triplet = (
            criterion is Dedup.EMAIL_PHONE_MOBILE and verdict.invalid_values
        )
        if account is None or key is None or broken_triplet:
            context.counts["invalid"] += 1
            continue

        contact_ids = book.find_all(account, key)
        if not contact_ids:
            context.counts["unchanged"] += 1
        for contact_id in contact_ids:
            book.delete(contact_id)
            context.counts["deleted"] += 1
