"""Seed data: deterministic, overlapping across systems with realistic differences, and dirty on purpose."""

from __future__ import annotations

import re
from dataclasses import asdict

from hub.sandbox.seed import NICKNAMES, generate
from tests.sandbox.conftest import NOW

NOW_MS = int(NOW.timestamp() * 1000)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _norm_email(value: str | None) -> str | None:
    return value.strip().lower() if value else None


def test_same_seed_same_data_and_another_seed_differs():
    a, b = generate(7, 400, now_ms=NOW_MS), generate(7, 400, now_ms=NOW_MS)
    assert [asdict(r) for r in a.contacts["marketing"]] == [asdict(r) for r in b.contacts["marketing"]]
    assert [asdict(r) for r in a.companies["sales"]] == [asdict(r) for r in b.companies["sales"]]
    other = generate(8, 400, now_ms=NOW_MS)
    assert [r.email for r in other.contacts["marketing"]] != [r.email for r in a.contacts["marketing"]]


def test_about_forty_percent_of_people_are_in_both_systems_with_differences():
    data = generate(7, 400, now_ms=NOW_MS)
    both = data.overlapping_people()
    people = {r.person for r in data.contacts["marketing"]} | {r.person for r in data.contacts["sales"]}
    assert 0.3 < len(both) / len(people) < 0.5
    assert people - both, "some people live in one system only"
    hs = {r.person: r for r in data.contacts["marketing"]}
    sf = {r.person: r for r in data.contacts["sales"]}
    pairs = [(hs[p], sf[p]) for p in both]
    # the same person, told apart the way two CRMs disagree
    assert any(h.email and s.email and h.email != s.email and _norm_email(h.email) == _norm_email(s.email)
               for h, s in pairs), "email case/spacing differences"
    assert any(s.email and s.email != s.email.strip() for _, s in pairs), "surrounding spaces"
    assert any((h.phone is None) != (s.phone is None) for h, s in pairs), "phone missing on one side"
    assert any(NICKNAMES.get(h.first_name or "") == s.first_name or NICKNAMES.get(s.first_name or "") == h.first_name
               for h, s in pairs), "Robert vs Bob"
    assert sum(h.updated_ms != s.updated_ms for h, s in pairs) == len(pairs), "independent update times"


def test_dirty_records_are_present():
    data = generate(7, 400, now_ms=NOW_MS)
    rows = data.contacts["marketing"] + data.contacts["sales"]
    assert any(r.email is not None and not EMAIL.match(r.email.strip()) for r in rows), "invalid emails"
    assert any(r.email in ("n/a", "unknown", "") or (r.email or "").endswith("@") for r in rows)
    assert any(r.phone and sum(ch.isdigit() for ch in r.phone) < 7 for r in rows), "unparseable phones"
    assert any(r.first_name is None or not r.first_name.strip() for r in rows), "blank names"
    phones = [r.phone for r in rows if r.phone]
    assert any(p.startswith("(") for p in phones) and any(p.startswith("+44") for p in phones)
    assert any("." in p and p[0].isdigit() for p in phones)
    sf_people = [r.person for r in data.contacts["sales"]]
    assert len(sf_people) > len(set(sf_people)), "duplicates within Salesforce"
    hs_people = [r.person for r in data.contacts["marketing"]]
    assert len(hs_people) > len(set(hs_people)), "duplicates within HubSpot"


def test_companies_shared_with_name_variations_and_timestamps_in_the_last_two_years():
    data = generate(7, 400, now_ms=NOW_MS)
    assert 40 <= len(data.companies["marketing"]) <= 50
    hs = {c.key: c for c in data.companies["marketing"]}
    sf = {c.key: c for c in data.companies["sales"]}
    shared = hs.keys() & sf.keys()
    assert len(shared) > len(hs) // 2
    assert any(hs[k].name != sf[k].name for k in shared)
    assert all(c.domain for c in data.companies["marketing"])
    assert sum(r.company is not None for r in data.contacts["marketing"]) > len(data.contacts["marketing"]) // 2
    two_years = 731 * 86_400_000
    for row in data.contacts["marketing"] + data.contacts["sales"]:
        assert NOW_MS - two_years <= row.created_ms <= row.updated_ms <= NOW_MS


def test_hundred_thousand_contacts_seed():
    # how fast this is belongs to benchmarks/sandbox_throughput.py; a timed assertion would fail on a busy machine
    data = generate(7, 400, now_ms=NOW_MS, contacts={"marketing": 100_000, "sales": 50})
    assert len(data.contacts["marketing"]) == 100_000 and len(data.contacts["sales"]) == 50
    assert len({r.email for r in data.contacts["marketing"]}) > 99_000
