"""Configuration of the fake deposit: the account's settings and its users.

A TOML file passed with `--config`:

    [account]
    separator = ";"
    dedup = "email"     # none | email_phone_mobile | extended | reference
                        # | email | mobile | phone
    country = "FR"
    invalid_values = "ignore"   # or "reject_contact"
    custom_fields = ["Fidélité", "Segment"]   # replace Champ 1, Champ 2

    [dispatch]          # present = multi-account deposit; reference -> account
    AO201 = "rennes"

    [[users]]
    name = "crm"
    password = "secret"       # or public_key = "ssh-ed25519 AAAA..."

Without a file, or without `[[users]]` in it, the deposit has the default
account settings and one user, `crm`, whose password is the one given to
`load_server_config` or a random one.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from digitaleo_client.contacts.account import (
    AccountSettings,
    account_settings_from_dict,
)
from digitaleo_client.errors import ConfigurationError

DEFAULT_USER = "crm"

# Account name of a single-account deposit, as the store records it.
DEFAULT_ACCOUNT = "default"

_TOP_LEVEL_KEYS = ("account", "dispatch", "users")
_USER_KEYS = ("name", "password", "public_key")


@dataclass(frozen=True)
class User:
    """A login of the fake deposit; it has a password, a public key or both."""

    name: str
    password: str | None
    public_key: str | None

    def __repr__(self) -> str:
        password = "'***'" if self.password is not None else "None"
        return f"User(name={self.name!r}, password={password}, public_key={self.public_key!r})"


@dataclass(frozen=True)
class ServerConfig:
    """Settings of the one account the fake deposit serves, and who may log in."""

    account: AccountSettings
    users: tuple[User, ...]

    def account_names(self) -> tuple[str, ...]:
        """Return the accounts contacts can belong to, sorted.

        A multi-account deposit has the accounts of its dispatch map; a
        single-account one has `default`.
        """
        if self.account.multi_account:
            return tuple(sorted(set(self.account.dispatch.values())))
        return (DEFAULT_ACCOUNT,)

    def user(self, name: str) -> User | None:
        """Return the user called `name`, or None when there is none."""
        for user in self.users:
            if user.name == name:
                return user
        return None


def generate_password() -> str:
    """Return a random password of 16 URL-safe characters."""
    return secrets.token_urlsafe(12)


def load_server_config(
    path: Path | None, *, default_password: str | None = None
) -> ServerConfig:
    """Read the fake deposit's configuration from a TOML file.

    `path` None gives the default configuration: default account settings
    and one user `crm`. That user, also added when the file lists no
    `[[users]]`, gets `default_password`, or a random password when it is
    None.

    Raises ConfigurationError, naming the key and the fix, when the file is
    missing, is not TOML, or contains an unknown key or an invalid value.
    """
    data = _read_toml(path) if path is not None else {}
    source = str(path) if path is not None else "default configuration"

    unknown = sorted(set(data) - set(_TOP_LEVEL_KEYS))
    if unknown:
        raise _fail(
            source,
            unknown[0],
            "is not a known table",
            f"use only {', '.join(f'[{key}]' for key in _TOP_LEVEL_KEYS)}",
        )
    account = account_settings_from_dict(data, source=source)
    users = _parse_users(data.get("users"), source)
    if not users:
        password = (
            default_password if default_password is not None else generate_password()
        )
        users = (User(DEFAULT_USER, password, None),)
    return ServerConfig(account=account, users=users)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ConfigurationError(
            f"configuration file {path} not found; check the path given to --config",
            key="config",
        ) from error
    except UnicodeDecodeError as error:
        raise ConfigurationError(
            f"{path}: not UTF-8 ({error}); save the configuration file as UTF-8",
            key="config",
        ) from error
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(
            f"{path}: invalid TOML: {error}; fix the syntax at that line",
            key="config",
        ) from error


def _fail(source: str, key: str, problem: str, fix: str) -> ConfigurationError:
    return ConfigurationError(f"{source}: {key} {problem}; {fix}", key=key)


def _parse_users(raw: Any, source: str) -> tuple[User, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        raise _fail(
            source, "users", "is not an array of tables", "write each user as [[users]]"
        )
    users = tuple(_parse_user(entry, index, source) for index, entry in enumerate(raw))

    names = [user.name for user in users]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise _fail(
                source,
                f"users[{index}].name",
                f"repeats {name!r}",
                "give each user its own name",
            )
    return users


def _parse_user(entry: dict[str, Any], index: int, source: str) -> User:
    prefix = f"users[{index}]"
    unknown = sorted(set(entry) - set(_USER_KEYS))
    if unknown:
        raise _fail(
            source,
            f"{prefix}.{unknown[0]}",
            "is not a known key",
            f"use only {', '.join(_USER_KEYS)}",
        )

    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise _fail(
            source,
            f"{prefix}.name",
            f"is {name!r}",
            'use a non-empty name without spaces, such as "crm"',
        )
    password = entry.get("password")
    if password is not None and (not isinstance(password, str) or not password):
        raise _fail(
            source,
            f"{prefix}.password",
            "is empty or not a string",
            "set a non-empty password",
        )
    public_key = entry.get("public_key")
    if public_key is not None:
        _check_public_key(public_key, f"{prefix}.public_key", source)
    if password is None and public_key is None:
        raise _fail(
            source,
            prefix,
            f"(user {name!r}) has neither password nor public_key",
            "set one of them",
        )
    return User(name=name, password=password, public_key=public_key)


def _check_public_key(value: Any, key: str, source: str) -> None:
    fix = (
        'paste one line of an OpenSSH public key, such as "ssh-ed25519 AAAA... comment"'
    )
    if not isinstance(value, str) or len(value.split()) < 2:
        raise _fail(source, key, f"is {value!r}", fix)
    key_type, data = value.split()[:2]
    try:
        paramiko.PKey.from_type_string(key_type, base64.b64decode(data, validate=True))
    except (
        binascii.Error,
        paramiko.SSHException,
        paramiko.UnknownKeyType,
        ValueError,
    ) as error:
        raise _fail(
            source, key, f"is not a readable {key_type} public key ({error})", fix
        ) from error


def parse_public_key(line: str) -> paramiko.PKey:
    """Return the key of an OpenSSH public key line such as `ssh-ed25519 AAAA...`.

    Raises ConfigurationError when the line cannot be read as a public key.
    """
    _check_public_key(line, "public_key", "user")
    key_type, data = line.split()[:2]
    return paramiko.PKey.from_type_string(key_type, base64.b64decode(data))
