"""Import: the published example, the three modes and updates of matched contacts."""

from __future__ import annotations

import pytest
from rules_support import Deposit, counts

from digitaleo_client.deposit import ImportMode


@pytest.fixture
def deposit(tmp_path):
    return Deposit(tmp_path)


def test_published_example_imports_three(deposit):
    record = deposit.deposit_data("import", "published_example.csv", "mylist.csv")

    assert record["stage"] == "ok"
    assert record["name"] == "1447797847_mylist.csv"
    assert record["list"] == "mylist"
    # The last row's fixed phone, +33 6 90 ..., is an overseas number out of
    # any assigned range: dropped, while its e-mail keeps the contact.
    assert record["counts"] == counts(created=3, invalid_values=1)
    assert (deposit.root / "contacts/import/ok/1447797847_mylist.csv").is_file()
    assert deposit.list_sizes() == [("default", "mylist", 3)]
    michel = deposit.contacts_by("Référence")["785645P"]
    assert michel["fields"] == {
        "Référence": "785645P",
        "Civilité": "M.",
        "Prénom": "Michel",
        "Nom": "DURAND",
        "Email": "michel.durand@example.com",
    }


def test_accents_read_as_iso_8859_1(deposit):
    deposit.deposit_data("import", "published_example.csv")

    assert deposit.contacts_by("Référence")["67676F6"]["fields"]["Civilité"] == "Mme"
    assert set(deposit.store.contacts()[0]["fields"]) >= {
        "Référence",
        "Civilité",
        "Prénom",
    }


# Members of clients_second.csv, by e-mail.
SECOND_FILE = [
    "bruno.martin@example.com",
    "denis.roux@example.com",
    "helene.petit@example.com",
]


@pytest.mark.parametrize(
    ("mode", "second_counts", "lists", "last_list_members"),
    [
        (
            ImportMode.CREATE,
            counts(created=1, updated=1, unchanged=1),
            [("default", "clients", 3), ("default", "clients", 3)],
            SECOND_FILE,
        ),
        (
            ImportMode.ADD,
            counts(created=1, updated=1, unchanged=1),
            [("default", "clients", 4)],
            [
                "anne.leroy@example.com",
                "bruno.martin@example.com",
                "denis.roux@example.com",
                "helene.petit@example.com",
            ],
        ),
        (
            ImportMode.SYNC,
            counts(created=1, updated=1, unchanged=1),
            [("default", "clients", 3)],
            SECOND_FILE,
        ),
    ],
    ids=["mode1-new-list", "mode2-union", "mode3-exactly-second"],
)
def test_mode_twice(deposit, mode, second_counts, lists, last_list_members):
    deposit.set_mode(mode)

    first = deposit.deposit_data("import", "clients_first.csv", "clients.csv")
    second = deposit.deposit_data("import", "clients_second.csv", "clients.csv")

    assert first["counts"] == counts(created=3)
    assert second["counts"] == second_counts
    assert deposit.list_sizes() == lists
    assert deposit.members(-1, "Email") == last_list_members
    # Contacts outlive their lists: sync only changes the membership.
    assert len(deposit.store.contacts()) == 4


def test_no_dotfile_means_mode1(deposit):
    deposit.set_mode()

    deposit.deposit_data("import", "clients_first.csv", "clients.csv")
    deposit.deposit_data("import", "clients_first.csv", "clients.csv")

    assert deposit.list_sizes() == [
        ("default", "clients", 3),
        ("default", "clients", 3),
    ]


def test_update_keeps_values_absent_from_file(deposit):
    deposit.deposit_data("import", "clients_first.csv", "clients.csv")
    deposit.deposit_data("import", "clients_second.csv", "clients.csv")

    bruno = deposit.contacts_by("Email")["bruno.martin@example.com"]
    assert bruno["fields"] == {
        "Email": "bruno.martin@example.com",
        "Prénom": "Bruno-Yves",
        "Nom": "Martin",
        "Mobile": "0612345679",
    }


@pytest.mark.parametrize(
    ("data_name", "reason"),
    [
        (
            "unbalanced_quotes.csv",
            "line 3 cannot be read: unexpected end of data; check the quotes on that line",
        ),
        (
            "extra_field.csv",
            (
                "line 3 has 3 fields but the header has 2; check the separator and "
                "the quotes on that line"
            ),
        ),
    ],
    ids=["unbalanced-quotes", "extra-field"],
)
def test_bad_csv_goes_to_ko_unchanged(deposit, data_name, reason):
    record = deposit.deposit_data("import", data_name, "broken.csv")

    assert record["stage"] == "ko"
    assert record["reason"] == reason
    assert record["counts"] == counts()
    assert (deposit.root / "contacts/import/ko/1447797847_broken.csv").is_file()
    assert deposit.store.contacts() == []
    assert deposit.store.lists() == []
