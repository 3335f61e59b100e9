"""Property: random interleavings of edits in HubSpot and Salesforce and `hub run`s end with every field holding its
last edit in both systems and in canonical.person, with no duplicate records and no echo writes.

"Last edit" is what the systems let anyone observe between two runs: a field whose value changed (net) in one system
since the last run takes that value; changed in both, the system whose record was modified last wins (the recency of
whole records settles real conflicts only). Edits are 2 s apart, so Salesforce's whole-second timestamps order them.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reverse_etl.conftest import TO_HUBSPOT, TO_SALESFORCE
from tests.reverse_etl.helpers import cycle, hs_writes, reset, sf_contacts, sf_writes

D = "@hubprop.example"
PEOPLE = 2
FIELDS = {"first_name": ("firstname", "FirstName"), "last_name": ("lastname", "LastName")}
NAMES = ("Ann", "Bea", "Cid", "Dee")
SYSTEMS = ("hubspot", "salesforce")

edit = st.tuples(st.just("edit"), st.sampled_from(SYSTEMS), st.integers(0, PEOPLE - 1),
                 st.sampled_from(sorted(FIELDS)), st.sampled_from(NAMES))
steps = st.lists(st.one_of(edit, st.just(("run",))), min_size=1, max_size=7)
examples = itertools.count()


def built(project: Any) -> None:
    from hub.modeling import build

    report = build(project)
    assert report.ok, report.errors


def records(sb: Any, email: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every live HubSpot and Salesforce record of one email (one each, unless something duplicated it)."""
    store = sb.hubspot.store
    with store.lock:
        hs = [dict(o.props) for o in store.tables["contacts"].live() if (o.props.get("email") or "").lower() == email]
    return hs, sf_contacts(sb, email)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(steps=steps)
def test_every_field_ends_with_its_last_edit_everywhere(quiet_sandbox, sandbox_syncs, steps):
    sb, n = quiet_sandbox, next(examples)
    if n == 0:   # one project for every example; each example brings its own people
        syncs = TO_HUBSPOT.format(mode="upsert") + TO_SALESFORCE.format(mode="upsert")
        sandbox_syncs.project = sandbox_syncs(sb, syncs.replace('mode = "upsert"',
                                                                f'mode = "upsert"\nwhere = "email LIKE \'%{D}\'"'))
    project = sandbox_syncs.project
    emails = [f"p{n}x{i}{D}" for i in range(PEOPLE)]
    ids: dict[tuple[str, int], str] = {}
    for i, email in enumerate(emails):
        ids["hubspot", i] = str(sb.hubspot.store.create("contacts", {"email": email, "firstname": "Ann",
                                                                     "lastname": "Lee"})["id"])
        ids["salesforce", i] = sb.salesforce.store.create("Contact", {"Email": email, "FirstName": "Ann",
                                                                      "LastName": "Lee"})
    assert cycle(project, built).ok
    synced = {(i, f): "Ann" if f == "first_name" else "Lee" for i in range(PEOPLE) for f in FIELDS}
    now = {(s, i, f): v for s in SYSTEMS for (i, f), v in synced.items()}
    modified: dict[tuple[str, int], int] = {}

    def run() -> None:
        assert cycle(project, built).ok
        for (i, f), value in synced.items():
            changed = [s for s in SYSTEMS if now[s, i, f] != value]
            if changed:
                synced[i, f] = now[max(changed, key=lambda s: modified[s, i]), i, f]
        now.update({(s, i, f): v for s in SYSTEMS for (i, f), v in synced.items()})
        modified.clear()

    for step, tick in zip(steps, itertools.count()):
        if step[0] == "run":
            run()
            continue
        _, system, i, f, value = step
        sb.clock.advance(2)
        if system == "hubspot":
            sb.hubspot.store.update("contacts", ids[system, i], {FIELDS[f][0]: value})
        else:
            sb.salesforce.store.update("Contact", ids[system, i], {FIELDS[f][1]: value})
        now[system, i, f], modified[system, i] = value, tick
    run()

    for i, email in enumerate(emails):
        hs, sf = records(sb, email)
        assert len(hs) == 1 and len(sf) == 1, (email, hs, sf)
        for f, (hs_field, sf_field) in FIELDS.items():
            assert hs[0][hs_field] == synced[i, f] and sf[0][sf_field] == synced[i, f], (email, f, steps)
        assert project.query(f"SELECT first_name, last_name FROM canonical.person WHERE email = '{email}'").rows == [
            (synced[i, "first_name"], synced[i, "last_name"])]
    reset(sb)
    report = cycle(project, built)
    assert [r.changed for r in report.results] == [0, 0] and hs_writes(sb) == 0 and sf_writes(sb) == 0
