"""Configuration of the fake deposit: defaults, the TOML shape and its errors."""

from __future__ import annotations

import pytest

from digitaleo_client.contacts.account import Dedup, InvalidValues
from digitaleo_client.errors import ConfigurationError
from fake_server.config import User, load_server_config

ED25519_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILuLwaadLhg0rYtH0KnN5QzX/e/F93Dkzvaecy81fPr6 test"

FULL = f"""
[account]
separator = "|"
dedup = "reference"
country = "BE"
invalid_values = "reject_contact"
custom_fields = ["Fidélité", "Segment"]

[dispatch]
AO201 = "rennes"
AO360 = "nantes"

[[users]]
name = "crm"
password = "s3cret"

[[users]]
name = "robot"
public_key = "{ED25519_KEY}"
"""


def write(tmp_path, text):
    path = tmp_path / "server.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_config_has_crm_user():
    config = load_server_config(None, default_password="given")

    assert config.users == (User("crm", "given", None),)
    assert config.account.separator == ";"
    assert config.account.dedup is Dedup.EMAIL
    assert config.account_names() == ("default",)


def test_default_password_is_generated():
    first = load_server_config(None).users[0].password
    second = load_server_config(None).users[0].password

    assert first is not None
    assert len(first) == 16
    assert first != second


def test_full_file_parsed(tmp_path):
    config = load_server_config(write(tmp_path, FULL))

    assert config.account.separator == "|"
    assert config.account.dedup is Dedup.REFERENCE
    assert config.account.country == "BE"
    assert config.account.invalid_values is InvalidValues.REJECT_CONTACT
    assert config.account.custom_fields == ("Fidélité", "Segment")
    assert config.account.dispatch == {"AO201": "rennes", "AO360": "nantes"}
    assert config.account_names() == ("nantes", "rennes")
    assert config.users == (
        User("crm", "s3cret", None),
        User("robot", None, ED25519_KEY),
    )
    assert config.user("robot") is config.users[1]
    assert config.user("nobody") is None


def test_file_without_users_gets_default_user(tmp_path):
    config = load_server_config(
        write(tmp_path, '[account]\ndedup = "none"\n'), default_password="p"
    )

    assert config.users == (User("crm", "p", None),)
    assert config.account.dedup is Dedup.NONE


def test_password_hidden_in_repr():
    assert "given" not in repr(
        load_server_config(None, default_password="given").users[0]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[acount]\n",
            "acount is not a known table; use only [account], [dispatch], [users]",
        ),
        (
            '[account]\ndedup = "fuzzy"\n',
            (
                "account.dedup is 'fuzzy'; use one of none, email_phone_mobile, "
                "extended, reference, email, mobile, phone"
            ),
        ),
        (
            '[account]\nseparator = ";;"\n',
            "account.separator is ';;'; use one character other than a quote or a newline",
        ),
        (
            '[[users]]\nname = "crm"\n',
            "users[0] (user 'crm') has neither password nor public_key; set one of them",
        ),
        (
            '[[users]]\nname = "crm"\npassword = "a"\n[[users]]\nname = "crm"\npassword = "b"\n',
            "users[1].name repeats 'crm'; give each user its own name",
        ),
        (
            '[[users]]\nname = "crm"\npasword = "a"\n',
            "users[0].pasword is not a known key; use only name, password, public_key",
        ),
        (
            '[[users]]\nname = "crm"\npublic_key = "ssh-ed25519 AAAAnotakey"\n',
            "users[0].public_key is not a readable ssh-ed25519 public key",
        ),
        (
            '[[users]]\nname = "crm"\npublic_key = "AAAA"\n',
            "users[0].public_key is 'AAAA'; paste one line of an OpenSSH public key",
        ),
        (
            "users = 3\n",
            "users is not an array of tables; write each user as [[users]]",
        ),
        (
            "[account\n",
            "invalid TOML",
        ),
    ],
    ids=[
        "unknown-table",
        "unknown-dedup",
        "long-separator",
        "user-without-credential",
        "duplicate-user",
        "unknown-user-key",
        "unreadable-key",
        "key-without-type",
        "users-not-tables",
        "bad-toml",
    ],
)
def test_bad_config_names_key_and_fix(tmp_path, text, message):
    path = write(tmp_path, text)

    with pytest.raises(ConfigurationError) as caught:
        load_server_config(path)

    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        load_server_config(tmp_path / "absent.toml")

    assert str(caught.value) == (
        f"configuration file {tmp_path / 'absent.toml'} not found; "
        "check the path given to --config"
    )
