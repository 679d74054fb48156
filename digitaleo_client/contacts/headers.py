"""Mapping the columns of a CRM export to the deposit's French column names.

A header is matched after normalisation: accents removed, lower case, runs of
spaces, `_`, `-` and `.` turned into one space, so `PRÉNOM`, `prenom` and
`first_name` all find their column. The user's mapping comes first, then the
account's custom field names, then the aliases below.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from digitaleo_client.contacts import columns
from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.errors import ConfigurationError, InputFileError

_SEPARATORS = re.compile(r"[\s_\-.]+")

# Common names of each column in French, English and CRM exports, written
# normalised. The French name itself is matched without this table.
ALIASES: dict[str, tuple[str, ...]] = {
    columns.CIVILITE: ("civility", "title", "salutation", "genre"),
    columns.PRENOM: ("first name", "firstname", "given name", "forename", "fname"),
    columns.NOM: (
        "last name",
        "lastname",
        "surname",
        "family name",
        "nom de famille",
        "lname",
    ),
    columns.EMAIL: (
        "e mail",
        "mail",
        "email address",
        "e mail address",
        "courriel",
        "adresse email",
        "adresse mail",
    ),
    columns.TELEPHONE_FIXE: (
        "telephone",
        "tel",
        "phone",
        "phone number",
        "landline",
        "fixed phone",
        "home phone",
        "work phone",
        "fixe",
        "tel fixe",
    ),
    columns.MOBILE: (
        "cell",
        "cellphone",
        "cell phone",
        "mobile phone",
        "mobile number",
        "portable",
        "telephone portable",
        "tel portable",
        "gsm",
        "mobile phone number",
    ),
    columns.FAX: ("fax number", "telecopie"),
    columns.ADRESSE_1: (
        "adresse",
        "address",
        "address 1",
        "address line 1",
        "street",
        "rue",
    ),
    columns.ADRESSE_2: (
        "address 2",
        "address line 2",
        "complement d adresse",
        "complement adresse",
    ),
    columns.CODE_POSTAL: (
        "cp",
        "zip",
        "zipcode",
        "zip code",
        "postcode",
        "postal code",
        "post code",
    ),
    columns.VILLE: ("city", "town", "commune", "localite"),
    columns.ETAT: ("state", "region", "province", "county"),
    columns.PAYS: ("country",),
    columns.DATE_DE_NAISSANCE: (
        "birthdate",
        "birth date",
        "birthday",
        "date of birth",
        "dob",
        "naissance",
        "date naissance",
    ),
    columns.SOCIETE: (
        "company",
        "company name",
        "organisation",
        "organization",
        "entreprise",
        "raison sociale",
    ),
    columns.REFERENCE: (
        "ref",
        "reference client",
        "customer id",
        "customerid",
        "customer reference",
        "client id",
        "id client",
        "external id",
        "crm id",
        "contact id",
    ),
    columns.FACEBOOK_ID: ("facebook", "facebookid"),
    columns.TWITTER_ID: ("twitter", "twitterid"),
    columns.DISPATCH: ("account reference", "compte"),
}


def normalise_header(name: str) -> str:
    """Return `name` without accents, in lower case, with one space between words."""
    decomposed = unicodedata.normalize("NFKD", name.strip().strip('"').strip())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub(" ", bare.casefold()).strip()


def build_alias_table(account: AccountSettings) -> dict[str, str]:
    """Return normalised header -> deposit column for one account.

    Custom field names of the account take precedence over built-in aliases,
    because an account may rename a field to a common word such as `Segment`.
    """
    table: dict[str, str] = {}
    for column, aliases in ALIASES.items():
        for alias in aliases:
            table[normalise_header(alias)] = column
    for column in account.known_columns + (columns.DISPATCH,):
        table[normalise_header(column)] = column
    for index, name in enumerate(account.custom_field_names, start=1):
        table[normalise_header(name)] = name
        table[normalise_header(columns.custom_field_name(index))] = name
    return table


@dataclass(frozen=True)
class ColumnPlan:
    """Mapping from the columns of an export to deposit columns.

    `sources[i]` is the deposit column of export column `i`, or None when the
    column is dropped.
    """

    export_header: list[str]
    sources: list[str | None]
    dropped: list[str]

    @property
    def deposit_columns(self) -> list[str]:
        return [column for column in self.sources if column is not None]


def parse_mapping_items(items: Iterable[str], origin: str = "--map") -> dict[str, str]:
    """Parse `export column=deposit column` items, as given to --map.

    Raises ConfigurationError naming the item when it has no `=` or an empty side.
    """
    mapping: dict[str, str] = {}
    for item in items:
        source, equals, target = item.partition("=")
        if not equals or not source.strip() or not target.strip():
            raise ConfigurationError(
                f"{origin}: invalid mapping {item!r}; write it as "
                "'export column=deposit column', such as 'crm_col=Prénom'"
            )
        mapping[source.strip()] = target.strip()
    return mapping


def load_mapping_file(path: Path) -> dict[str, str]:
    """Read a mapping file: one `export column=deposit column` per line.

    Blank lines and lines starting with `#` are skipped. The file is UTF-8.
    Raises ConfigurationError when the file is missing or a line is invalid.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise ConfigurationError(
            f"mapping file {path} not found; check the path given to --map-file"
        ) from error
    except UnicodeDecodeError as error:
        raise ConfigurationError(
            f"mapping file {path} is not UTF-8 (byte {error.start}); save it as UTF-8"
        ) from error
    lines = [line.strip() for line in text.splitlines()]
    items = [line for line in lines if line and not line.startswith("#")]
    return parse_mapping_items(items, origin=str(path))


def plan_columns(
    export_header: list[str],
    account: AccountSettings,
    mapping: Mapping[str, str] | None = None,
    drop_unmapped: bool = False,
    path: str = "",
) -> ColumnPlan:
    """Match each column of `export_header` to a deposit column.

    `mapping` (None: empty) maps export column names, matched exactly or
    after normalisation, to deposit column names or their aliases.
    Unmapped columns raise InputFileError listing the known names, unless
    `drop_unmapped`. Two columns that map to the same deposit column, and a
    header without Email, Téléphone Fixe or Mobile, raise InputFileError too.
    """
    table = build_alias_table(account)
    user = _resolve_user_mapping(mapping or {}, table, path)

    sources: list[str | None] = []
    unmapped: list[str] = []
    for name in export_header:
        key = normalise_header(name)
        target = user.get(name.strip(), user.get(key, table.get(key)))
        if target is None:
            unmapped.append(name)
        sources.append(target)

    if unmapped and not drop_unmapped:
        raise InputFileError(
            _unmapped_message(unmapped, export_header, account, path), path=path, row=1
        )
    _check_duplicates(export_header, sources, path)
    _check_means_present(sources, path)
    return ColumnPlan(list(export_header), sources, unmapped)


def _resolve_user_mapping(
    mapping: Mapping[str, str], table: dict[str, str], path: str
) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for source, target in mapping.items():
        column = table.get(normalise_header(target))
        if column is None:
            raise ConfigurationError(
                f"mapping {source}={target}: {target!r} is not a deposit column; "
                f"use one of {', '.join(sorted(set(table.values())))}"
            )
        resolved[source.strip()] = column
        resolved[normalise_header(source)] = column
    return resolved


def _unmapped_message(
    unmapped: list[str], header: list[str], account: AccountSettings, path: str
) -> str:
    names = ", ".join(repr(name) for name in unmapped)
    known = ", ".join(account.known_columns + (columns.DISPATCH,))
    separator = ""
    if len(header) == 1:
        separator = " If the file uses a separator other than ; , tab or |, give it with --delimiter."
    return (
        f"{path}: row 1: no deposit column for {names}; map each with "
        f"--map 'column=Deposit name' or drop them with --drop-unmapped.{separator} "
        f"Deposit columns: {known}"
    )


def _check_duplicates(header: list[str], sources: list[str | None], path: str) -> None:
    seen: dict[str, str] = {}
    for name, target in zip(header, sources, strict=True):
        if target is None:
            continue
        if target in seen:
            raise InputFileError(
                f"{path}: row 1: columns {seen[target]!r} and {name!r} both map to "
                f"{target!r}; map one of them elsewhere with --map or drop it",
                path=path,
                row=1,
                column=name,
            )
        seen[target] = name


def _check_means_present(sources: list[str | None], path: str) -> None:
    if not any(column in columns.MEANS_OF_CONTACT for column in sources):
        raise InputFileError(
            f"{path}: row 1: no column maps to Email, Téléphone Fixe or Mobile, and "
            "the deposit needs at least one; map the column that holds them with --map",
            path=path,
            row=1,
        )
