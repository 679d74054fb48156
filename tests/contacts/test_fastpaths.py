"""The validation shortcuts give exactly the libraries' verdicts.

canonical_email and canonical_phone answer common shapes from regular
expressions; library_canonical_email and library_canonical_phone ask
email-validator and phonenumbers every time. They must agree on every value.
"""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digitaleo_client.contacts.fastpaths import is_simple_valid_email, phone_plan
from digitaleo_client.contacts.validation import (
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
    alphabet=st.sampled_from(list("0123456789")), min_size=0, max_size=13
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
