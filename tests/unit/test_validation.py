"""Contact validity, with the verdicts the deposit's rules give by hand."""

import pytest

from digitaleo_client.contacts.account import AccountSettings, Dedup, InvalidValues
from digitaleo_client.contacts.validation import ContactValidator, RejectReason

DEFAULT = ContactValidator(AccountSettings())


@pytest.mark.parametrize(
    ("row", "reason", "invalid_columns"),
    [
        ({"Email": "pierre.dupont@example.com ", "Téléphone Fixe": "0286786589"}, None, []),
        ({"Téléphone Fixe": "05.80.99.90.68"}, None, []),
        ({"Téléphone Fixe": "336 90 78 56 90"}, RejectReason.NO_VALID_MEANS, ["Téléphone Fixe"]),
        ({"Mobile": "06 39 98 12 34"}, RejectReason.NO_VALID_MEANS, ["Mobile"]),
        ({"Mobile": "01 45 67 89 10"}, RejectReason.NO_VALID_MEANS, ["Mobile"]),
        ({"Mobile": "+33 6 12 34 56 78"}, None, []),
        ({"Mobile": "0033612345678"}, None, []),
        ({"Mobile": "33612345678"}, None, []),
        ({"Email": "bad@", "Mobile": "0612345678"}, None, ["Email"]),
        ({"Nom": "Dupont"}, RejectReason.NO_VALID_MEANS, []),
    ],
    ids=[
        "email-and-fixed",
        "dotted-fixed",
        "overseas-fixed",
        "fiction-mobile",
        "fixed-in-mobile",
        "plus33-mobile",
        "0033-mobile",
        "33-without-plus",
        "invalid-email-dropped",
        "no-means",
    ],
)
def test_default_account_verdicts(row, reason, invalid_columns):
    verdict = DEFAULT.check(row)
    assert verdict.reject_reason == reason
    assert [value.column for value in verdict.invalid_values] == invalid_columns


def test_strict_account_rejects_invalid_secondary():
    strict = ContactValidator(AccountSettings(invalid_values=InvalidValues.REJECT_CONTACT))
    verdict = strict.check({"Email": "bad@", "Mobile": "0612345678"})
    assert verdict.reject_reason is RejectReason.INVALID_VALUE


def test_reference_criterion_needs_reference():
    validator = ContactValidator(AccountSettings(dedup=Dedup.REFERENCE))
    verdict = validator.check({"Email": "a@example.com", "Référence": " "})
    assert verdict.reject_reason is RejectReason.MISSING_REFERENCE


def test_unknown_dispatch_reference():
    validator = ContactValidator(AccountSettings(dispatch={"AO201": "rennes"}))
    assert validator.check({"Email": "a@example.com", "dispatch": "AO201"}).valid
    verdict = validator.check({"Email": "a@example.com", "dispatch": "AO999"})
    assert verdict.reject_reason is RejectReason.UNKNOWN_DISPATCH


def test_canonical_forms():
    verdict = DEFAULT.check({"Email": "Pierre@Example.com", "Mobile": "06 12 34 56 78"})
    assert verdict.canonical == {"Email": "pierre@example.com", "Mobile": "+33612345678"}
