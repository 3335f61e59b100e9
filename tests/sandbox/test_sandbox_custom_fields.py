"""Sandbox profiles: custom fields with real-length names, hidden fields, and their survival across restarts."""

from __future__ import annotations

from hub.sandbox import Sandbox


def test_custom_and_hidden_fields_survive_a_restart(tmp_path):
    state = tmp_path / "sandbox.json"
    options = {"custom_fields": 40, "hubspot_hidden": ("jobtitle",), "salesforce_hidden": ("Title",)}
    with Sandbox(seed=3, people=40, state_file=state, **options) as sb:
        oid = sb.hubspot.store.ids("contacts")[0]
        custom = sb.hubspot.store.custom[7]
        sb.hubspot.store.update("contacts", oid, {custom: "kept across restarts"})
        described = {f.name for f in sb.salesforce.store.tables["Contact"].sobject.fields}
    assert "Title" not in described and sum(n.endswith("__c") for n in described) >= 40
    with Sandbox(seed=3, people=40, state_file=state, **options) as sb:
        record = sb.hubspot.store.get("contacts", oid)["properties"]
        assert record[custom] == "kept across restarts" and "jobtitle" not in record
