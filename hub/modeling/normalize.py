"""Normalizers for matching and display: emails, person names, web domains, company names (phones: ``phones.py``).

Each works on whole Arrow arrays (a million values in tens of milliseconds, RE2 underneath) and has a one-value wrapper
built on the same code, so the two can never disagree. Normalizing never drops a value: an invalid email is still
lower-cased and trimmed, and flagged invalid, so it stays visible; only *valid* values become match keys.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

# A practical address shape: no spaces or specials, one @, a domain of dotted labels ending in a top-level domain of
# 2+ letters. Letters may be any script's ("müller@exämple.de" is a real, internationalized address); non-ASCII is
# spelled as a byte range because RE2 compiles \p{L} into a huge automaton, slow to build on every call.
_CHAR = r"[0-9a-z\x{80}-\x{10FFFF}]"
EMAIL = (rf"^[^\s@\"(),:;<>\[\]\\]+@(?:{_CHAR}(?:[0-9a-z\x{{80}}-\x{{10FFFF}}-]*{_CHAR})?\.)+"
         r"[a-z\x{80}-\x{10FFFF}]{2,}$")
DOMAIN = r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
# Legal forms dropped from the end of a company name, so "ACME, Inc." and "Acme Inc" meet at "acme".
LEGAL_FORMS = ("inc", "incorporated", "llc", "llp", "ltd", "limited", "corp", "corporation", "co", "company", "gmbh",
               "ag", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "pty", "pte", "oy", "ab", "as", "kg", "lp")
# Common English nicknames, so "Bob Smith" and "Robert Smith" with one phone number are the same person.
NICKNAMES = {
    "abby": "abigail", "al": "albert", "alex": "alexander", "andy": "andrew", "drew": "andrew", "tony": "anthony",
    "ben": "benjamin", "bill": "william", "billy": "william", "will": "william", "liam": "william", "bob": "robert",
    "bobby": "robert", "rob": "robert", "robbie": "robert", "bert": "robert", "cathy": "catherine", "kate": "catherine",
    "katie": "catherine", "chris": "christopher", "dan": "daniel", "danny": "daniel", "dave": "david", "ed": "edward",
    "eddie": "edward", "ted": "edward", "liz": "elizabeth", "beth": "elizabeth", "betty": "elizabeth",
    "lisa": "elizabeth", "fred": "frederick", "greg": "gregory", "jim": "james", "jimmy": "james", "jamie": "james",
    "jen": "jennifer", "jenny": "jennifer", "joe": "joseph", "joey": "joseph", "jon": "jonathan", "johnny": "john",
    "jack": "john", "josh": "joshua", "ken": "kenneth", "larry": "lawrence", "matt": "matthew", "mike": "michael",
    "mikey": "michael", "nick": "nicholas", "pat": "patricia", "patty": "patricia", "peggy": "margaret",
    "maggie": "margaret", "meg": "margaret", "pete": "peter", "rick": "richard", "rich": "richard", "dick": "richard",
    "ron": "ronald", "sam": "samuel", "steve": "stephen", "steven": "stephen", "sue": "susan", "tom": "thomas",
    "tommy": "thomas", "tim": "timothy", "vicky": "victoria", "wes": "wesley",
}
_NULL = pa.scalar(None, pa.string())


def normalize_email(value: str | None) -> tuple[str | None, bool | None]:
    """One email: ``(lower-cased trimmed text, valid?)``; ``(None, None)`` when blank."""
    emails, valid = normalize_emails(pa.array([value], pa.string()))
    return emails[0].as_py(), valid[0].as_py()


def normalize_emails(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Vectorized :func:`normalize_email`."""
    text = pc.utf8_lower(_trimmed(values))
    # "mailto:" pasted along with the address is noise, not part of it. Rare: a prefix test (a byte compare) spares
    # the regex's pass and its copy of every address when no value has it.
    if pc.any(pc.starts_with(text, "mailto:")).as_py():
        text = pc.replace_substring_regex(text, r"^mailto:", "")
    text = _blank_to_null(text)
    return text, pc.match_substring_regex(text, EMAIL)


def email_domain(value: str | None) -> str | None:
    """The domain of a valid email (``"a@Acme.com"`` -> ``"acme.com"``), else None."""
    email, valid = normalize_email(value)
    return email.rsplit("@", 1)[1] if valid and email else None


def normalize_name(value: str | None) -> str | None:
    """A display name: trimmed, inner whitespace collapsed, case kept."""
    return normalize_names(pa.array([value], pa.string()))[0].as_py()


def normalize_names(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Vectorized :func:`normalize_name`."""
    return _per_distinct(values, lambda v: _blank_to_null(pc.replace_substring_regex(_trimmed(v), r"\s+", " ")))


def name_key(first: str | None, last: str | None) -> str | None:
    """The matching form of a person's name: accents and punctuation gone, nicknames resolved; None without both."""
    return name_keys(pa.array([first], pa.string()), pa.array([last], pa.string()))[0].as_py()


def name_keys(first: pa.Array | pa.ChunkedArray, last: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Vectorized :func:`name_key`."""
    def formal(values: pa.Array) -> pa.Array:
        given = _letters(values)
        nick = pa.array(list(NICKNAMES), pa.string())
        known = pc.take(pa.array(list(NICKNAMES.values()), pa.string()), pc.index_in(given, value_set=nick))
        return pc.coalesce(known, given)
    return pc.binary_join_element_wise(_per_distinct(first, formal), _per_distinct(last, _letters), " ")


def normalize_domain(value: str | None) -> tuple[str | None, bool | None]:
    """A website or domain as a bare host (``"https://www.Acme.com/x"`` -> ``"acme.com"``), and whether it is one."""
    domains, valid = normalize_domains(pa.array([value], pa.string()))
    return domains[0].as_py(), valid[0].as_py()


def normalize_domains(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Vectorized :func:`normalize_domain`."""
    text = pc.utf8_lower(_trimmed(values))
    host = pc.replace_substring_regex(text, r"^[a-z][a-z0-9+.\-]*://", "")
    host = pc.replace_substring_regex(host, r"^[^/@]*@", "")          # user:password@ or an email address
    host = pc.replace_substring_regex(host, r"[/?#:].*$", "")         # path, query, fragment, port
    host = pc.replace_substring_regex(host, r"^www\d*\.", "")
    host = _blank_to_null(pc.replace_substring_regex(host, r"\.$", ""))
    valid = pc.match_substring_regex(host, DOMAIN)
    # An unusable value stays visible as typed, not as whatever the stripping left of it.
    return pc.if_else(valid, host, _blank_to_null(_trimmed(values))), valid


def company_key(value: str | None) -> str | None:
    """The matching form of a company name: ``"ACME, Inc."`` -> ``"acme"``."""
    return company_keys(pa.array([value], pa.string()))[0].as_py()


def company_keys(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Vectorized :func:`company_key`."""
    text = pc.utf8_lower(pc.utf8_normalize(_trimmed(values), form="NFKD"))
    text = pc.replace_substring_regex(text, r"\p{M}+", "")
    text = pc.replace_substring_regex(text, "&", " and ")
    text = pc.replace_substring_regex(text, r"[^\p{L}\p{N}]+", " ")
    forms = "|".join(LEGAL_FORMS)
    # Twice: "Acme Holdings Co. Ltd." ends in two legal forms.
    for _ in range(2):
        text = pc.replace_substring_regex(text, rf"(?:^|\s)(?:{forms})\s*$", "")
    text = pc.replace_substring_regex(text, r"^the\s+", "")
    return _blank_to_null(pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"\s+", " ")))


def _per_distinct(values: pa.Array | pa.ChunkedArray, transform: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``transform`` applied once per distinct value: names repeat a lot, so this is many times less work."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values.cast(pa.string()))
    return pc.take(transform(encoded.dictionary), encoded.indices)


def _trimmed(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pc.utf8_trim_whitespace(values.cast(pa.string()))


def _letters(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    text = pc.utf8_lower(pc.utf8_normalize(_trimmed(values), form="NFKD"))
    return _blank_to_null(pc.replace_substring_regex(text, r"[^\p{L}]+", ""))


def _blank_to_null(values: pa.Array) -> pa.Array:
    blank = pc.equal(values, "")
    # Without a blank value the array stands as it is (if_else would copy every string).
    return pc.if_else(blank, _NULL, values) if pc.any(blank).as_py() else values
