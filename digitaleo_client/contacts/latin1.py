"""Making values fit ISO-8859-1, the deposit's encoding, without losing meaning.

Three policies, chosen with `--unencodable`:

- `transliterate` maps typographic characters to their usual Latin-1 or
  ASCII forms: œ to oe, € to EUR, curly quotes to straight ones, dashes to
  `-`, odd spaces to a space. It maps Latin letters with accents outside
  Latin-1 to the bare letter (Dvořák to Dvorák). A value in another script (Cyrillic,
  Chinese, emoji) cannot be mapped faithfully and is rejected.
- `ascii` does the same, then romanises other scripts with anyascii.
- `strict` rejects every value that holds a character outside ISO-8859-1.

Every policy first composes decomposed accents (`e` + U+0301 to `é`), which
changes no character a reader sees. No policy ever writes a question mark in
place of a character.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from anyascii import anyascii


class Unencodable(StrEnum):
    """Policy for characters that ISO-8859-1 cannot represent."""

    TRANSLITERATE = "transliterate"
    ASCII = "ascii"
    STRICT = "strict"


# Typographic characters outside ISO-8859-1 and their usual replacement.
# Windows-1252 puts most of them in 0x80-0x9F, so Excel exports carry them.
TYPOGRAPHIC: dict[str, str] = {
    "œ": "oe",
    "Œ": "OE",
    "€": "EUR",
    "ƒ": "f",
    "ˆ": "^",
    "˜": "~",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "‹": "<",
    "›": ">",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "…": "...",
    "•": "-",
    "†": "+",
    "‡": "+",
    "‰": "o/oo",
    "™": "TM",
    "\u00a0": " ",
    "\u2000": " ",
    "\u2001": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2004": " ",
    "\u2005": " ",
    "\u2006": " ",
    "\u2007": " ",
    "\u2008": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u202f": " ",
    "\u205f": " ",
    "\u3000": " ",
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",
}


@dataclass(frozen=True)
class Fitted:
    """A value made to fit ISO-8859-1: the new text and why it changed.

    `value` is None when the value cannot be written under the policy; `why`
    then names the character at fault.
    """

    value: str | None
    why: str


# A UTF-8 lead byte then a continuation byte, as characters: the trace of
# UTF-8 text decoded as ISO-8859-1 or Windows-1252 ("Ã©" for "é").
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)


def may_contain_mojibake(text: str) -> bool:
    """Tell cheaply whether repair_mojibake could change some part of `text`."""
    return _MOJIBAKE.search(text) is not None


def repair_mojibake(value: str) -> str | None:
    """Return `value` decoded again when it is UTF-8 text read as a one-byte encoding.

    "CafÃ©" becomes "Café". Returns None when `value` does not read as such
    text: its characters must all come from ISO-8859-1 or Windows-1252, their
    bytes must be valid UTF-8, and the result may hold only ISO-8859-1 and
    typographic characters, which keeps legitimate text such as "É°" as it is.
    """
    if _MOJIBAKE.search(value) is None:
        return None
    for encoding in ("iso-8859-1", "cp1252"):
        try:
            repaired = value.encode(encoding).decode("utf-8")
        except UnicodeError:
            continue
        if repaired == value or not _plausible(repaired):
            return None
        return repaired
    return None


def _plausible(text: str) -> bool:
    """Tell whether repaired text holds only the characters French exports use."""
    return all(char <= "\xff" or char in TYPOGRAPHIC for char in text)


def is_latin1(text: str) -> bool:
    """Tell whether every character of `text` is in ISO-8859-1."""
    return text.isascii() or max(text) <= "\xff"


def _map_latin_letter(char: str) -> str | None:
    """Return the bare letter of an accented Latin letter outside ISO-8859-1."""
    if not unicodedata.name(char, "").startswith("LATIN "):
        return None
    decomposed = unicodedata.normalize("NFKD", char)
    bare = "".join(part for part in decomposed if not unicodedata.combining(part))
    if bare and is_latin1(bare):
        return bare
    romanised = anyascii(char)
    return romanised or None


def _replace(value: str, policy: Unencodable) -> tuple[str | None, str]:
    out: list[str] = []
    for char in value:
        if char <= "\xff" and char != "\xa0":
            out.append(char)
            continue
        replacement = TYPOGRAPHIC.get(char)
        if replacement is None:
            replacement = _map_latin_letter(char)
        if replacement is None and policy is Unencodable.ASCII:
            replacement = anyascii(char) or None
        if replacement is None:
            name = unicodedata.name(char, "no name")
            fix = (
                ""
                if policy is Unencodable.ASCII
                else "; --unencodable ascii romanises it"
            )
            return (
                None,
                f"U+{ord(char):04X} ({name}) has no faithful ISO-8859-1 form{fix}",
            )
        out.append(replacement)
    return "".join(out), "replaced characters outside ISO-8859-1"


def fit_latin1(value: str, policy: Unencodable) -> Fitted:
    """Make `value` fit ISO-8859-1 under `policy`.

    Except under `strict`, non-breaking spaces (U+00A0, in ISO-8859-1) become
    plain spaces too, since the deposit's space trimming may not recognise them.
    Returns the value unchanged, with an empty `why`, when nothing had to change.
    """
    composed = unicodedata.normalize("NFC", value)
    if is_latin1(composed) and (policy is Unencodable.STRICT or "\xa0" not in composed):
        why = "composed decomposed accents" if composed != value else ""
        return Fitted(composed, why)

    if policy is Unencodable.STRICT:
        char = next(c for c in composed if c > "\xff")
        return Fitted(
            None,
            f"U+{ord(char):04X} ({unicodedata.name(char, 'no name')}) is not "
            "allowed by --unencodable strict; use transliterate or fix the value",
        )
    replaced, why = _replace(composed, policy)
    return Fitted(replaced, why)
