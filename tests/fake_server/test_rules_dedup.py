"""Deduplication: each of the seven criteria on the same hand-made rows.

dedup_base.csv holds one contact, Anne. dedup_incoming.csv holds six rows:
A repeats Anne in other spellings (upper-case e-mail, phones in other
forms), B shares only her e-mail, C only her mobile, D only her fixed
phone, E only her Référence (R1), and F her e-mail, fixed phone and mobile
without her address or social ids. Rows are applied in order, so a later
row updates what an earlier one created or updated.
"""

from __future__ import annotations

import pytest
from rules_support import Deposit, counts

from digitaleo_client.contacts.account import Dedup


@pytest.mark.parametrize(
    ("criterion", "expected_counts", "first_names"),
    [
        (
            Dedup.NONE,
            counts(created=6),
            ["Anne", "Anne-A", "Anne-B", "Anne-C", "Anne-D", "Anne-E", "Anne-F"],
        ),
        (
            Dedup.EMAIL_PHONE_MOBILE,
            counts(created=4, updated=2),
            ["Anne-B", "Anne-C", "Anne-D", "Anne-E", "Anne-F"],
        ),
        (
            Dedup.EXTENDED,
            counts(created=5, updated=1),
            ["Anne-A", "Anne-B", "Anne-C", "Anne-D", "Anne-E", "Anne-F"],
        ),
        (
            Dedup.REFERENCE,
            counts(created=4, updated=2),
            ["Anne-B", "Anne-C", "Anne-D", "Anne-E", "Anne-F"],
        ),
        (
            Dedup.EMAIL,
            counts(created=3, updated=3),
            ["Anne-C", "Anne-D", "Anne-E", "Anne-F"],
        ),
        (
            Dedup.MOBILE,
            counts(created=3, updated=3),
            ["Anne-B", "Anne-D", "Anne-E", "Anne-F"],
        ),
        (
            Dedup.PHONE,
            counts(created=3, updated=3),
            ["Anne-B", "Anne-C", "Anne-E", "Anne-F"],
        ),
    ],
    ids=[
        "1-none",
        "2-triplet",
        "3-extended",
        "4-reference",
        "5-email",
        "6-mobile",
        "7-phone",
    ],
)
def test_criterion_matches(tmp_path, criterion, expected_counts, first_names):
    deposit = Deposit(tmp_path, {"account": {"dedup": criterion.value}})

    deposit.deposit_data("import", "dedup_base.csv")
    record = deposit.deposit_data("import", "dedup_incoming.csv")

    assert record["counts"] == expected_counts
    prenoms = sorted(
        contact["fields"]["Prénom"] for contact in deposit.store.contacts()
    )
    assert prenoms == first_names


def test_same_row_twice_is_unchanged(tmp_path):
    deposit = Deposit(tmp_path)

    deposit.deposit_data("import", "dedup_base.csv")
    record = deposit.deposit_data("import", "dedup_base.csv")

    assert record["counts"] == counts(unchanged=1)
    assert len(deposit.store.contacts()) == 1


def test_update_merges_spelling_of_file(tmp_path):
    deposit = Deposit(tmp_path, {"account": {"dedup": "email"}})

    deposit.deposit_data("import", "dedup_base.csv")
    deposit.deposit_data("import", "dedup_incoming.csv")

    anne = deposit.contacts_by("Prénom")["Anne-F"]
    # Row F wrote its own spelling of the e-mail and phones, and row E's
    # mobile was never matched; the address stays from the base file.
    assert anne["fields"] == {
        "Référence": "R5",
        "Email": "anne@example.com",
        "Téléphone Fixe": "01 45 67 89 10",
        "Mobile": "06 12 34 56 78",
        "Adresse 1": "1 rue de la Paix",
        "Ville": "Paris",
        "Code postal": "75002",
        "Facebook ID": "fb.anne",
        "Twitter ID": "@anne",
        "Prénom": "Anne-F",
    }


def test_changed_criterion_recomputes_keys(tmp_path):
    first = Deposit(tmp_path, {"account": {"dedup": "email"}})
    first.deposit_data("import", "dedup_base.csv")
    first.store.close()

    second = Deposit(tmp_path, {"account": {"dedup": "mobile"}})
    record = second.deposit_data("import", "dedup_incoming.csv", "again.csv")

    # Under the mobile criterion rows A, C and F match the stored Anne.
    assert record["counts"] == counts(created=3, updated=3)
