"""Two-way syncs, HubSpot <-> Salesforce through canonical.person, over the sandbox: what the hub pushed and ingested
back is never pushed again (no echo), and a field edited in both systems between runs is settled by the policy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hub.reverse_etl import sync_status
from tests.reverse_etl.conftest import TO_HUBSPOT, TO_SALESFORCE
from tests.reverse_etl.helpers import cycle, hs_contact, hs_writes, reset, sf_contacts, sf_writes

D = "@hubtest.example"


def converged(sb: Any, sandbox_syncs: Any, conflicts: str = "") -> Any:
    """Ann in HubSpot only, Bob in Salesforce only, Carl in both (Salesforce's phone newer); one run aligns them."""
    sb.hubspot.store.create("contacts", {"email": f"ann{D}", "firstname": "Ann", "lastname": "Lee"})
    sb.hubspot.store.create("contacts", {"email": f"carl{D}", "firstname": "Carl", "lastname": "Moss",
                                         "phone": "+14155550101"})
    sb.clock.advance(5)
    sb.salesforce.store.create("Contact", {"Email": f"bob{D}", "FirstName": "Bob", "LastName": "Ray"})
    sb.salesforce.store.create("Contact", {"Email": f"Carl{D}", "FirstName": "Carl", "LastName": "Moss",
                                           "Phone": "+14155550202"})
    syncs = TO_HUBSPOT.format(mode="upsert") + TO_SALESFORCE.format(mode="upsert")
    project = sandbox_syncs(sb, syncs.replace('mode = "upsert"', f'mode = "upsert"\n{conflicts}'))
    reset(sb)
    report = cycle(project)
    assert report.ok, report.errors
    assert [(r.creates, r.updates) for r in report.results] == [(1, 1), (1, 0)]   # Carl's phone, only to HubSpot
    assert hs_writes(sb) == 2 and sf_writes(sb) == 1
    assert hs_contact(sb, f"carl{D}")["properties"]["phone"] == "+14155550202"
    assert sf_contacts(sb, f"ann{D}")[0]["FirstName"] == "Ann" and hs_contact(sb, f"bob{D}")
    return project


def test_what_the_hub_pushed_and_ingested_back_is_never_pushed_again(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = converged(sb, sandbox_syncs)
    reset(sb)
    report = cycle(project)
    assert [(r.changed, r.rejected, r.api_calls) for r in report.results] == [(0, 0, 0), (0, 0, 0)]
    assert hs_writes(sb) == 0 and sf_writes(sb) == 0

    # an edit in Salesforce reaches HubSpot, and is not written back to Salesforce
    carl = sf_contacts(sb, f"carl{D}")[0]["Id"]
    sb.clock.advance(2)  # later than our last push to HubSpot even at Salesforce's whole-second precision
    sb.salesforce.store.update("Contact", carl, {"FirstName": "Carlos"})
    reset(sb)
    report = cycle(project)
    assert [r.updates for r in report.results] == [1, 0]
    assert hs_writes(sb) == 1 and sf_writes(sb) == 0
    assert hs_contact(sb, f"carl{D}")["properties"]["firstname"] == "Carlos"
    reset(sb)
    assert [r.changed for r in cycle(project).results] == [0, 0]
    assert hs_writes(sb) == 0 and sf_writes(sb) == 0


def test_the_latest_edit_wins_a_conflict_and_it_is_recorded(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = converged(sb, sandbox_syncs)
    sb.hubspot.store.update("contacts", hs_contact(sb, f"carl{D}")["id"], {"firstname": "Charlie"})
    sb.clock.advance(5)
    sb.salesforce.store.update("Contact", sf_contacts(sb, f"carl{D}")[0]["Id"], {"FirstName": "Carlos"})
    reset(sb)
    report = cycle(project)
    assert [(r.updates, r.conflicts) for r in report.results] == [(1, 1), (0, 1)]
    assert hs_writes(sb) == 1 and sf_writes(sb) == 0
    assert hs_contact(sb, f"carl{D}")["properties"]["firstname"] == "Carlos"
    [conflict] = project.query("SELECT model_column, winner, resolved_value, policy FROM _hub.sync_conflicts").rows
    assert conflict == ("first_name", "salesforce", "Carlos", "latest")
    assert {s["sync"]: s["conflicts"] for s in sync_status(project)} == {"person_to_hubspot": 1,
                                                                        "person_to_salesforce": 1}
    reset(sb)
    assert [r.changed for r in cycle(project).results] == [0, 0]


def test_a_source_priority_decides_a_conflict_whatever_the_model_says(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = converged(sb, sandbox_syncs, conflicts='conflicts = ["hubspot", "salesforce"]')
    sb.hubspot.store.update("contacts", hs_contact(sb, f"carl{D}")["id"], {"firstname": "Charlie"})
    sb.clock.advance(5)
    sb.salesforce.store.update("Contact", sf_contacts(sb, f"carl{D}")[0]["Id"], {"FirstName": "Carlos"})
    reset(sb)
    report = cycle(project)                      # the stand-in model took the latest edit, Salesforce's
    assert [(r.updates, r.conflicts) for r in report.results] == [(0, 1), (1, 1)]
    assert hs_writes(sb) == 0 and sf_writes(sb) == 1
    assert sf_contacts(sb, f"carl{D}")[0]["FirstName"] == "Charlie"
    assert project.query("SELECT winner, policy FROM _hub.sync_conflicts").rows == [
        ("hubspot", "priority:hubspot,salesforce")]
    reset(sb)
    assert [r.changed for r in cycle(project).results] == [0, 0]
    assert hs_contact(sb, f"carl{D}")["properties"]["firstname"] == "Charlie"


# With the real `hub build`: survivorship by field, from the identity map's per-field change times.

def built(project: Any) -> None:
    """`hub build`: identity resolution and the canonical models."""
    from hub.modeling import build

    report = build(project)
    assert report.ok, report.errors


def carl_everywhere(sb: Any, sandbox_syncs: Any, conflicts: str = "") -> Any:
    """Carl in both systems, the same everywhere after one `hub run` with the real build (the seeded people stay out
    of the syncs)."""
    sb.hubspot.store.create("contacts", {"email": f"carl{D}", "firstname": "Carl", "lastname": "Moss"})
    sb.salesforce.store.create("Contact", {"Email": f"carl{D}", "FirstName": "Carl", "LastName": "Moss"})
    syncs = TO_HUBSPOT.format(mode="upsert") + TO_SALESFORCE.format(mode="upsert")
    scope = f'mode = "upsert"\nwhere = "email LIKE \'%{D}\'"\n{conflicts}'
    project = sandbox_syncs(sb, syncs.replace('mode = "upsert"', scope))
    report = cycle(project, built)
    assert report.ok and [r.changed for r in report.results] == [0, 0]
    return project


def carl(sb: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Carl as HubSpot and Salesforce hold him."""
    hs, [sf] = hs_contact(sb, f"carl{D}"), sf_contacts(sb, f"carl{D}")
    assert hs is not None
    return hs["properties"], sf


def test_edits_to_different_fields_in_two_systems_both_survive(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = carl_everywhere(sb, sandbox_syncs)
    hs, sf = carl(sb)
    sb.clock.advance(2)
    sb.hubspot.store.update("contacts", hs["hs_object_id"], {"firstname": "Charlie"})
    sb.clock.advance(2)   # Salesforce's record is the newer one: it must not carry its stale first name along
    sb.salesforce.store.update("Contact", sf["Id"], {"LastName": "Mossman"})
    reset(sb)
    report = cycle(project, built)
    assert report.ok and [(r.updates, r.conflicts) for r in report.results] == [(1, 0), (1, 0)]
    hs, sf = carl(sb)
    assert (hs["firstname"], hs["lastname"]) == ("Charlie", "Mossman")
    assert (sf["FirstName"], sf["LastName"]) == ("Charlie", "Mossman")
    assert project.query(f"SELECT first_name, last_name FROM canonical.person WHERE email = 'carl{D}'").rows == [
        ("Charlie", "Mossman")]
    assert project.query("SELECT count(*) FROM _hub.sync_conflicts").scalar() == 0
    reset(sb)
    assert [r.changed for r in cycle(project, built).results] == [0, 0]
    assert hs_writes(sb) == 0 and sf_writes(sb) == 0


def test_a_value_set_again_in_hubspot_after_a_salesforce_edit_is_the_latest_edit(quiet_sandbox, sandbox_syncs):
    """Dee in HubSpot, Ann in Salesforce, Dee again in HubSpot, then `hub run`: both systems changed the field since
    the last run and HubSpot's record was modified last (a property set to the value it holds is still a property
    update there), so Dee wins everywhere and Salesforce's Ann is the conflict's loser, not a revert."""
    from hubspot.crm.contacts import SimplePublicObjectInput

    sb = quiet_sandbox
    project = carl_everywhere(sb, sandbox_syncs)
    hs, sf = carl(sb)
    sb.clock.advance(2)
    first = sb.hubspot.store.update("contacts", hs["hs_object_id"], {"lastname": "Dee"})["updatedAt"]
    sb.clock.advance(2)
    sb.salesforce.store.update("Contact", sf["Id"], {"LastName": "Ann"})
    sb.clock.advance(2)   # a person saves Dee again through HubSpot's API: no new value, a new modification time
    again = hubspot_sdk(sb).crm.contacts.basic_api.update(
        hs["hs_object_id"], SimplePublicObjectInput(properties={"lastname": "Dee"}))
    assert again.properties["lastname"] == "Dee"
    assert again.updated_at > datetime.fromisoformat(first.replace("Z", "+00:00")) + timedelta(seconds=3)
    reset(sb)
    report = cycle(project, built)
    assert report.ok and [(r.updates, r.conflicts) for r in report.results] == [(0, 1), (1, 1)]
    hs, sf = carl(sb)
    assert hs["lastname"] == sf["LastName"] == "Dee" and hs["firstname"] == sf["FirstName"] == "Carl"
    assert project.query(f"SELECT last_name FROM canonical.person WHERE email = 'carl{D}'").scalar() == "Dee"
    [conflict] = project.query("SELECT model_column, winner, resolved_value FROM _hub.sync_conflicts").rows
    assert conflict == ("last_name", "hubspot", "Dee")
    reset(sb)
    assert [r.changed for r in cycle(project, built).results] == [0, 0]
    assert hs_writes(sb) == 0 and sf_writes(sb) == 0


def test_a_value_set_again_unchanged_in_hubspot_does_not_revert_a_salesforce_edit(quiet_sandbox, sandbox_syncs):
    """Salesforce's Ann, then HubSpot's record saved with the last name it already had: HubSpot's record is newer,
    but its last name did not change since the last run, so only Salesforce changed the field and Ann stays."""
    sb = quiet_sandbox
    project = carl_everywhere(sb, sandbox_syncs)
    hs, sf = carl(sb)
    sb.clock.advance(2)
    sb.salesforce.store.update("Contact", sf["Id"], {"LastName": "Ann"})
    sb.clock.advance(2)
    sb.hubspot.store.update("contacts", hs["hs_object_id"], {"lastname": "Moss"})
    reset(sb)
    report = cycle(project, built)
    assert report.ok and [(r.updates, r.conflicts) for r in report.results] == [(1, 0), (0, 0)]
    hs, sf = carl(sb)
    assert hs["lastname"] == sf["LastName"] == "Ann"
    assert project.query(f"SELECT last_name FROM canonical.person WHERE email = 'carl{D}'").scalar() == "Ann"
    reset(sb)
    assert [r.changed for r in cycle(project, built).results] == [0, 0]


def test_the_hubs_own_write_read_back_does_not_outrank_a_real_edit(quiet_sandbox, sandbox_syncs):
    sb = quiet_sandbox
    project = carl_everywhere(sb, sandbox_syncs)
    hs, sf = carl(sb)
    sb.clock.advance(2)
    sb.salesforce.store.update("Contact", sf["Id"], {"FirstName": "Carlos"})
    assert project.ingest().ok
    built(project)
    sb.clock.advance(2)   # edited again in Salesforce after the ingest, before the push sends "Carlos" to HubSpot
    sb.salesforce.store.update("Contact", sf["Id"], {"FirstName": "Carlito"})
    sb.clock.advance(2)
    from hub.reverse_etl import push

    assert [r.updates for r in push(project).results] == [1, 0]   # HubSpot's record is now newer than that edit
    report = cycle(project, built)
    assert report.ok
    hs, sf = carl(sb)
    assert hs["firstname"] == "Carlito" and sf["FirstName"] == "Carlito"
    assert project.query(f"SELECT first_name FROM canonical.person WHERE email = 'carl{D}'").scalar() == "Carlito"


def hubspot_sdk(sb: Any) -> Any:
    """HubSpot's official client, pointed at the emulator."""
    from hubspot import HubSpot

    client = HubSpot(access_token=sb.hubspot.token)
    client.config["host"] = sb.hubspot.url
    return client


def test_an_edit_made_in_hubspot_between_ingest_and_push_is_not_overwritten(quiet_sandbox, sandbox_syncs):
    from hubspot.crm.contacts import SimplePublicObjectInput

    from hub.reverse_etl import push

    sb = quiet_sandbox
    project = carl_everywhere(sb, sandbox_syncs)
    hs, sf = carl(sb)
    sb.clock.advance(2)
    sb.salesforce.store.update("Contact", sf["Id"], {"FirstName": "Carlos"})
    assert project.ingest().ok
    built(project)
    sb.clock.advance(2)   # a person edits Carl in HubSpot while the run is between its ingest and its push
    hubspot_sdk(sb).crm.contacts.basic_api.update(hs["hs_object_id"],
                                                  SimplePublicObjectInput(properties={"firstname": "Charlie"}))
    reset(sb)
    report = push(project)
    assert report.ok and [(r.updates, r.conflicts) for r in report.results] == [(0, 1), (0, 0)]
    assert hs_writes(sb) == 0 and carl(sb)[0]["firstname"] == "Charlie"
    assert project.query("SELECT model_column, status, winner, resolved_value FROM _hub.sync_conflicts").rows == [
        ("first_name", "deferred", "hubspot", "Charlie")]
    report = cycle(project, built)   # the next run ingests the edit: the latest one, it wins everywhere
    assert report.ok and [r.updates for r in report.results] == [0, 1]
    hs, sf = carl(sb)
    assert hs["firstname"] == "Charlie" and sf["FirstName"] == "Charlie"
    reset(sb)
    assert [r.changed for r in cycle(project, built).results] == [0, 0]
    assert hs_writes(sb) == 0 and sf_writes(sb) == 0


def test_an_edit_made_in_salesforce_between_ingest_and_push_is_not_overwritten(quiet_sandbox, sandbox_syncs):
    import httpx

    from hub.reverse_etl import push

    sb = quiet_sandbox
    project = carl_everywhere(sb, sandbox_syncs)
    hs, sf = carl(sb)
    sb.clock.advance(2)
    sb.hubspot.store.update("contacts", hs["hs_object_id"], {"lastname": "Mossman"})
    assert project.ingest().ok
    built(project)
    sb.clock.advance(2)   # whole seconds: Salesforce's SystemModstamp has no finer precision
    edited = httpx.patch(f"{sb.salesforce.url}/services/data/v59.0/sobjects/Contact/{sf['Id']}",
                         json={"LastName": "Moss-Ray"}, headers={"Authorization": f"Bearer {sb.salesforce.token}"})
    assert edited.status_code == 204
    reset(sb)
    report = push(project)
    assert report.ok and [(r.updates, r.conflicts) for r in report.results] == [(0, 0), (0, 1)]
    assert sf_writes(sb) == 0 and carl(sb)[1]["LastName"] == "Moss-Ray"
    assert project.query("SELECT model_column, status, winner, resolved_value FROM _hub.sync_conflicts").rows == [
        ("last_name", "deferred", "salesforce", "Moss-Ray")]
    assert cycle(project, built).ok
    hs, sf = carl(sb)
    assert hs["lastname"] == "Moss-Ray" and sf["LastName"] == "Moss-Ray"
    reset(sb)
    assert [r.changed for r in cycle(project, built).results] == [0, 0]


def test_a_held_conflict_writes_neither_side_until_one_edits_the_field_again(quiet_sandbox, sandbox_syncs):
    from hub.project import Project
    from tests.conftest import run_hub

    sb = quiet_sandbox
    project = carl_everywhere(sb, sandbox_syncs, conflicts='conflicts = "hold"')
    hs, sf = carl(sb)
    sb.clock.advance(2)
    sb.hubspot.store.update("contacts", hs["hs_object_id"], {"firstname": "Charlie"})
    sb.clock.advance(2)
    sb.salesforce.store.update("Contact", sf["Id"], {"FirstName": "Carlos"})
    for _ in range(2):   # held: neither system is written, run after run
        reset(sb)
        report = cycle(project, built)
        assert report.ok and [r.updates for r in report.results] == [0, 0]
        assert hs_writes(sb) == 0 and sf_writes(sb) == 0
        assert (carl(sb)[0]["firstname"], carl(sb)[1]["FirstName"]) == ("Charlie", "Carlos")
    status = Project(project.root).status()
    assert [(c["model_column"], c["policy"], sorted(v["value"] for v in c["candidates"]))
            for c in status.held_conflicts] == [("first_name", "hold", ["Carlos", "Charlie"])]
    shown = run_hub("status", cwd=project.root)
    assert shown.returncode == 0, shown.stderr
    assert "held conflict: canonical.person" in shown.stdout and "hubspot 'Charlie'" in shown.stdout

    sb.clock.advance(2)   # a newer edit in HubSpot settles it
    sb.hubspot.store.update("contacts", hs["hs_object_id"], {"firstname": "Chuck"})
    report = cycle(project, built)
    assert report.ok and [r.updates for r in report.results] == [0, 1]
    assert (carl(sb)[0]["firstname"], carl(sb)[1]["FirstName"]) == ("Chuck", "Chuck")
    assert Project(project.root).status().held_conflicts == []
    reset(sb)
    assert [r.changed for r in cycle(project, built).results] == [0, 0]
