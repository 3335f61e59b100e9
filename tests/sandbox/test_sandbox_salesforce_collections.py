"""sObject Collections on the Salesforce emulator: per-record results in order, validation, allOrNone."""

from __future__ import annotations

from tests.sandbox.conftest import salesforce_client


def _contact(**fields):
    return {"attributes": {"type": "Contact"}, **fields}


def test_create_many_reports_each_record_in_request_order(sb):
    with salesforce_client(sb) as sf:
        response = sf.post("/composite/sobjects", json={"allOrNone": False, "records": [
            _contact(LastName="Hopper", Email="grace@example.com"),
            _contact(FirstName="NoLastName"),
            _contact(LastName="Bad", Email="not-an-email"),
            _contact(LastName="Typo", Emial="x@example.com"),
            _contact(LastName="WrongRef", AccountId="0035g000000blJJAAY"),
            {"attributes": {"type": "Account"}, "Name": "Acme Inc", "NumberOfEmployees": 12},
        ]})
        assert response.status_code == 200
        results = response.json()
        assert [r["success"] for r in results] == [True, False, False, False, False, True]
        assert results[0]["errors"] == [] and results[0]["id"].startswith("003")
        assert results[5]["id"].startswith("001")
        codes = [r["errors"][0]["statusCode"] for r in results[1:5]]
        assert codes == ["REQUIRED_FIELD_MISSING", "INVALID_EMAIL_ADDRESS", "INVALID_FIELD",
                         "FIELD_INTEGRITY_EXCEPTION"]
        assert results[1]["errors"][0]["fields"] == ["LastName"]
        assert all({"statusCode", "message", "fields"} == set(e) for r in results for e in r["errors"])
        assert sb.salesforce.store.get("Account", results[5]["id"])["NumberOfEmployees"] == 12


def test_all_or_none_rolls_everything_back(sb):
    store = sb.salesforce.store
    before = store.count("Contact")
    with salesforce_client(sb) as sf:
        results = sf.post("/composite/sobjects", json={"allOrNone": True, "records": [
            _contact(LastName="Fine"), _contact(Email="missing-last-name@example.com")]}).json()
    assert store.count("Contact") == before
    assert [r["success"] for r in results] == [False, False]
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"


def test_update_many_by_id(sb):
    store = sb.salesforce.store
    first = store.create("Contact", {"LastName": "One"})
    second = store.create("Contact", {"LastName": "Two"})
    store.delete("Contact", second)
    with salesforce_client(sb) as sf:
        results = sf.patch("/composite/sobjects", json={"allOrNone": False, "records": [
            _contact(id=first, Title="Boss"), _contact(id=second, Title="Ghost"), _contact(Title="No id")]}).json()
    assert results[0] == {"id": first, "success": True, "errors": []}
    assert results[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert results[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert store.get("Contact", first)["Title"] == "Boss"


def test_upsert_many_by_external_id(sb):
    store = sb.salesforce.store
    existing = store.create("Contact", {"LastName": "Existing", "Hub_Person_Id__c": "p-1"})
    with salesforce_client(sb) as sf:
        response = sf.patch("/composite/sobjects/Contact/Hub_Person_Id__c", json={"allOrNone": False, "records": [
            _contact(Hub_Person_Id__c="P-1", Email="existing@example.com"),
            _contact(Hub_Person_Id__c="p-2", LastName="New"),
            _contact(Hub_Person_Id__c="p-3", LastName="Dup"),
            _contact(Hub_Person_Id__c="p-3", LastName="Dup again"),
            _contact(LastName="No key"),
            _contact(Id=existing, Hub_Person_Id__c="p-4", LastName="Has Id"),
            _contact(Hub_Person_Id__c="p-5", LastName="Bad", Email="@@"),
        ]})
        results = response.json()
    assert response.status_code == 200 and len(results) == 7
    assert results[0] == {"id": existing, "success": True, "errors": [], "created": False}
    assert results[1]["success"] is True and results[1]["created"] is True
    assert [r["errors"][0]["statusCode"] for r in results[2:]] == [
        "DUPLICATE_EXTERNAL_ID", "DUPLICATE_EXTERNAL_ID", "MISSING_ARGUMENT", "INVALID_FIELD", "INVALID_EMAIL_ADDRESS"]
    assert store.get("Contact", existing)["Email"] == "existing@example.com"
    assert store.get("Contact", results[1]["id"])["Hub_Person_Id__c"] == "p-2"


def test_collection_limits_delete_and_retrieve(sb):
    store = sb.salesforce.store
    ids = [store.create("Contact", {"LastName": f"N{i}"}) for i in range(3)]
    with salesforce_client(sb) as sf:
        too_many = sf.post("/composite/sobjects", json={"records": [_contact(LastName="x")] * 201})
        assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
        fetched = sf.get("/composite/sobjects/Contact", params={"ids": ",".join(ids[:2]), "fields": "Id,LastName"})
        assert [r["LastName"] for r in fetched.json()] == ["N0", "N1"]
        deleted = sf.delete("/composite/sobjects", params={"ids": f"{ids[0]},{ids[0][:15]}", "allOrNone": "false"})
        assert [r["success"] for r in deleted.json()] == [True, False]
        assert store.count("Contact") == store.count("Contact", include_deleted=True) - \
            sum(1 for r in store.records("Contact") if r["IsDeleted"])
