"""Contact validity: means of contact, invalid values, reference and dispatch."""

from __future__ import annotations

import pytest
from rules_support import Deposit, counts

# validity.csv, row by row, on a French account:
#   all-valid         e-mail, mobile and fixed phone valid
#   invalid-email     "bad@" invalid, mobile valid
#   fiction-mobile    06 39 98 ... lies in the fiction range, fixed phone valid
#   fixed-in-mobile   01 45 ... is a fixed number written as Mobile: no valid means
#   33-without-plus   33612345680 read as +33 6 12 34 56 80
#   0033-prefix       0033612345681 read as +33 6 12 34 56 81
#   overseas-fixed    336 90 78 56 90 is +33 6 90 ..., out of assigned ranges
#   no-means          nothing to reach the contact by


@pytest.mark.parametrize(
    ("invalid_values", "expected_counts", "imported"),
    [
        (
            "ignore",
            counts(created=5, invalid=3, invalid_values=2),
            [
                "0033-prefix",
                "33-without-plus",
                "all-valid",
                "fiction-mobile",
                "invalid-email",
            ],
        ),
        (
            "reject_contact",
            counts(created=3, invalid=5),
            ["0033-prefix", "33-without-plus", "all-valid"],
        ),
    ],
    ids=["ignore-drops-values", "reject-contact"],
)
def test_invalid_values_setting(tmp_path, invalid_values, expected_counts, imported):
    deposit = Deposit(tmp_path, {"account": {"invalid_values": invalid_values}})

    record = deposit.deposit_data("import", "validity.csv")

    assert record["stage"] == "ok"
    assert record["counts"] == expected_counts
    assert sorted(deposit.contacts_by("Nom")) == imported


def test_ignored_values_are_not_stored(tmp_path):
    deposit = Deposit(tmp_path)

    deposit.deposit_data("import", "validity.csv")

    contacts = deposit.contacts_by("Nom")
    assert contacts["invalid-email"]["fields"] == {
        "Mobile": "06 12 34 56 79",
        "Nom": "invalid-email",
    }
    assert contacts["fiction-mobile"]["fields"] == {
        "Téléphone Fixe": "01 45 67 89 11",
        "Nom": "fiction-mobile",
    }


@pytest.mark.parametrize(
    ("country", "imported"),
    [
        ("BE", ["international-fr", "national-be"]),
        ("FR", ["international-fr", "national-fr"]),
    ],
    ids=["belgium", "france"],
)
def test_country_reads_national_numbers(tmp_path, country, imported):
    deposit = Deposit(tmp_path, {"account": {"country": country}})

    record = deposit.deposit_data("import", "belgian.csv")

    assert record["counts"] == counts(created=2, invalid=1)
    assert sorted(deposit.contacts_by("Nom")) == imported


def test_reference_criterion_needs_value(tmp_path):
    deposit = Deposit(tmp_path, {"account": {"dedup": "reference"}})

    record = deposit.deposit_data("import", "reference_rows.csv")

    assert record["counts"] == counts(created=1, invalid=1)
    assert list(deposit.contacts_by("Nom")) == ["with-reference"]


def test_dispatch_per_account(tmp_path):
    deposit = Deposit(tmp_path, {"dispatch": {"AO201": "rennes", "AO360": "nantes"}})

    record = deposit.deposit_data("import", "dispatch.csv", "clients.csv")

    # Anne goes to both accounts, each deduplicating on its own; AO999 is
    # no reference of the map, so Bruno is invalid.
    assert record["counts"] == counts(created=3, invalid=1)
    assert deposit.list_sizes() == [("rennes", "clients", 2), ("nantes", "clients", 1)]
    contacts = [
        (contact["account"], contact["fields"]) for contact in deposit.store.contacts()
    ]
    assert contacts == [
        ("rennes", {"Email": "anne@example.com", "Nom": "Leroy"}),
        ("nantes", {"Email": "anne@example.com", "Nom": "Leroy"}),
        ("rennes", {"Email": "claire@example.com", "Nom": "Petit"}),
    ]


def test_dispatch_dedup_within_account(tmp_path):
    deposit = Deposit(tmp_path, {"dispatch": {"AO201": "rennes", "AO360": "nantes"}})

    deposit.deposit_data("import", "dispatch.csv", "clients.csv")
    record = deposit.deposit_data("import", "dispatch.csv", "clients.csv")

    assert record["counts"] == counts(unchanged=3, invalid=1)
