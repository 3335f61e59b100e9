"""Normalizers: emails, phones (held to the phonenumbers library), names, domains, company names."""

from __future__ import annotations

import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.modeling.normalize import (
    company_key,
    name_key,
    normalize_domain,
    normalize_email,
    normalize_emails,
    normalize_name,
)
from hub.modeling.phones import normalize_phone, normalize_phones


def reference_phone(value: str | None, region: str) -> tuple[str | None, bool | None]:
    """What the phonenumbers library says, by hand: E.164 for a valid number, else the trimmed text."""
    text = (value or "").strip()
    if not text:
        return None, None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text, False
    if not phonenumbers.is_valid_number(number):
        return text, False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True


digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
sep = st.sampled_from(["", " ", "-", "."])


@st.composite
def north_american(draw: st.DrawFn) -> str:
    """Phone numbers in the shapes the vectorized path handles (and some it must hand over), random digits."""
    area = "".join(draw(digits) for _ in range(3))
    exchange = "".join(draw(digits) for _ in range(3))
    line = "".join(draw(digits) for _ in range(4))
    prefix = draw(st.sampled_from(["", "+1", "+1 ", "1 ", "1-", "1", "+1-", "+1.", "001 ", "+ 1 "]))
    area = draw(st.sampled_from([area, f"({area})"]))
    pad = draw(st.sampled_from(["", " ", "  ", "\t"]))
    return f"{pad}{prefix}{area}{draw(sep)}{exchange}{draw(sep)}{line}{pad}"


REGIONS = st.sampled_from(["US", "CA", "GB", "DE"])


@settings(max_examples=400, deadline=None)
@given(north_american(), REGIONS)
def test_vectorized_phone_path_agrees_with_phonenumbers(value, region):
    assert normalize_phone(value, region) == reference_phone(value, region)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789 +-().xet#*", max_size=22), REGIONS)
def test_any_phone_text_agrees_with_phonenumbers(value, region):
    assert normalize_phone(value, region) == reference_phone(value, region)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), north_american(), st.sampled_from(["n/a", "+44 20 7946 0958", "call me"])),
                max_size=40), st.sampled_from(["US", "GB"]))
def test_phones_in_bulk_match_one_by_one(values, region):
    phones, valid = normalize_phones(pa.array(values, pa.string()), region)
    assert list(zip(phones.to_pylist(), valid.to_pylist(), strict=True)) == [reference_phone(v, region) for v in values]


@pytest.mark.parametrize("raw", ["(415) 555-0142", "+1 415 555 0142", "415.555.0142", "4155550142", "1-415-555-0142",
                                 " +1 (415) 555-0142 "])
def test_the_usual_us_formats_meet_at_e164(raw):
    assert normalize_phone(raw) == ("+14155550142", True)


def test_international_and_unparseable_phones():
    assert normalize_phone("+44 20 7946 0958") == ("+442079460958", True)
    assert normalize_phone("020 7946 0958", "GB") == ("+442079460958", True)
    assert normalize_phone("call me") == ("call me", False)       # kept visible, flagged
    assert normalize_phone("555-0142") == ("555-0142", False)      # a local number without an area code
    assert normalize_phone("   ") == (None, None)


local_part = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=20)
domain = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12),
                  min_size=1, max_size=3).map(".".join)
tld = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=6)
emails = st.builds(lambda a, b, c: f"{a}@{b}.{c}", local_part, domain, tld)
whitespace = st.text(alphabet=" \t\n\u00a0", max_size=3)


@settings(max_examples=300, deadline=None)
@given(emails, whitespace, whitespace, st.booleans())
def test_emails_ignore_case_and_surrounding_space(email, before, after, shout):
    messy = before + (email.upper() if shout else email) + after
    assert normalize_email(messy) == (email.lower(), True)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_email_normalization_is_idempotent_and_never_drops_a_value(text):
    normalized, valid = normalize_email(text)
    if text.strip() == "" or text.strip().lower() == "mailto:":
        assert normalized is None or valid is False
        return
    assert normalized is not None                      # kept visible, valid or not
    assert normalize_email(normalized) == (normalized, valid)
    if valid:
        assert "@" in normalized and " " not in normalized and normalized == normalized.lower()


@pytest.mark.parametrize("raw", ["n/a", "john@", "no email", "a@b", "a@@b.com", "a b@c.com", "a@b.c"])
def test_emails_without_a_valid_domain_are_flagged_not_dropped(raw):
    assert normalize_email(raw) == (raw.lower(), False)


def test_emails_in_bulk():
    emails, valid = normalize_emails(pa.array([" Ann@Acme.COM ", None, "mailto:bob@x.io", ""]))
    assert emails.to_pylist() == ["ann@acme.com", None, "bob@x.io", None]
    assert valid.to_pylist() == [True, None, True, None]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéüñ '-", min_size=1, max_size=15),
       st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ '-", min_size=1, max_size=15))
def test_name_keys_ignore_case_punctuation_and_spacing(first, last):
    assert name_key(first, last) == name_key(f"  {first.upper()} ", last.lower().replace(" ", "") + "-")


def test_name_keys_resolve_nicknames_and_accents():
    assert name_key("Bob", "Smith") == name_key("Robert", "SMITH") == "robert smith"
    assert name_key("José", "Müller") == name_key("Jose", "Muller")
    assert name_key("Ann", None) is None
    assert normalize_name("  Mary   Ann ") == "Mary Ann"


@pytest.mark.parametrize("raw, expected", [
    ("https://www.acme.com/", ("acme.com", True)), ("ACME.com", ("acme.com", True)),
    ("http://user@www2.acme.co.uk:8080/about?x=1", ("acme.co.uk", True)), ("acme.com.", ("acme.com", True)),
    ("not a domain", ("not a domain", False)), ("", (None, None)),
])
def test_domains(raw, expected):
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize("a, b", [("Acme Inc", "ACME, Inc."), ("Acme", "The Acme Company"),
                                  ("Smith & Sons Co. Ltd.", "smith and sons"), ("Müller GmbH", "Muller")])
def test_company_names_meet(a, b):
    assert company_key(a) == company_key(b)


def test_company_names_that_differ_stay_apart():
    assert company_key("Acme Analytics") != company_key("Acme Logistics")
