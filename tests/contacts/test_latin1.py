"""Making values fit ISO-8859-1 under each --unencodable policy."""

import pytest

from digitaleo_client.contacts.latin1 import Unencodable, fit_latin1, repair_mojibake

T = Unencodable.TRANSLITERATE
A = Unencodable.ASCII
S = Unencodable.STRICT


@pytest.mark.parametrize(
    ("value", "policy", "expected", "why"),
    [
        ("Hélène", T, "Hélène", ""),
        ("Cœur", T, "Coeur", "replaced characters outside ISO-8859-1"),
        ("ŒUVRE", T, "OEUVRE", "replaced characters outside ISO-8859-1"),
        ("10 €", T, "10 EUR", "replaced characters outside ISO-8859-1"),
        ("“Les Cafés”", T, '"Les Cafés"', "replaced characters outside ISO-8859-1"),
        ("l’été", T, "l'été", "replaced characters outside ISO-8859-1"),
        (
            "Jean–Pierre — Paris",
            T,
            "Jean-Pierre - Paris",
            "replaced characters outside ISO-8859-1",
        ),
        ("Attendez…", T, "Attendez...", "replaced characters outside ISO-8859-1"),
        ("12\u00a0rue", T, "12 rue", "replaced characters outside ISO-8859-1"),
        ("12\u202frue", T, "12 rue", "replaced characters outside ISO-8859-1"),
        ("Ze\u0301lie", T, "Zélie", "composed decomposed accents"),
        ("Dvořák", T, "Dvorák", "replaced characters outside ISO-8859-1"),
        ("Łukasz", T, "Lukasz", "replaced characters outside ISO-8859-1"),
        ("Иван", A, "Ivan", "replaced characters outside ISO-8859-1"),
        ("王芳", A, "WangFang", "replaced characters outside ISO-8859-1"),
        ("Cœur", A, "Coeur", "replaced characters outside ISO-8859-1"),
        ("Zoé", A, "Zoé", ""),
        ("12\u00a0rue", S, "12\u00a0rue", ""),
        ("Ze\u0301lie", S, "Zélie", "composed decomposed accents"),
    ],
    ids=[
        "latin1-untouched",
        "oe-ligature",
        "OE-ligature",
        "euro",
        "curly-double-quotes",
        "curly-apostrophe",
        "dashes",
        "ellipsis",
        "no-break-space",
        "narrow-no-break-space",
        "decomposed-accent",
        "czech-letters",
        "polish-l",
        "ascii-cyrillic",
        "ascii-chinese",
        "ascii-ligature",
        "ascii-keeps-latin1",
        "strict-keeps-no-break-space",
        "strict-composes",
    ],
)
def test_fitted_values(value, policy, expected, why):
    fitted = fit_latin1(value, policy)
    assert fitted.value == expected
    assert fitted.why == why


@pytest.mark.parametrize(
    ("value", "policy", "message"),
    [
        (
            "Иван",
            T,
            (
                "U+0418 (CYRILLIC CAPITAL LETTER I) has no faithful ISO-8859-1 form; "
                "--unencodable ascii romanises it"
            ),
        ),
        (
            "王芳",
            T,
            "U+738B (CJK UNIFIED IDEOGRAPH-738B) has no faithful ISO-8859-1 form",
        ),
        ("Merci 😀", T, "U+1F600 (GRINNING FACE) has no faithful ISO-8859-1 form"),
        (
            "Cœur",
            S,
            (
                "U+0153 (LATIN SMALL LIGATURE OE) is not allowed by --unencodable "
                "strict; use transliterate or fix the value"
            ),
        ),
    ],
    ids=["cyrillic", "chinese", "emoji", "strict-ligature"],
)
def test_rejected_values(value, policy, message):
    fitted = fit_latin1(value, policy)
    assert fitted.value is None
    assert fitted.why.startswith(message)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("CafÃ©", "Café"),
        ("Ã‰milie", "Émilie"),
        ("Ã©cole Ã\u00a0 Paris", "école à Paris"),
        ("lâ€™Ã©tÃ©", "l’été"),
        ("Hélène", None),
        ("É°", None),
        ("Dupont", None),
    ],
    ids=[
        "latin1-read",
        "cp1252-read",
        "no-break-space-byte",
        "curly-apostrophe",
        "real-accents",
        "implausible",
        "ascii",
    ],
)
def test_repair_mojibake(value, expected):
    assert repair_mojibake(value) == expected
