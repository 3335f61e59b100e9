"""The sync engine over httpx.MockTransport: whole-batch refusals split down to the bad record, failures that stop
a sync leave rows unacknowledged, and configuration errors stop everything before any write."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hub.errors import ConfigError, UnknownNameError
from hub.project import Project
from hub.reverse_etl import push, rejected_rows
from tests.reverse_etl.conftest import TO_HUBSPOT, person, write_people

PROPERTIES = [{"name": n, "modificationMetadata": {"readOnlyValue": n == "hs_object_id"}}
              for n in ("email", "firstname", "lastname", "phone", "hs_object_id")]


class FakeHubSpot:
    """Just enough HubSpot: properties, and batch upsert that refuses a whole batch holding an invalid email."""

    def __init__(self, fail_status: int | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.fail_status = fail_status
        self.next_id = 100

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls[f"{request.method} {request.url.path}"] += 1
        if request.url.path == "/crm/v3/properties/contacts":
            return httpx.Response(200, json={"results": PROPERTIES})
        if self.fail_status:
            return httpx.Response(self.fail_status, json={"status": "error", "message": "down"})
        inputs = orjson.loads(request.content)["inputs"]
        if request.url.path.endswith("/batch/update"):
            return httpx.Response(200, json={"status": "COMPLETE", "results": [
                {"id": i["id"], "properties": i["properties"]} for i in inputs]})
        if any(i["properties"].get("firstname") == "BAD" for i in inputs):  # a rule only the target knows
            return httpx.Response(400, json={"status": "error", "category": "VALIDATION_ERROR",
                                             "message": "Property values were not valid: firstname"})
        results = []
        for i in inputs:
            self.next_id += 1
            results.append({"id": str(self.next_id), "properties": {"email": i["id"].lower()}, "new": True})
        return httpx.Response(200, json={"status": "COMPLETE", "results": results})


def project_with(make_project: Callable[..., Path], fake: FakeHubSpot, syncs: str = TO_HUBSPOT.format(mode="upsert"),
                 ) -> Project:
    root = make_project(f"""
        [connections.hubspot]
        type = "hubspot"
        base_url = "https://api.hubapi.test"
        {syncs}""", '[connections.hubspot]\ntoken = "t"\n')
    return Project(root, http_factory=lambda conn: httpx.Client(transport=httpx.MockTransport(fake)))


def people(n: int, bad: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    return [person(i, f"p{i}@x.com", "BAD" if i in bad else "Ann") for i in range(n)]


def test_batch_refused_as_a_whole_is_split_until_the_bad_record_stands_alone(make_project):
    fake = FakeHubSpot()
    project = project_with(make_project, fake)
    write_people(project, people(100, bad=(37,)))
    report = push(project)
    result = report.results[0]
    assert report.ok and (result.creates, result.rejected) == (99, 1)
    # 1 refused batch of 100, then halves down to the one bad record: 1 + 2 + 2 + ... about 2 * log2(100) calls
    assert fake.calls["POST /crm/v3/objects/contacts/batch/upsert"] <= 1 + 2 * 7
    [row] = rejected_rows(project, "person_to_hubspot")
    assert row["key"] == "37" and "VALIDATION_ERROR" in row["reason"] and row["payload"]["firstname"] == "BAD"

    # next run: the still-bad row is retried in a batch of its own, not with the new row; the changed row
    # goes by its id
    changed = people(101, bad=(37,))
    changed[5]["first_name"] = "Changed"
    write_people(project, changed)
    fake.calls.clear()
    result = push(project).results[0]
    assert (result.creates, result.updates, result.rejected) == (1, 1, 1)
    assert fake.calls["POST /crm/v3/objects/contacts/batch/update"] == 1
    assert fake.calls["POST /crm/v3/objects/contacts/batch/upsert"] == 2        # the new row's, the retry's
    assert rejected_rows(project, "person_to_hubspot")[0]["attempts"] == 2


def test_rerun_with_nothing_changed_makes_no_call_and_validates_from_cache(make_project):
    fake = FakeHubSpot()
    project = project_with(make_project, fake)
    write_people(project, people(5))
    assert push(project).results[0].creates == 5
    fake.calls.clear()
    result = push(project).results[0]
    assert (result.creates, result.updates, result.unchanged, result.api_calls) == (0, 0, 5, 0)
    assert not fake.calls


def test_a_failure_that_persists_stops_the_sync_and_acknowledges_nothing(make_project, monkeypatch):
    from hub.sources.http import RetryPolicy

    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)
    fake = FakeHubSpot(fail_status=503)
    project = project_with(make_project, fake)
    write_people(project, people(3))
    report = push(project)
    assert not report.ok and report.results[0].status == "failed"
    assert "503" in str(report.errors[0])
    assert project.query("SELECT count(*) FROM _hub.sync_state").scalar() == 0
    assert project.query("SELECT count(*) FROM _hub.rejected_rows").scalar() == 0   # not the target's refusal
    fake.fail_status = None
    assert push(project).results[0].creates == 3                                    # sent again next run


@pytest.mark.parametrize(("change", "error", "suggestion"), [
    ('model = "canonical.persons"', UnknownNameError, "canonical.person"),
    ('match = { emial = "email" }', UnknownNameError, "email"),
    ('fields = { first_name = "fristname" }', UnknownNameError, "firstname"),
    ('to = "hubspt"', UnknownNameError, "hubspot"),
    ('object = "contact"', UnknownNameError, "contacts"),
    ('mode = "upsrt"', UnknownNameError, "upsert"),
    ('fields = { first_name = "hs_object_id" }', ConfigError, None),
])
def test_configuration_errors_fail_before_any_write(make_project, change, error, suggestion):
    fake = FakeHubSpot()
    key = change.split(" ")[0]
    lines = [line for line in TO_HUBSPOT.format(mode="upsert").splitlines() if not line.startswith(f"{key} =")]
    project = project_with(make_project, fake, "\n".join([*lines, change]))
    if key == "object":
        fake_props = fake.__call__

        def no_contact(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/crm/v3/properties/contact":
                return httpx.Response(400, json={"status": "error", "message": "Unable to infer object type"})
            return fake_props(request)
        transport = httpx.MockTransport(no_contact)
        project = Project(project.root, http_factory=lambda conn: httpx.Client(transport=transport))
    write_people(project, people(3))
    with pytest.raises(error) as caught:
        push(project)
    if suggestion:
        assert f"did you mean '{suggestion}'" in str(caught.value)
    assert "hub.toml:" in str(caught.value)
    assert not [c for c in fake.calls if "batch" in c]


def test_a_target_refusing_every_batch_costs_a_bounded_number_of_calls(make_project):
    fake = FakeHubSpot()
    project = project_with(make_project, fake)
    write_people(project, people(300, bad=tuple(range(300))))   # every record bad: splitting finds nothing
    report = push(project)
    result = report.results[0]
    assert fake.calls["POST /crm/v3/objects/contacts/batch/upsert"] < 100      # not 2 calls per row
    # the sync stops, saying why; rows never refused on their own stay pending, not rejected for their neighbours
    assert not report.ok and "refused so many batches as a whole" in str(report.errors[0])
    assert result.creates == 0 and result.rejected < 60
    assert all(r["reason"].endswith("firstname") for r in rejected_rows(project, "person_to_hubspot"))


def test_a_refused_lookup_never_becomes_a_create(make_project):
    fake = FakeHubSpot()
    reads = fake.__call__

    def refuse_reads(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/batch/read"):
            fake.calls[f"{request.method} {request.url.path}"] += 1
            return httpx.Response(400, json={"status": "error", "category": "VALIDATION_ERROR",
                                             "message": "Property hub_id is not a unique identifier property"})
        return reads(request)
    root = project_with(make_project, fake, TO_HUBSPOT.format(mode="insert")).root
    project = Project(root, http_factory=lambda conn: httpx.Client(transport=httpx.MockTransport(refuse_reads)))
    write_people(project, people(5))
    report = push(project)
    assert not report.ok and "not a unique identifier property" in str(report.errors[0])
    assert fake.calls["POST /crm/v3/objects/contacts/batch/read"] == 1          # not split row by row
    assert not [c for c in fake.calls if c.endswith(("/batch/create", "/batch/upsert"))]
    assert project.query("SELECT count(*) FROM _hub.sync_state").scalar() == 0   # pending for the next run


class Transport:
    """A transport that fails each request with the next fault given, then answers 200 {}."""

    def __init__(self, *faults: Exception | int) -> None:
        self.faults = list(faults)
        self.sent: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.method)
        fault = self.faults.pop(0) if self.faults else None
        if isinstance(fault, Exception):
            raise fault
        if fault == "cut":
            return httpx.Response(200, content=b'{"results": [{"id"')
        return httpx.Response(fault or 200, json={})


def api(transport: Transport) -> Any:
    from hub.sources.http import ApiClient, RetryPolicy
    from hub.sources.ratelimit import RateLimiter

    return ApiClient("t", "https://api.test", http=httpx.Client(transport=httpx.MockTransport(transport)),
                     retry=RetryPolicy(base_delay=0.0), limiter=RateLimiter(None, 1.0), sleep=lambda s: None)


@pytest.mark.parametrize("fault", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), 503, "cut"])
def test_a_write_whose_outcome_is_unknown_is_never_sent_again_by_the_http_layer(fault):
    from hub.errors import UnknownOutcomeError

    transport = Transport(fault)
    with pytest.raises(UnknownOutcomeError) as caught:
        api(transport).request("POST", "/composite/sobjects", content=b"{}")
    assert transport.sent == ["POST"] and caught.value.method == "POST"
    # the same fault on a read, or on a write marked idempotent, is retried as before
    for method, idempotent in (("GET", None), ("POST", True)):
        transport = Transport(fault)
        assert api(transport).request(method, "/query", idempotent=idempotent).status_code == 200
        assert transport.sent == [method, method]


@pytest.mark.parametrize("fault", [httpx.ConnectError("refused"), 429])
def test_a_write_that_certainly_did_not_arrive_is_sent_again(fault):
    transport = Transport(fault)
    assert api(transport).request("POST", "/composite/sobjects", content=b"{}").status_code == 200
    assert transport.sent == ["POST", "POST"]
