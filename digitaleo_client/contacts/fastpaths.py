"""Shortcuts that give exactly the verdicts of email-validator and phonenumbers.

Calling the libraries costs about 20 microseconds per value, too slow for
million-row files. These shortcuts handle only the commonest shapes of
value, where the libraries' rules reduce to a few regular expressions taken
from the libraries themselves, and return "not handled" for everything
else, which then goes to the library. tests/contacts/test_fastpaths.py
checks that both give the same verdict on large generated samples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import email_validator
import phonenumbers
from email_validator.rfc_constants import (
    DNS_LABEL_LENGTH_LIMIT,
    EMAIL_MAX_LENGTH,
    LOCAL_PART_MAX_LENGTH,
)

# -- e-mail --------------------------------------------------------------------


def _simple_email_pattern(lines: bool = False) -> re.Pattern[str]:
    """Compile the subset of addresses that email-validator surely accepts.

    The local part is a dot-atom of common characters, at most 64 of them.
    The domain has ASCII letter-digit-hyphen labels of at most 63 characters,
    no `--` (the library treats `ab--` labels specially), and a letters-only
    top-level label, and it is none of the library's special-use names. The
    whole address has at most 254 characters, which keeps the domain under 253.
    With `lines`, the pattern matches each line of a multi-line text.
    """
    special = "|".join(
        re.escape(name) for name in email_validator.SPECIAL_USE_DOMAIN_NAMES
    )
    label = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
    end, char = (r"$", r"[^\n]") if lines else (r"\Z", ".")
    pattern = (
        rf"(?={char}{{3,{EMAIL_MAX_LENGTH}}}{end})(?=[^@\n]{{1,{LOCAL_PART_MAX_LENGTH}}}@)"
        r"[A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*"
        rf"@(?!{char}*--)(?!(?i:(?:{char}*\.)?(?:{special})){end})"
        rf"(?:{label}\.)+[A-Za-z]{{1,{DNS_LABEL_LENGTH_LIMIT}}}"
    )
    if lines:
        return re.compile(f"^(?:{pattern})$", re.MULTILINE)
    return re.compile(pattern)


# NOTE: built from email_validator.SPECIAL_USE_DOMAIN_NAMES at import; a
# program that edits that list afterwards must not rely on this shortcut.
_SIMPLE_EMAIL = _simple_email_pattern()
_SIMPLE_EMAIL_LINES = _simple_email_pattern(lines=True)


def _every_line_matches(pattern: re.Pattern[str], text: str, count: int) -> bool:
    """Tell whether each of the `count` lines of `text` matches `pattern` whole."""
    return len(pattern.findall(text)) == count


def all_simple_valid_emails(values: list[str]) -> bool:
    """Tell whether email-validator surely accepts every one of `values`.

    False means "not sure": the caller then judges each value.
    """
    text = "\n".join(values)
    if text.count("\n") != len(values) - 1:
        return False
    return _every_line_matches(_SIMPLE_EMAIL_LINES, text, len(values))


def is_simple_valid_email(value: str) -> bool:
    """Tell whether `value` is an e-mail that email-validator surely accepts.

    False means "not sure", not "invalid": the caller then asks the library.
    """
    return _SIMPLE_EMAIL.fullmatch(value) is not None


# -- phone numbers -------------------------------------------------------------

# Number types that phonenumbers' type lookup tries before fixed line and
# mobile: a number matching one of them is valid but neither fixed nor mobile.
_OTHER_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


@dataclass(frozen=True)
class _LengthRules:
    """phonenumbers' type lookup for national numbers of one length, as one regex.

    `lookup` fully matches a valid number: its general pattern as a
    lookahead, then the type patterns in the library's order of precedence,
    in named groups `other` (premium rate to voicemail), `fixed` and `mobile`. `mobile` is needed
    apart because a fixed-line match is also mobile when both patterns match.
    """

    lookup: re.Pattern[str]
    mobile: re.Pattern[str] | None
    same_mobile_and_fixed_line: bool


def _pattern(desc: phonenumbers.PhoneNumberDesc | None, length: int) -> str | None:
    """Return the pattern of `desc` if it applies to numbers of `length` digits."""
    if desc is None or not desc.national_number_pattern:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    return str(desc.national_number_pattern)


def _length_rules(
    metadata: phonenumbers.PhoneMetadata, general: str, length: int
) -> _LengthRules:
    others = [_pattern(getattr(metadata, name), length) for name in _OTHER_TYPES]
    other = [pattern for pattern in others if pattern is not None]
    same = bool(metadata.same_mobile_and_fixed_line_pattern)
    fixed = _pattern(metadata.fixed_line, length)
    mobile = _pattern(metadata.mobile, length)
    branches = []
    if other:
        branches.append("(?P<other>" + "|".join(f"(?:{p})" for p in other) + ")")
    if fixed is not None:
        branches.append(f"(?P<fixed>{fixed})")
    if mobile is not None and not same:
        branches.append(f"(?P<mobile>{mobile})")
    # A never-matching branch keeps the regex valid when no type applies.
    alternatives = "|".join(branches) or "(?!)"
    return _LengthRules(
        lookup=re.compile(f"(?=(?:{general})\\Z)(?:{alternatives})"),
        mobile=re.compile(mobile) if mobile is not None else None,
        same_mobile_and_fixed_line=same,
    )


@dataclass(frozen=True)
class PhonePlan:
    """The shortcut for one country, when its metadata allows one.

    Handled shapes, once spaces, dots and hyphens are removed: the national prefix
    then a national number (`0612345678`), and `+` with the country code then
    a national number (`+33612345678`). The national number must start with
    neither 0 nor the national prefix and have a length the country uses.
    phonenumbers parses both shapes into that national number (it strips the
    prefix because the rest has a possible length), so validity is its type
    lookup on those digits.
    """

    country_code: str
    national_prefix: str
    # Matches a handled shape, the national number in group `number` and
    # the national prefix, when that is the shape, in group `prefix`.
    shape: re.Pattern[str]
    # Matches, from the start, digits that phonenumbers could read other
    # than as national prefix + number: they start with the international
    # call prefix or the country code, or already fit the general pattern.
    read_otherwise: re.Pattern[str]
    by_length: dict[int, _LengthRules]
    # Multi-line forms: each line a handled shape of a valid number, of a
    # mobile type for `mobile_lines`.
    valid_lines: re.Pattern[str]
    mobile_lines: re.Pattern[str]

    def all_valid(self, values: list[str], mobile: bool) -> bool:
        """Tell whether every one of `values` is a handled shape of a valid number.

        With `mobile`, each must also be of a mobile type. False means "not
        sure": the caller then judges each value.
        """
        text = "\n".join(values)
        if text.count("\n") != len(values) - 1:
            return False
        digits = text.replace(" ", "").replace(".", "").replace("-", "")
        pattern = self.mobile_lines if mobile else self.valid_lines
        return _every_line_matches(pattern, digits, len(values))

    def national_number(self, value: str) -> str | None:
        """Return the national number of a handled shape, or None."""
        # Only the commonest separators are removed here: a value with
        # others fails the shape and goes to the library.
        digits = value.replace(" ", "").replace(".", "").replace("-", "")
        match = self.shape.fullmatch(digits)
        if match is None:
            return None
        if match.group("prefix") is not None and self.read_otherwise.match(digits):
            return None
        national = match.group("number")
        if national.startswith(self.national_prefix):
            return None
        return national

    def number_type(self, national: str) -> str | None:
        """Return "mobile", "fixed_line" or "other" for a valid number, None if invalid.

        "mobile" stands for phonenumbers' MOBILE and FIXED_LINE_OR_MOBILE.
        """
        match = self.by_length[len(national)].lookup.fullmatch(national)
        if match is None:
            return None
        # The metadata patterns have no groups of their own (phone_plan
        # checks), so the last group is the branch that matched.
        branch = match.lastgroup
        if branch != "fixed":
            return branch
        rules = self.by_length[len(national)]
        if rules.same_mobile_and_fixed_line:
            return "mobile"
        if rules.mobile is not None and rules.mobile.fullmatch(national):
            return "mobile"
        return "fixed_line"


@cache
def phone_plan(country: str) -> PhonePlan | None:
    """Return the shortcut for `country`, or None when its metadata needs the library.

    A shortcut needs a country code used by this country alone, a national
    prefix of digits that is also the prefix removed when parsing, and no
    prefix transformation rule.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    if metadata is None or metadata.country_code is None:
        return None
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code, ())
    prefix = metadata.national_prefix
    for_parsing = metadata.national_prefix_for_parsing
    if tuple(regions) != (country,) or not prefix or not prefix.isdigit():
        return None
    if for_parsing not in (None, prefix) or metadata.national_prefix_transform_rule:
        return None
    general_desc = metadata.general_desc
    if general_desc is None or not general_desc.national_number_pattern:
        return None
    if not _patterns_without_groups(metadata):
        return None
    general = str(general_desc.national_number_pattern)
    lengths = set(general_desc.possible_length) - set(
        general_desc.possible_length_local_only
    )
    if not lengths:
        return None
    rules = {length: _length_rules(metadata, general, length) for length in lengths}
    code = str(metadata.country_code)
    # National numbers have a length the country uses, and start with neither
    # 0 (phonenumbers would keep it as an Italian leading zero) nor the prefix.
    lengths_pattern = "|".join(f"\\d{{{length - 1}}}" for length in sorted(lengths))
    shape = rf"(?:\+{code}|(?P<prefix>{prefix}))(?P<number>[1-9](?:{lengths_pattern}))"
    otherwise = [f"{code}", f"(?:{general})\\Z"]
    if metadata.international_prefix:
        otherwise.insert(0, f"(?:{metadata.international_prefix})")
    valid_lines, mobile_lines = _line_patterns(metadata, code, prefix, general, lengths)
    return PhonePlan(
        valid_lines=valid_lines,
        mobile_lines=mobile_lines,
        country_code=code,
        national_prefix=prefix,
        # ASCII digits only: phonenumbers also reads other scripts' digits,
        # which the library path handles.
        shape=re.compile(shape, re.ASCII),
        read_otherwise=re.compile("|".join(otherwise)),
        by_length=rules,
    )


def _patterns_without_groups(metadata: phonenumbers.PhoneMetadata) -> bool:
    descs = [
        getattr(metadata, name) for name in (*_OTHER_TYPES, "fixed_line", "mobile")
    ]
    descs.append(metadata.general_desc)
    patterns = [desc.national_number_pattern for desc in descs if desc is not None]
    return all(re.compile(pattern).groups == 0 for pattern in patterns if pattern)


def _type_lookaheads(
    metadata: phonenumbers.PhoneMetadata, length: int
) -> tuple[str, str]:
    """Return lookaheads for "valid" and "of a mobile type" at one number length.

    They restate phonenumbers' type lookup: a number is valid when it fits
    the general pattern and one of premium rate to voicemail, fixed line or
    mobile; it is of a mobile type when it fits the general pattern and none
    of premium rate to voicemail, and the mobile pattern (the fixed-line one
    when the metadata marks both as the same).
    """
    others = [_pattern(getattr(metadata, name), length) for name in _OTHER_TYPES]
    other = [f"(?:{pattern})$" for pattern in others if pattern is not None]
    fixed = _pattern(metadata.fixed_line, length)
    mobile = _pattern(metadata.mobile, length)
    same = bool(metadata.same_mobile_and_fixed_line_pattern)
    types = other + [f"(?:{p})$" for p in (fixed, mobile) if p is not None]
    valid = f"(?={'|'.join(types)})" if types else "(?!)"
    mobile_type = fixed if same else mobile
    not_other = f"(?!{'|'.join(other)})" if other else ""
    is_mobile = f"{not_other}(?=(?:{mobile_type})$)" if mobile_type else "(?!)"
    return valid, is_mobile


def _line_patterns(
    metadata: phonenumbers.PhoneMetadata,
    code: str,
    prefix: str,
    general: str,
    lengths: set[int],
) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Compile the multi-line patterns of PhonePlan.valid_lines and mobile_lines."""
    international = metadata.international_prefix
    otherwise = [code, f"(?:{general})$"]
    if international:
        otherwise.insert(0, f"(?:{international})")
    shape = rf"(?:\+{code}|(?!{'|'.join(otherwise)}){prefix})(?=[1-9])(?!{prefix})"
    valid_branches, mobile_branches = [], []
    for length in sorted(lengths):
        valid, is_mobile = _type_lookaheads(metadata, length)
        number = rf"(?=[0-9]{{{length}}}$)(?=(?:{general})$)"
        valid_branches.append(f"{number}{valid}[0-9]{{{length}}}")
        mobile_branches.append(f"{number}{is_mobile}[0-9]{{{length}}}")
    flags = re.MULTILINE | re.ASCII
    return (
        re.compile(f"^{shape}(?:{'|'.join(valid_branches)})$", flags),
        re.compile(f"^{shape}(?:{'|'.join(mobile_branches)})$", flags),
    )
