"""Opt-out and opt-in per media, with suppression of unknown means of contact.

optout_base.csv imports Anne (06 12 34 56 78, 01 45 67 89 10) and Bruno.
Each means_<MEDIA>.csv lists Anne's value for that media in another
spelling, a value no contact holds, and a value invalid for the column.
"""

from __future__ import annotations

import pytest
from rules_support import Deposit, counts

MEDIA_CASES = [
    ("EMAIL", "Email", "zoe@example.com"),
    ("SMS", "Mobile", "+33612345699"),
    ("VOICE", "Téléphone Fixe", "+33145678999"),
    ("VOICEMAIL", "Mobile", "+33612345699"),
]
MEDIA_IDS = [media for media, _, _ in MEDIA_CASES]


@pytest.fixture
def deposit(tmp_path):
    deposit = Deposit(tmp_path)
    deposit.deposit_data("import", "optout_base.csv", "clients.csv")
    return deposit


def optouts(deposit):
    return {
        name: contact["optout"] for name, contact in deposit.contacts_by("Nom").items()
    }


@pytest.mark.parametrize(("media", "column", "unknown"), MEDIA_CASES, ids=MEDIA_IDS)
def test_optout_per_media(deposit, media, column, unknown):
    record = deposit.deposit_data(f"optout{media}", f"means_{media}.csv")

    assert record["stage"] == "ok"
    assert record["action"] == "optout"
    assert record["media"] == media
    assert record["list"] is None
    assert record["counts"] == counts(opted_out=1, suppressed=1, invalid=1)
    assert optouts(deposit) == {"Leroy": [media], "Martin": []}
    assert deposit.store.suppressions() == [
        {"account": "default", "media": media, "column": column, "value": unknown}
    ]


@pytest.mark.parametrize(("media", "column", "unknown"), MEDIA_CASES, ids=MEDIA_IDS)
def test_optin_per_media(deposit, media, column, unknown):
    deposit.deposit_data(f"optout{media}", f"means_{media}.csv")

    record = deposit.deposit_data(f"optin{media}", f"means_{media}.csv")

    assert record["action"] == "optin"
    # Anne opted back in, and the unknown value's suppression lifted.
    assert record["counts"] == counts(opted_in=2, invalid=1)
    assert optouts(deposit) == {"Leroy": [], "Martin": []}
    assert deposit.store.suppressions() == []


def test_optout_twice_is_unchanged(deposit):
    deposit.deposit_data("optoutSMS", "means_SMS.csv")

    record = deposit.deposit_data("optoutSMS", "means_SMS.csv")

    assert record["counts"] == counts(unchanged=1, suppressed=1, invalid=1)
    assert len(deposit.store.suppressions()) == 1


def test_optin_of_active_is_unchanged(deposit):
    record = deposit.deposit_data("optinSMS", "means_SMS.csv")

    assert record["counts"] == counts(unchanged=2, invalid=1)


def test_sms_and_voicemail_independent(deposit):
    deposit.deposit_data("optoutSMS", "means_SMS.csv")
    deposit.deposit_data("optoutVOICEMAIL", "means_VOICEMAIL.csv")
    deposit.deposit_data("optinSMS", "means_SMS.csv")

    assert optouts(deposit) == {"Leroy": ["VOICEMAIL"], "Martin": []}


def test_suppressed_means_stays_opted_out(deposit):
    deposit.deposit_data("optoutSMS", "means_SMS.csv")

    record = deposit.deposit_data("import", "suppressed_mobile.csv", "new.csv")

    assert record["counts"] == counts(created=1, suppressed=1)
    assert deposit.contacts_by("Nom")["Zoé"]["optout"] == ["SMS"]


def test_optin_lifts_suppression_for_imports(deposit):
    deposit.deposit_data("optoutSMS", "means_SMS.csv")
    deposit.deposit_data("import", "suppressed_mobile.csv", "new.csv")

    optin = deposit.deposit_data("optinSMS", "means_SMS.csv")
    again = deposit.deposit_data("import", "suppressed_mobile.csv", "new.csv")

    # Anne and Zoé opted back in; the suppression of Zoé's mobile is gone.
    assert optin["counts"] == counts(opted_in=2, invalid=1)
    assert again["counts"] == counts(unchanged=1)
    assert optouts(deposit) == {"Leroy": [], "Martin": [], "Zoé": []}


def test_optout_without_media_column(deposit):
    record = deposit.deposit_data("optoutSMS", "email_only.csv")

    assert record["stage"] == "ko"
    assert record["reason"] == (
        "the header has no Mobile column, which the SMS media matches contacts on; add it"
    )


def test_optout_per_account(tmp_path):
    deposit = Deposit(tmp_path, {"dispatch": {"AO201": "rennes", "AO360": "nantes"}})
    deposit.deposit_data("import", "dispatch.csv", "clients.csv")

    record = deposit.deposit_text(
        "optoutEMAIL", "stop.csv", "Email;dispatch\nanne@example.com;AO360\n"
    )

    assert record["counts"] == counts(opted_out=1)
    states = [
        (contact["account"], contact["optout"]) for contact in deposit.store.contacts()
    ]
    assert states == [("rennes", []), ("nantes", ["EMAIL"]), ("rennes", [])]
