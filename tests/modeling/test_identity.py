"""Identity resolution: transitive matching, stable ids across rebuilds and merges, survivorship and priority."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import ConfigError, UnknownNameError
from hub.modeling import build
from hub.project import Project
from tests.modeling.raw import hubspot_company, hubspot_contact, salesforce_account, salesforce_contact


def ids(project: Project) -> dict[tuple[str, str], int]:
    """(connection, source_id) -> person_id, from the identity map readers use."""
    rows = project.query("SELECT connection, source_id, person_id FROM canonical.person_source").rows
    return {(c, s): p for c, s, p in rows}


def person(project: Project, person_id: int) -> dict:
    return project.query(f"SELECT * FROM canonical.person WHERE person_id = {person_id}").records()[0]


def ok(project: Project) -> None:
    report = build(project)
    assert report.ok, report.errors


def test_matches_are_transitive_across_email_and_phone_plus_name(project, write_raw):
    write_raw("hubspot", "contacts", [
        hubspot_contact("h1", email="ann.lee@acme.com", firstname="Ann", lastname="Lee", phone="(415) 555-0142"),
        hubspot_contact("h2", email=" ANN.LEE@acme.com", firstname="Annie", lastname="Lee"),   # same email, no phone
        hubspot_contact("h3", email="zed@zeta.io", firstname="Zed", lastname="Ze")])
    # No email: matched to h1 on phone + name only, and so to h2 through h1.
    write_raw("salesforce", "contact", [salesforce_contact("s1", first_name="Ann", last_name="Lee",
                                                           phone="+1 415 555 0142")])
    ok(project)
    got = ids(project)
    assert got[("hubspot", "h1")] == got[("hubspot", "h2")] == got[("salesforce", "s1")] != got[("hubspot", "h3")]
    assert person(project, got[("salesforce", "s1")])["source_count"] == 3


def test_nicknames_match_on_phone_but_different_emails_never_do(project, write_raw):
    write_raw("hubspot", "contacts", [
        hubspot_contact("h1", email="n/a", firstname="Robert", lastname="Smith", phone="415.555.0199"),
        hubspot_contact("h2", email="pat@acme.com", firstname="Pat", lastname="Doe", phone="(212) 555-0100")])
    write_raw("salesforce", "contact", [
        salesforce_contact("s1", first_name="Bob", last_name="Smith", phone="+1 415 555 0199"),
        # Shares Pat's office phone and name but has an email of its own: a different person.
        salesforce_contact("s2", email="pat.doe@other.org", first_name="Pat", last_name="Doe", phone="2125550100")])
    ok(project)
    got = ids(project)
    assert got[("hubspot", "h1")] == got[("salesforce", "s1")]
    assert got[("hubspot", "h2")] != got[("salesforce", "s2")]
    bob = person(project, got[("hubspot", "h1")])
    assert (bob["email"], bob["email_is_valid"]) == ("n/a", False)      # invalid, but still visible


def test_ids_are_stable_across_rebuilds_and_new_records(project, write_raw):
    contacts = [hubspot_contact(f"h{i}", email=f"p{i}@acme.com", firstname="P", lastname=f"N{i}") for i in range(5)]
    write_raw("hubspot", "contacts", contacts)
    ok(project)
    first = ids(project)
    ok(project)
    assert ids(project) == first
    write_raw("hubspot", "contacts", [*contacts, hubspot_contact("h9", email="new@acme.com", day=4)])
    write_raw("salesforce", "contact", [salesforce_contact("s1", email="P3@ACME.COM", day=4)])
    report = build(project)
    assert report.person.changed_records == 2 and report.person.new_ids == 1
    after = ids(project)
    assert {k: v for k, v in after.items() if k in first} == first
    assert after[("salesforce", "s1")] == first[("hubspot", "h3")]


def test_a_merge_keeps_the_older_id_and_is_logged(project, write_raw):
    write_raw("hubspot", "contacts", [hubspot_contact("h1", email="ann@acme.com", firstname="Ann", lastname="Lee")])
    write_raw("salesforce", "contact", [salesforce_contact("s1", email="ann@home.net", first_name="Ann",
                                                           last_name="Lee", phone="+1 415 555 0142")])
    ok(project)
    before = ids(project)
    older, newer = sorted([before[("hubspot", "h1")], before[("salesforce", "s1")]])
    # A new HubSpot record carries both emails' people together (same phone and name, no email of its own).
    write_raw("hubspot", "contacts", [
        hubspot_contact("h1", email="ann@acme.com", firstname="Ann", lastname="Lee", phone="(415) 555-0142", day=3),
        hubspot_contact("h2", firstname="Ann", lastname="Lee", phone="415-555-0142", day=3)])
    report = build(project)
    assert report.person.merges == 1
    after = ids(project)
    assert set(after.values()) == {older}
    merges = project.query("SELECT kind, person_id, other_person_id FROM _hub.person_merges").rows
    assert merges == [("merge", older, newer)]
    assert project.query(f"SELECT merged_into FROM _hub.person_ids WHERE person_id = {newer}").scalar() == older
    assert [r[0] for r in project.query("SELECT person_id FROM canonical.person").rows] == [older]


def test_a_split_keeps_the_id_with_the_larger_part(project, write_raw):
    write_raw("hubspot", "contacts", [hubspot_contact("h1", email="ann@acme.com"),
                                      hubspot_contact("h2", email="ann@acme.com")])
    write_raw("salesforce", "contact", [salesforce_contact("s1", email="ann@acme.com")])
    ok(project)
    original = ids(project)[("hubspot", "h1")]
    write_raw("salesforce", "contact", [salesforce_contact("s1", email="someone.else@acme.com", day=5)])
    ok(project)
    after = ids(project)
    assert after[("hubspot", "h1")] == after[("hubspot", "h2")] == original
    assert after[("salesforce", "s1")] > original
    assert project.query("SELECT kind, person_id, other_person_id FROM _hub.person_merges").rows == [
        ("split", original, after[("salesforce", "s1")])]


def test_records_that_disappear_end_their_person(project, write_raw):
    write_raw("hubspot", "contacts", [hubspot_contact("h1", email="a@acme.com"), hubspot_contact("h2", email="b@b.io")])
    write_raw("salesforce", "contact", [salesforce_contact("s1", email="a@acme.com")])
    ok(project)
    gone = ids(project)[("hubspot", "h2")]
    write_raw("hubspot", "contacts", [hubspot_contact("h1", email="a@acme.com")])
    # Salesforce keeps deleted records, flagged: staging drops them.
    write_raw("salesforce", "contact", [salesforce_contact("s1", email="a@acme.com", is_deleted=True, day=2)])
    ok(project)
    assert set(ids(project)) == {("hubspot", "h1")}
    assert gone not in [r[0] for r in project.query("SELECT person_id FROM canonical.person").rows]
    assert ("removed", gone) in project.query("SELECT kind, person_id FROM _hub.person_merges").rows
    assert project.query(f"SELECT ended_at IS NOT NULL FROM _hub.person_ids WHERE person_id = {gone}").scalar()


def test_survivorship_takes_the_latest_non_null_valid_value(project, write_raw):
    write_raw("hubspot", "contacts", [hubspot_contact(
        "h1", day=1, email="ann@acme.com", firstname="Ann", lastname="Lee", jobtitle="CTO", phone="(415) 555-0142")])
    write_raw("salesforce", "contact", [salesforce_contact(
        "s1", day=5, email="ANN@acme.com", first_name="Anne", last_name="Lee", title=None, phone="call me")])
    ok(project)
    row = person(project, ids(project)[("hubspot", "h1")])
    assert row["first_name"] == "Anne"                      # the newer record's value
    assert row["job_title"] == "CTO"                        # a newer NULL does not erase it
    assert (row["phone"], row["phone_is_valid"]) == ("+14155550142", True)   # valid beats newer-but-invalid
    assert row["source_count"] == 2
    assert str(row["first_seen_at"]).startswith("2025-03-01") and str(row["updated_at"]).startswith("2025-03-05")


def test_priority_per_field_beats_recency(make_project, write_raw):
    root = make_project("""
        [connections.hubspot]
        type = "hubspot"

        [connections.salesforce]
        type = "salesforce"
        base_url = "https://example.my.salesforce.com"

        [models.person]
        priority = { phone = ["salesforce", "hubspot"], first_name = ["hubspot"] }
        """, name="prio")
    project = Project(root)
    from tests.modeling import raw

    with project.warehouse() as wh:
        raw.write(wh, "hubspot", "contacts", [hubspot_contact(
            "h1", day=9, email="ann@acme.com", firstname="Ann", phone="(415) 555-0142")])
        raw.write(wh, "salesforce", "contact", [salesforce_contact(
            "s1", day=1, email="ann@acme.com", first_name="Anne", phone="+1 212 555 0100")])
    ok(project)
    row = project.query("SELECT phone, first_name FROM canonical.person").rows
    assert row == [("+12125550100", "Ann")]


def test_changing_settings_re_resolves_but_keeps_ids(root, write_raw):
    write_raw("hubspot", "contacts", [hubspot_contact("h1", firstname="Ann", lastname="Lee", phone="020 7946 0958"),
                                      hubspot_contact("h2", email="b@b.io")])
    ok(Project(root))
    before = ids(Project(root))
    assert Project(root).query("SELECT phone_is_valid FROM canonical.person_source WHERE source_id = 'h1'").scalar() \
        is False
    (root / "hub.toml").write_text((root / "hub.toml").read_text() + '\n[models.person]\nphone_region = "GB"\n')
    report = build(Project(root))
    assert report.person.full and report.person.changed_records == 2
    assert ids(Project(root)) == before
    assert Project(root).query("SELECT phone FROM canonical.person WHERE person_id = "
                               f"{before[('hubspot', 'h1')]}").scalar() == "+442079460958"


@pytest.mark.parametrize("models, error, match", [
    ('[models.person]\npriority = { phon = ["hubspot"] }', UnknownNameError, "did you mean 'phone'"),
    ('[models.person]\npriority = { phone = ["hubspto"] }', UnknownNameError, "did you mean 'hubspot'"),
    ('[models.person]\nphone_region = "USA"', UnknownNameError, "unknown phone region 'USA'"),
    ('[models.persons]\nphone_region = "US"', UnknownNameError, "did you mean 'person'"),
    ('[models.person]\nregion = "US"', UnknownNameError, "did you mean 'phone_region'"),
    ('[models.person]\npriority = { phone = "hubspot" }', ConfigError, "must be a list"),
])
def test_models_config_errors_name_file_and_line(root: Path, models, error, match):
    (root / "hub.toml").write_text((root / "hub.toml").read_text() + "\n" + models + "\n")
    with pytest.raises(error, match=match) as raised:
        build(Project(root))
    assert str(raised.value).startswith("hub.toml:")


def test_companies_match_on_domain_and_name_and_feed_person_company(project, write_raw):
    write_raw("hubspot", "companies", [hubspot_company("c1", name="Acme Inc", domain="acme.com"),
                                       hubspot_company("c2", name="Beta LLC")])
    write_raw("salesforce", "account", [salesforce_account("a1", name="ACME, Inc.", website="https://www.acme.com/"),
                                        salesforce_account("a2", name="Beta")])        # no website: name decides
    write_raw("salesforce", "contact", [salesforce_contact("s1", email="ann@acme.com", account_id="a1")])
    ok(project)
    companies = project.query("SELECT company_id, name, domain, source_count FROM canonical.company "
                              "ORDER BY company_id").rows
    assert len(companies) == 2 and {c[3] for c in companies} == {2}
    acme = next(c for c in companies if c[2] == "acme.com")
    row = project.query("SELECT company_id, company_name FROM canonical.person").rows[0]
    assert row == (acme[0], acme[1])
    sources = project.query("SELECT connection, stream, source_id FROM canonical.company_source "
                            f"WHERE company_id = {acme[0]} ORDER BY 1").rows
    assert sources == [("hubspot", "companies", "c1"), ("salesforce", "Account", "a1")]


def test_a_renamed_account_reaches_its_contacts_on_an_incremental_build(project, write_raw):
    write_raw("salesforce", "account", [salesforce_account("a1", name="Acme", website="acme.com")])
    write_raw("salesforce", "contact", [salesforce_contact("s1", email="ann@acme.com", account_id="a1")])
    ok(project)
    write_raw("salesforce", "account", [salesforce_account("a1", name="Acme Holdings", website="acme.com", day=4)])
    report = build(project)
    assert next(r for r in report.results if r.name == "canonical.person").mode == "incremental"
    assert project.query("SELECT company_name FROM canonical.person").scalar() == "Acme Holdings"


def test_person_source_is_the_identity_map(project, write_raw):
    write_raw("hubspot", "contacts", [hubspot_contact("h1", email="ann@acme.com", day=2)])
    write_raw("salesforce", "contact", [salesforce_contact("s1", email="ann@acme.com", day=3)])
    ok(project)
    rows = project.query("SELECT person_id, connection, stream, source_id, source_updated_at "
                         "FROM canonical.person_source ORDER BY connection").rows
    assert [r[1:4] for r in rows] == [("hubspot", "contacts", "h1"), ("salesforce", "Contact", "s1")]
    assert rows[0][0] == rows[1][0]
    assert str(rows[1][4]).startswith("2025-03-03 12:00:00")


def test_a_record_that_moves_to_another_person_leaves_its_old_person_the_id(project, write_raw):
    # Whatever the record hashes, the one record left behind keeps A's id: the moved record is the changed one.
    for suffix in ("1", "2", "3", "4"):
        write_raw("hubspot", "contacts", [hubspot_contact(f"a{suffix}", email="a@acme.com"),
                                          hubspot_contact(f"b{suffix}", email="b@beta.io")])
        write_raw("salesforce", "contact", [salesforce_contact(f"s{suffix}", email="a@acme.com")])
        ok(project)
        before = ids(project)
        a, b = before[("hubspot", f"a{suffix}")], before[("hubspot", f"b{suffix}")]
        write_raw("salesforce", "contact", [salesforce_contact(f"s{suffix}", email="b@beta.io", day=6)])
        report = build(project)
        after = ids(project)
        assert after[("hubspot", f"a{suffix}")] == a and after[("salesforce", f"s{suffix}")] == b
        assert report.person.merges == 0 and report.person.new_ids == 0
        assert ("moved", a, b) in project.query("SELECT kind, person_id, other_person_id FROM _hub.person_merges").rows


def test_a_project_source_joins_identity_and_its_duplicates_keep_the_latest_copy(project, write_raw, write_model):
    write_raw("hubspot", "contacts", [hubspot_contact("h1", email="new@b.io")])
    write_model("models/staging/csv_people.sql", """
        -- materialized: view
        -- entity: person
        SELECT source_id, email, updated_at FROM (VALUES
            ('x1', 'old@b.io', TIMESTAMPTZ '2025-01-01'),
            ('x1', 'NEW@b.io', TIMESTAMPTZ '2025-02-01')) AS t(source_id, email, updated_at)
        """)
    ok(project)
    rows = project.query("SELECT connection, stream, source_id, email, person_id FROM canonical.person_source "
                         "ORDER BY connection").rows
    assert [r[:4] for r in rows] == [("csv_people", "csv_people", "x1", "new@b.io"),
                                     ("hubspot", "contacts", "h1", "new@b.io")]
    assert rows[0][4] == rows[1][4]


def test_full_refresh_rereads_every_record_and_keeps_ids(project, write_raw):
    contacts = [hubspot_contact(f"h{i}", email=f"p{i}@acme.com", firstname="P", lastname=f"N{i}", jobtitle="Analyst")
                for i in range(3)]
    write_raw("hubspot", "contacts", contacts)
    write_raw("salesforce", "contact", [salesforce_contact("s1", email="p1@acme.com", title="Lead")])
    ok(project)
    before = ids(project)
    report = build(project, full_refresh=True)
    assert report.ok and report.person.full and report.person.changed_records == 4
    assert ids(project) == before


def test_a_map_that_stored_match_keys_is_re_read_once_and_keys_still_match_incrementally(project, write_raw):
    contacts = [hubspot_contact("h1", email="ann.lee@acme.com", firstname="Ann", lastname="Lee",
                                phone="(415) 555-0142"),
                hubspot_contact("h2", email="zed@zeta.io", firstname="Zed", lastname="Ze")]
    write_raw("hubspot", "contacts", contacts)
    ok(project)
    before = ids(project)
    with project.warehouse() as wh:   # the map as an older hub left it: keys stored, a digest without the marker
        wh.execute("ALTER TABLE _hub.person_identity ADD COLUMN email_key VARCHAR")
        wh.execute("UPDATE _hub.identity_state SET digest = replace(digest, '|keys-computed-v1', '')")
    report = build(project)
    assert report.ok and report.person.full and report.person.new_ids == 0
    assert ids(project) == before
    assert not {"email_key", "phone_key", "mobile_key"} & {r[0] for r in
                                                           project.query("DESCRIBE _hub.person_identity").rows}
    report = build(project)
    assert report.ok and not report.person.full and report.person.changed_records == 0
    # New records find their person through keys computed from the map: an email, and phone + name (the same phone
    # with another name is someone else).
    write_raw("salesforce", "contact", [
        salesforce_contact("s1", email=" ANN.LEE@ACME.COM", first_name="Ann", last_name="Lee"),
        salesforce_contact("s2", first_name="Ann", last_name="LEE", phone="+1 415 555 0142"),
        salesforce_contact("s3", first_name="Zed", last_name="Ze", phone="+1 415 555 0142")])
    report = build(project)
    assert report.ok and not report.person.full and report.person.changed_records == 3
    got = ids(project)
    assert got[("salesforce", "s1")] == before[("hubspot", "h1")]
    assert got[("salesforce", "s2")] == before[("hubspot", "h1")]    # no email: phone + name
    assert got[("salesforce", "s3")] not in (before[("hubspot", "h1")], before[("hubspot", "h2")])
    assert {k: v for k, v in got.items() if k in before} == before
