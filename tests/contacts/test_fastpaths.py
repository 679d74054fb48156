"""The validation shortcuts give exactly the libraries' verdicts.

canonical_email and canonical_phone answer common shapes from regular
expressions; library_canonical_email and library_canonical_phone ask
email-validator and phonenumbers every time. They must agree on every value.
"""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digitaleo_client.contacts.account import AccountSettings, Dedup, InvalidValues
from digitaleo_client.contacts.fastpaths import is_simple_valid_email, phone_plan
from digitaleo_client.contacts.validation import (
    ContactValidator,
    canonical_email,
    canonical_phone,
    library_canonical_email,
    library_canonical_phone,
)

COUNTRIES = ["FR", "BE", "CH", "DE", "NL", "GB", "US", "RE"]

local_parts = st.text(
    alphabet=st.sampled_from(list("abcXYZ019._+-!#'\" é@")), min_size=0, max_size=70
)
labels = st.text(alphabet=st.sampled_from(list("abzAZ09-é_")), min_size=0, max_size=66)
top_levels = st.one_of(
    st.sampled_from(
        [
            "fr",
            "com",
            "COM",
            "test",
            "local",
            "localhost",
            "onion",
            "arpa",
            "invalid",
            "x",
            "1",
            "f1",
            "xn--p1ai",
        ]
    ),
    labels,
)
domains = st.builds(
    lambda parts, top: ".".join([*parts, top]),
    st.lists(labels, min_size=0, max_size=4),
    top_levels,
)
addresses = st.one_of(
    st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains),
    st.emails(),
    st.text(max_size=30),
)


@settings(max_examples=5000, deadline=None)
@given(address=addresses)
def test_email_shortcut_matches_library(address):
    assert canonical_email(address) == library_canonical_email(address)


@pytest.mark.parametrize(
    "address",
    ["a@example.com", "jean-noel.dupont+crm@mail.example.fr", "x_1@a-b.example.org"],
    ids=["plain", "dots-plus", "hyphens"],
)
def test_email_shortcut_covers_common_addresses(address):
    assert is_simple_valid_email(address)


digit_runs = st.text(
    # Other scripts' digits, which phonenumbers also reads, go to the library.
    alphabet=st.sampled_from(list("01234567890123456789٣６")),
    min_size=0,
    max_size=13,
)
prefixes = st.sampled_from(
    [
        "",
        "0",
        "00",
        "+",
        "+33",
        "0033",
        "33",
        "+32",
        "+41",
        "+49",
        "+1",
        "+262",
        "+44",
        "0 ",
        "+33 (0)",
        "+330",
    ]
)
separators = st.sampled_from(["", " ", ".", "-", "/", "\u00a0", "\t"])


@st.composite
def phone_values(draw):
    digits = draw(digit_runs)
    separator = draw(separators)
    step = draw(st.integers(min_value=1, max_value=3))
    grouped = separator.join(digits[i : i + step] for i in range(0, len(digits), step))
    return draw(prefixes) + grouped


@settings(max_examples=5000, deadline=None)
@given(value=phone_values(), country=st.sampled_from(COUNTRIES), mobile=st.booleans())
def test_phone_shortcut_matches_library(value, country, mobile):
    assert canonical_phone(value, country, mobile) == library_canonical_phone(
        value, country, mobile
    )


def french_numbers(seed, count):
    """National numbers over every 0X YZ block of the French plan, seeded."""
    rng = random.Random(seed)
    for block in range(100, 1000):
        for _ in range(count):
            yield f"0{block}{rng.randrange(10**6):06d}"


@pytest.mark.parametrize(
    "shape",
    [
        lambda n: n,
        lambda n: " ".join(n[i : i + 2] for i in range(0, 10, 2)),
        lambda n: "+33" + n[1:],
        lambda n: "+33 " + n[1] + "." + n[2:],
    ],
    ids=["national", "pairs", "plus33", "plus33-dotted"],
)
def test_phone_shortcut_over_french_plan(shape):
    plan = phone_plan("FR")
    mismatches = []
    unhandled = []
    for number in french_numbers(seed=4, count=6):
        value = shape(number)
        if plan.national_number(value) is None:
            unhandled.append(value)
        for mobile in (False, True):
            fast = canonical_phone(value, "FR", mobile)
            slow = library_canonical_phone(value, "FR", mobile)
            if fast != slow:
                mismatches.append((value, mobile, fast, slow))
    assert mismatches == []
    # Every shape here is one the shortcut answers itself.
    assert unhandled == []


@pytest.mark.parametrize(
    ("country", "expected"),
    [("FR", True), ("BE", True), ("GB", False), ("US", False)],
    ids=["FR", "BE", "GB-shared-code", "US-prefix-1"],
)
def test_phone_plan_availability(country, expected):
    assert (phone_plan(country) is not None) == expected


GOOD_EMAILS = ["jean.dupont@example.fr", "a+b@mail.example.com"]
GOOD_FIXED = ["01 45 67 89 10", "+33 2 40 12 34 56", "0556123456"]
GOOD_MOBILES = ["06 12 34 56 78", "07.81.23.45.67", "+33612345678"]

batch_rows = st.lists(
    st.fixed_dictionaries(
        {
            "Email": st.one_of(st.sampled_from(GOOD_EMAILS + [""]), addresses),
            "Téléphone Fixe": st.one_of(
                st.sampled_from(GOOD_FIXED + [""]), phone_values()
            ),
            "Mobile": st.one_of(st.sampled_from(GOOD_MOBILES + [""]), phone_values()),
            "Référence": st.sampled_from(["R1", "", " "]),
            "dispatch": st.sampled_from(["AO201", "AO999", ""]),
        }
    ),
    min_size=1,
    max_size=8,
)


def as_batch(rows):
    return {column: [row[column] for row in rows] for column in rows[0]}


@settings(max_examples=3000, deadline=None)
@given(
    rows=batch_rows,
    account=st.sampled_from(
        [
            AccountSettings(),
            AccountSettings(dedup=Dedup.REFERENCE),
            AccountSettings(dispatch={"AO201": "rennes"}),
            AccountSettings(invalid_values=InvalidValues.REJECT_CONTACT, country="BE"),
        ]
    ),
)
def test_screen_passes_only_clean_batches(rows, account):
    validator = ContactValidator(account)
    if validator.screen(as_batch(rows), len(rows)):
        verdicts = [validator.check(row) for row in rows]
        assert [verdict.reject_reason for verdict in verdicts] == [None] * len(rows)
        assert [verdict.invalid_values for verdict in verdicts] == [[]] * len(rows)


def test_screen_passes_common_clean_batch():
    rows = [
        {"Email": email, "Téléphone Fixe": fixed, "Mobile": mobile}
        for email, fixed, mobile in zip(
            GOOD_EMAILS * 3, GOOD_FIXED * 2, GOOD_MOBILES * 2
        )
    ]
    assert ContactValidator(AccountSettings()).screen(as_batch(rows), len(rows))
