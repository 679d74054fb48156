"""Account settings that decide how the deposit reads and validates a file.

The TOML shape is shared with the fake server's configuration:

    [account]
    separator = ";"
    dedup = "email"
    country = "FR"
    invalid_values = "ignore"
    custom_fields = ["Fidélité", "Segment"]

    [dispatch]
    AO201 = "rennes"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import phonenumbers

from digitaleo_client.contacts import columns
from digitaleo_client.errors import ConfigurationError


class Dedup(StrEnum):
    """Deduplication criterion of an account, in the published order 1 to 7."""

    NONE = "none"
    EMAIL_PHONE_MOBILE = "email_phone_mobile"
    EXTENDED = "extended"
    REFERENCE = "reference"
    EMAIL = "email"
    MOBILE = "mobile"
    PHONE = "phone"

    @property
    def key_columns(self) -> tuple[str, ...]:
        """Columns whose values identify a contact under this criterion."""
        return DEDUP_KEY_COLUMNS[self]

    @property
    def allows_delete(self) -> bool:
        """Tell whether the deposit accepts delete files under this criterion."""
        return self in (Dedup.EMAIL_PHONE_MOBILE, Dedup.REFERENCE)


DEDUP_KEY_COLUMNS: dict[Dedup, tuple[str, ...]] = {
    Dedup.NONE: (),
    Dedup.EMAIL_PHONE_MOBILE: (columns.EMAIL, columns.TELEPHONE_FIXE, columns.MOBILE),
    Dedup.EXTENDED: (
        columns.EMAIL,
        columns.TELEPHONE_FIXE,
        columns.MOBILE,
        columns.FACEBOOK_ID,
        columns.TWITTER_ID,
        columns.ADRESSE_1,
        columns.VILLE,
        columns.CODE_POSTAL,
    ),
    Dedup.REFERENCE: (columns.REFERENCE,),
    Dedup.EMAIL: (columns.EMAIL,),
    Dedup.MOBILE: (columns.MOBILE,),
    Dedup.PHONE: (columns.TELEPHONE_FIXE,),
}


class InvalidValues(StrEnum):
    """What the deposit does with an invalid e-mail or phone of a valid contact."""

    IGNORE = "ignore"
    REJECT_CONTACT = "reject_contact"


@dataclass(frozen=True)
class AccountSettings:
    """Settings of one Digitaleo account that shape its deposit files."""

    separator: str = ";"
    dedup: Dedup = Dedup.EMAIL
    country: str = "FR"
    invalid_values: InvalidValues = InvalidValues.IGNORE
    custom_fields: tuple[str, ...] = ()
    dispatch: dict[str, str] = field(default_factory=dict)

    @property
    def multi_account(self) -> bool:
        """Tell whether files carry a last `dispatch` column."""
        return bool(self.dispatch)

    @property
    def requires_reference(self) -> bool:
        return self.dedup is Dedup.REFERENCE

    @property
    def custom_field_names(self) -> tuple[str, ...]:
        """Names of the custom fields: the renamed ones, then `Champ n` defaults."""
        count = max(columns.DEFAULT_CUSTOM_FIELD_COUNT, len(self.custom_fields))
        names = list(self.custom_fields)
        names += [
            columns.custom_field_name(index)
            for index in range(len(names) + 1, count + 1)
        ]
        return tuple(names)

    @property
    def known_columns(self) -> tuple[str, ...]:
        """Every column name a file of this account may hold, `dispatch` aside."""
        return (
            columns.STANDARD_COLUMNS
            + (columns.FACEBOOK_ID, columns.TWITTER_ID)
            + self.custom_field_names
        )

    def describe(self) -> str:
        """Return a one-line summary for reports that show which settings applied."""
        dispatch = (
            f", dispatch references {sorted(self.dispatch)}" if self.dispatch else ""
        )
        return (
            f"separator {self.separator!r}, dedup {self.dedup.value}, "
            f"country {self.country}, invalid_values {self.invalid_values.value}"
            f"{dispatch}"
        )


def _fail(source: str, key: str, problem: str, fix: str) -> ConfigurationError:
    return ConfigurationError(f"{source}: {key} {problem}; {fix}", key=key)


def _choice(source: str, key: str, value: Any, choices: type[StrEnum]) -> Any:
    allowed = [member.value for member in choices]
    if value not in allowed:
        raise _fail(source, key, f"is {value!r}", f"use one of {', '.join(allowed)}")
    return choices(value)


def account_settings_from_dict(
    data: dict[str, Any], source: str = "account"
) -> AccountSettings:
    """Build settings from the `[account]` and `[dispatch]` tables of a TOML file.

    `source` names the file in error messages. Raises ConfigurationError
    naming the key and the fix for unknown keys and invalid values.
    """
    account = data.get("account", {})
    dispatch = data.get("dispatch", {})
    if not isinstance(account, dict):
        raise _fail(source, "[account]", "is not a table", "write it as [account]")
    if not isinstance(dispatch, dict):
        raise _fail(source, "[dispatch]", "is not a table", "write it as [dispatch]")

    known = {"separator", "dedup", "country", "invalid_values", "custom_fields"}
    unknown = sorted(set(account) - known)
    if unknown:
        raise _fail(
            source,
            f"account.{unknown[0]}",
            "is not a known key",
            f"use only {', '.join(sorted(known))}",
        )

    separator = account.get("separator", ";")
    if not isinstance(separator, str) or len(separator) != 1 or separator in '"\r\n':
        raise _fail(
            source,
            "account.separator",
            f"is {separator!r}",
            "use one character other than a quote or a newline, such as ';'",
        )

    country = account.get("country", "FR")
    if (
        not isinstance(country, str)
        or country.upper() not in phonenumbers.SUPPORTED_REGIONS
    ):
        raise _fail(
            source,
            "account.country",
            f"is {country!r}",
            "use a two-letter region code such as FR, BE or CH",
        )

    custom_fields = account.get("custom_fields", [])
    if not isinstance(custom_fields, list) or not all(
        isinstance(name, str) and name.strip() for name in custom_fields
    ):
        raise _fail(
            source,
            "account.custom_fields",
            f"is {custom_fields!r}",
            'use a list of non-empty names such as ["Fidélité", "Segment"]',
        )

    for reference, target in dispatch.items():
        if not isinstance(target, str) or not target.strip():
            raise _fail(
                source,
                f"dispatch.{reference}",
                f"is {target!r}",
                'map each reference to an account name, such as AO201 = "rennes"',
            )

    return AccountSettings(
        separator=separator,
        dedup=_choice(source, "account.dedup", account.get("dedup", "email"), Dedup),
        country=country.upper(),
        invalid_values=_choice(
            source,
            "account.invalid_values",
            account.get("invalid_values", "ignore"),
            InvalidValues,
        ),
        custom_fields=tuple(name.strip() for name in custom_fields),
        dispatch={str(key): str(value) for key, value in dispatch.items()},
    )


def load_account_settings(path: Path) -> AccountSettings:
    """Read account settings from a TOML file.

    Raises ConfigurationError when the file is missing, is not TOML, or holds
    an invalid value.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigurationError(
            f"account file {path} not found; check the path given to --account"
        ) from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path}: invalid TOML: {error}") from error
    return account_settings_from_dict(data, source=str(path))
