"""Matching export headers to the deposit's French column names."""

import pytest

from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.contacts.headers import (
    load_mapping_file,
    parse_mapping_items,
    plan_columns,
)
from digitaleo_client.errors import ConfigurationError, InputFileError

DEFAULT = AccountSettings()


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Prénom", "Prénom"),
        ("PRENOM", "Prénom"),
        (" prénom ", "Prénom"),
        ('"Téléphone Fixe"', "Téléphone Fixe"),
        ("TELEPHONE_FIXE", "Téléphone Fixe"),
        ("first_name", "Prénom"),
        ("FirstName", "Prénom"),
        ("Given Name", "Prénom"),
        ("last-name", "Nom"),
        ("Surname", "Nom"),
        ("E-mail", "Email"),
        ("mail", "Email"),
        ("phone", "Téléphone Fixe"),
        ("Landline", "Téléphone Fixe"),
        ("cell", "Mobile"),
        ("Portable", "Mobile"),
        ("customer_id", "Référence"),
        ("reference", "Référence"),
        ("ZIP", "Code postal"),
        ("Postcode", "Code postal"),
        ("city", "Ville"),
        ("Company", "Société"),
        ("country", "Pays"),
        ("birthdate", "Date de naissance"),
        ("Date of birth", "Date de naissance"),
        ("civilite", "Civilité"),
        ("Champ 3", "Champ 3"),
        ("dispatch", "dispatch"),
    ],
    ids=lambda value: value.strip().replace(" ", "-") or "blank",
)
def test_alias(header, column):
    plan = plan_columns(["email", header] if column != "Email" else [header], DEFAULT)
    assert plan.sources[-1] == column


def test_custom_field_names():
    account = AccountSettings(custom_fields=("Fidélité", "Segment"))
    plan = plan_columns(["Email", "FIDELITE", "champ 2", "Champ 3"], account)
    assert plan.sources == ["Email", "Fidélité", "Segment", "Champ 3"]


def test_user_mapping_beats_aliases():
    mapping = parse_mapping_items(["crm_col=prenom", "phone=Mobile"])
    plan = plan_columns(["Email", "crm_col", "phone"], DEFAULT, mapping)
    assert plan.sources == ["Email", "Prénom", "Mobile"]


def test_mapping_file(tmp_path):
    path = tmp_path / "map.txt"
    path.write_text(
        "# CRM export\nNUM_CLIENT = Référence\n\nGSM=Mobile\n", encoding="utf-8"
    )
    assert load_mapping_file(path) == {"NUM_CLIENT": "Référence", "GSM": "Mobile"}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            ["crm_col"],
            "--map: invalid mapping 'crm_col'; write it as 'export column=deposit column'",
        ),
        (["crm_col="], "--map: invalid mapping 'crm_col='"),
    ],
    ids=["no-equals", "empty-target"],
)
def test_invalid_mapping_items(items, message):
    with pytest.raises(ConfigurationError) as caught:
        parse_mapping_items(items)
    assert str(caught.value).startswith(message)


def test_mapping_to_unknown_column():
    with pytest.raises(ConfigurationError) as caught:
        plan_columns(["Email", "x"], DEFAULT, {"x": "Fidelity"})
    assert str(caught.value).startswith(
        "mapping x=Fidelity: 'Fidelity' is not a deposit column; use one of "
    )


def test_unmapped_column_lists_known_names():
    with pytest.raises(InputFileError) as caught:
        plan_columns(["Email", "Loyalty", "Score"], DEFAULT, path="crm.csv")
    message = str(caught.value)
    assert message.startswith(
        "crm.csv: row 1: no deposit column for 'Loyalty', 'Score'; map each with "
        "--map 'column=Deposit name' or drop them with --drop-unmapped. "
        "Deposit columns: Civilité, Prénom, Nom, Email,"
    )
    assert caught.value.row == 1


def test_drop_unmapped():
    plan = plan_columns(["Email", "Loyalty"], DEFAULT, drop_unmapped=True)
    assert plan.sources == ["Email", None]
    assert plan.dropped == ["Loyalty"]


def test_two_columns_for_one_deposit_column():
    with pytest.raises(InputFileError) as caught:
        plan_columns(["Email", "mail"], DEFAULT, path="crm.csv")
    assert str(caught.value) == (
        "crm.csv: row 1: columns 'Email' and 'mail' both map to 'Email'; "
        "map one of them elsewhere with --map or drop it"
    )


def test_header_without_means_of_contact():
    with pytest.raises(InputFileError) as caught:
        plan_columns(["Nom", "Prénom"], DEFAULT, path="crm.csv")
    assert str(caught.value) == (
        "crm.csv: row 1: no column maps to Email, Téléphone Fixe or Mobile, and the "
        "deposit needs at least one; map the column that holds them with --map"
    )


def test_one_unknown_column_suggests_delimiter():
    with pytest.raises(InputFileError) as caught:
        plan_columns(["Nom:Email"], DEFAULT, path="crm.csv")
    assert str(caught.value).startswith(
        "crm.csv: row 1: no deposit column for 'Nom:Email'; map each with --map "
        "'column=Deposit name' or drop them with --drop-unmapped. If the file uses "
        "a separator other than ; , tab or |, give it with --delimiter. Deposit columns: "
    )
