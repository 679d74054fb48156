"""Delete: allowed under the triplet and reference criteria only.

delete_base.csv imports R1 Anne (e-mail, fixed phone, mobile), R2 Bruno
(e-mail, mobile) and R3 Claire (e-mail only) into the list `clients`.
"""

from __future__ import annotations

import pytest
from rules_support import Deposit, counts


def test_delete_by_reference(tmp_path):
    deposit = Deposit(tmp_path, {"account": {"dedup": "reference"}})
    deposit.deposit_data("import", "delete_base.csv", "clients.csv")

    record = deposit.deposit_data("delete", "delete_by_reference.csv")

    # R1 goes, R9 matches no contact, and the row without Référence is invalid.
    assert record["stage"] == "ok"
    assert record["counts"] == counts(deleted=1, unchanged=1, invalid=1)
    assert sorted(deposit.contacts_by("Nom")) == ["Martin", "Petit"]
    assert deposit.list_sizes() == [("default", "clients", 2)]


def test_delete_by_triplet(tmp_path):
    deposit = Deposit(tmp_path, {"account": {"dedup": "email_phone_mobile"}})
    deposit.deposit_data("import", "delete_base.csv", "clients.csv")

    record = deposit.deposit_data("delete", "delete_by_triplet.csv")

    # Anne matches in other spellings; Bruno's row lacks his mobile, so it
    # matches no contact; Claire matches; the row with "bad@" is invalid.
    assert record["counts"] == counts(deleted=2, unchanged=1, invalid=1)
    assert sorted(deposit.contacts_by("Nom")) == ["Martin"]


def test_delete_of_opted_out_contact(tmp_path):
    deposit = Deposit(tmp_path, {"account": {"dedup": "reference"}})
    deposit.deposit_data("import", "delete_base.csv", "clients.csv")
    deposit.deposit_text("optoutSMS", "stop.csv", "Mobile\n0612345678\n")

    deposit.deposit_data("delete", "delete_by_reference.csv")

    assert deposit.store.suppressions() == []
    assert [contact["optout"] for contact in deposit.store.contacts()] == [[], []]


def test_triplet_delete_needs_all_columns(tmp_path):
    deposit = Deposit(tmp_path, {"account": {"dedup": "email_phone_mobile"}})

    record = deposit.deposit_data("delete", "delete_without_mobile.csv")

    assert record["stage"] == "ko"
    assert record["reason"] == (
        "the header has no Mobile column, which a delete under the "
        "email_phone_mobile criterion matches contacts on; add it"
    )


@pytest.mark.parametrize(
    "criterion",
    ["none", "extended", "email", "mobile", "phone"],
    ids=["none", "extended", "email", "mobile", "phone"],
)
def test_delete_refused_by_criterion(tmp_path, criterion):
    deposit = Deposit(tmp_path, {"account": {"dedup": criterion}})
    deposit.deposit_data("import", "delete_base.csv", "clients.csv")

    record = deposit.deposit_data("delete", "delete_by_triplet.csv")

    assert record["stage"] == "ko"
    assert record["reason"] == (
        f"delete is not available under the account's {criterion} dedup criterion; "
        "the deposit deletes only under the email_phone_mobile or reference criterion"
    )
    assert len(deposit.store.contacts()) == 3
