"""The pushers alone: the requests they build and how they read per-record results (no HTTP)."""

from __future__ import annotations

from typing import Any

from hub.reverse_etl.base import EXISTS, MISSING, OK, REJECTED, Record
from hub.integrations.hubspot.target import HubSpotPusher
from hub.integrations.salesforce.target import SalesforcePusher


def hubspot(match: str = "email") -> HubSpotPusher:
    return HubSpotPusher(None, "contacts", match)  # type: ignore[arg-type]  # building requests needs no client


def salesforce(match: str = "Email") -> SalesforcePusher:
    return SalesforcePusher(None, "Contact", match, {"api_version": "59.0"})  # type: ignore[arg-type]


def rec(key: str, values: dict[str, Any], tid: str | None = None, match: Any = None) -> Record:
    return Record(key, values, tid, match if match is not None else values.get("email", values.get("Email")))


def test_hubspot_requests_per_operation():
    p = hubspot()
    update = p.request("update", [rec("1", {"firstname": "A", "phone": None}, "101")])
    assert (update.method, update.path) == ("POST", "/crm/v3/objects/contacts/batch/update")
    assert update.json["inputs"] == [{"id": "101", "properties": {"firstname": "A", "phone": ""},
                                      "objectWriteTraceId": "0"}]
    upsert = p.request("upsert", [rec("1", {"email": "A@x.com", "firstname": "A"})])
    assert upsert.path.endswith("/batch/upsert")
    assert upsert.json["inputs"][0] == {"id": "A@x.com", "idProperty": "email", "objectWriteTraceId": "0",
                                             "properties": {"email": "A@x.com", "firstname": "A"}}
    create = p.request("create", [rec("1", {"email": "a@x.com", "phone": None})])
    assert create.json["inputs"][0]["properties"] == {"email": "a@x.com"}      # nothing to clear on a new record
    assert "id" not in create.json["inputs"][0]
    remove = p.request("remove", [rec("1", {}, "101")])
    assert (remove.path, remove.json) == ("/crm/v3/objects/contacts/batch/archive", {"inputs": [{"id": "101"}]})


def test_hubspot_results_are_matched_by_id_or_email_not_position():
    p = hubspot()
    records = [rec("1", {"email": "a@x.com"}), rec("2", {"email": "B@x.com"}), rec("3", {"email": "bad"})]
    body = {"status": "COMPLETE", "numErrors": 1,
            "results": [{"id": "202", "properties": {"email": "b@x.com"}, "new": True},
                        {"id": "201", "properties": {"email": "a@x.com"}, "new": False}],
            "errors": [{"status": "error", "category": "VALIDATION_ERROR", "message": "Email address bad is invalid",
                        "context": {"ids": ["bad"]}, "errors": [{"code": "INVALID_EMAIL"}]}]}
    out = p.results("upsert", records, 207, body)
    assert [(o.status, o.target_id, o.created) for o in out] == [(OK, "201", False), (OK, "202", True),
                                                                  (REJECTED, None, False)]
    assert out[2].code == "INVALID_EMAIL" and "invalid" in out[2].reason


def test_hubspot_errors_by_trace_id_missing_records_and_conflicts():
    p = hubspot()
    records = [rec("1", {"email": "a@x.com"}), rec("2", {"email": "b@x.com"})]
    body = {"results": [], "errors": [
        {"category": "CONFLICT", "message": "Contact already exists. Existing ID: 77",
         "context": {"existingId": ["77"], "objectWriteTraceId": ["0"]}},
        {"category": "VALIDATION_ERROR", "message": "bad phone", "context": {"objectWriteTraceId": ["1"]}}]}
    out = p.results("create", records, 207, body)
    assert (out[0].status, out[0].target_id) == (EXISTS, "77")
    assert out[1].status == REJECTED
    updates = [rec("1", {"firstname": "A"}, "101"), rec("2", {"firstname": "B"}, "102")]
    body = {"results": [{"id": "102", "properties": {}}],
            "errors": [{"category": "OBJECT_NOT_FOUND", "message": "gone", "context": {"ids": ["101"]}}]}
    assert [o.status for o in p.results("update", updates, 207, body)] == [MISSING, OK]


def test_hubspot_record_without_any_result_is_not_acknowledged():
    out = hubspot().results("update", [rec("1", {"firstname": "A"}, "101")], 200, {"results": []})
    assert out[0].status == REJECTED and out[0].code == "NO_RESULT"


def test_salesforce_requests_per_operation():
    p = salesforce()
    update = p.request("update", [rec("1", {"FirstName": "A"}, "003AAA")])
    assert (update.method, update.path) == ("PATCH", "/services/data/v59.0/composite/sobjects")
    assert update.json == {"allOrNone": False, "records": [{"attributes": {"type": "Contact"}, "Id": "003AAA",
                                                            "FirstName": "A"}]}
    upsert = salesforce("Hub_Person_Id__c").request("upsert", [Record("1", {"Hub_Person_Id__c": "p1",
                                                                            "LastName": "L"}, None, "p1")])
    assert upsert.path == "/services/data/v59.0/composite/sobjects/Contact/Hub_Person_Id__c"
    assert "Id" not in upsert.json["records"][0]
    create = p.request("create", [rec("1", {"Email": "a@x.com", "Phone": None})])
    assert (create.method, create.json["records"][0]) == ("POST", {"attributes": {"type": "Contact"},
                                                                   "Email": "a@x.com"})
    remove = p.request("remove", [rec("1", {}, "003A"), rec("2", {}, "003B")])
    assert (remove.method, remove.params) == ("DELETE", {"ids": "003A,003B", "allOrNone": "false"})


def test_salesforce_lookup_escapes_quotes_and_matches_case_insensitively():
    p = salesforce()
    call = p.request("lookup", [rec("1", {}, match="o'hara@x.com"), rec("2", {}, match="B@X.com")])
    assert "IN ('o\\'hara@x.com', 'B@X.com')" in call.params["q"]
    body = {"records": [{"Id": "003B", "Email": "b@x.com"}]}
    out = p.results("lookup", [rec("1", {}, match="o'hara@x.com"), rec("2", {}, match="B@X.com")], 200, body)
    assert [(o.status, o.target_id) for o in out] == [(MISSING, None), (OK, "003B")]


def test_salesforce_results_in_request_order():
    p = salesforce()
    records = [rec("1", {"Email": "a@x.com"}, "003A"), rec("2", {"Email": "bad"}, "003B"), rec("3", {}, "003C")]
    body = [{"id": "003A", "success": True, "errors": []},
            {"id": "003B", "success": False, "errors": [{"statusCode": "INVALID_EMAIL_ADDRESS",
                                                          "message": "Email: invalid email address: bad",
                                                          "fields": ["Email"]}]},
            {"id": "003C", "success": False, "errors": [{"statusCode": "ENTITY_IS_DELETED", "message": "deleted",
                                                          "fields": ["Id"]}]}]
    out = p.results("update", records, 200, body)
    assert [o.status for o in out] == [OK, REJECTED, MISSING]
    assert out[1].code == "INVALID_EMAIL_ADDRESS" and "(Email)" in out[1].reason
    gone = p.results("remove", [rec("3", {}, "003C")], 200, [body[2]])
    assert gone[0].status == OK                        # deleting what is already deleted is done
    created = p.results("create", [rec("1", {"Email": "a@x.com"})], 200, [{"id": "003N", "success": True,
                                                                           "errors": []}])
    assert (created[0].status, created[0].target_id, created[0].created) == (OK, "003N", True)


def test_hubspot_results_are_matched_to_inputs_by_object_write_trace_id():
    p = hubspot()
    records = [rec("1", {"email": "a@x.com"}), rec("2", {"email": "b@x.com"})]
    assert [c.idempotent for c in (p.request("create", records), p.request("upsert", records))] == [False, True]
    # results in no promised order, properties not echoed: only the trace id tells which input each one is
    body = {"results": [{"id": "9", "objectWriteTraceId": "1", "properties": {}},
                        {"id": "8", "objectWriteTraceId": "0", "properties": {}}]}
    assert [(o.status, o.target_id) for o in p.results("create", records, 201, body)] == [(OK, "8"), (OK, "9")]


def test_hubspot_409_for_a_one_record_create_names_the_record_to_update():
    p = hubspot()
    message = "connection 'hubspot': HubSpot refused POST /x (409): Contact already exists. Existing ID: 451"
    [outcome] = p.refusal("create", [rec("1", {"email": "a@x.com"})], 409, message)
    assert (outcome.status, outcome.target_id) == (EXISTS, "451")
    # several inputs: the id names one record but not which input; the engine looks them all up instead
    assert p.refusal("create", [rec("1", {"email": "a@x.com"}), rec("2", {"email": "b@x.com"})], 409, message) is None
    assert p.refusal("create", [rec("1", {"email": "a@x.com"})], 400, "Property values were not valid") is None


def test_salesforce_fields_say_what_can_be_filtered_required_and_how_long():
    from hub.integrations.salesforce.target import _field

    described = _field({"name": "Description", "type": "textarea", "length": 32000, "filterable": False,
                        "createable": True, "updateable": True, "nillable": True})
    assert (described.filterable, described.required, described.max_length) == (False, False, 32000)
    last = _field({"name": "LastName", "type": "string", "length": 80, "filterable": True, "createable": True,
                   "nillable": False, "defaultedOnCreate": False})
    assert (last.required, last.max_length, last.kind) == (True, 80, "")
    assert _field({"name": "Email", "type": "email", "length": 80, "createable": True}).kind == "email"
    assert salesforce().request("create", [rec("1", {"Email": "a@x.com"})]).idempotent is False
