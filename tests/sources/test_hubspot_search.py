"""HubSpot incremental search: paged by key, never past the 10,000-result cap, and ties at one timestamp by id.

A MockTransport plays HubSpot's search endpoint over an in-memory data set with the cap scaled down (the real cap is
exercised against the sandbox elsewhere, and edits between pages in test_hubspot_paging.py); the page size is scaled
the same way.
"""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import orjson
import pytest

import hub.integrations.hubspot.source as hubspot
from hub.config import ConnectionConfig
from hub.secrets import Secret
from hub.sources.base import ReadState
from hub.sources.http import ApiClient, BearerAuth

WINDOW, LIMIT = 20, 5


def fake_hubspot(records: list[dict]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/properties/contacts"):
            return httpx.Response(200, json={"results": [{"name": "email"}, {"name": "lastmodifieddate"}]})
        if request.method == "GET" and request.url.params.get("archived") == "true":
            return httpx.Response(200, json={"results": []})    # incremental reads also list the archived ones
        body = orjson.loads(request.content)
        rows = records
        for f in body["filterGroups"][0]["filters"]:
            key = (lambda r: int(r["id"])) if f["propertyName"] == "hs_object_id" else (lambda r: r["ms"])
            value = int(f["value"])
            ops = {"GTE": lambda a: a >= value, "GT": lambda a: a > value, "EQ": lambda a: a == value}
            rows = [r for r in rows if ops[f["operator"]](key(r))]
        sort = body["sorts"][0]["propertyName"]
        rows = sorted(rows, key=(lambda r: int(r["id"])) if sort == "hs_object_id"
                      else (lambda r: (r["ms"], int(r["id"]))))
        start = int(body.get("after", 0))
        if start + body["limit"] > WINDOW:
            return httpx.Response(400, json={"status": "error", "message": "past the search window"})
        page = rows[start:start + body["limit"]]
        out = {"total": len(rows), "results": [
            {"id": r["id"], "properties": {"email": r["email"], "lastmodifieddate": iso(r["ms"])},
             "createdAt": iso(r["ms"]), "updatedAt": iso(r["ms"]), "archived": False} for r in page]}
        if start + len(page) < len(rows):
            out["paging"] = {"next": {"after": str(start + len(page))}}
        return httpx.Response(200, json=out)

    return httpx.MockTransport(handler)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def read_all(records: list[dict], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(hubspot, "SEARCH_LIMIT", LIMIT)
    api = ApiClient("hubspot", "https://api.hubapi.com", auth=BearerAuth(Secret("pat-test-token")),
                    http=httpx.Client(transport=fake_hubspot(records)))
    connector = hubspot.HubSpot(ConnectionConfig(name="hubspot", type="hubspot"), api)
    state = ReadState()
    since = datetime.fromtimestamp(0, tz=timezone.utc)
    ids = [i for t in connector.read(connector.streams["contacts"], since, state) for i in t.column("id").to_pylist()]
    return ids


def test_window_moves_forward_past_the_cap(monkeypatch):
    records = [{"id": str(i), "email": f"p{i}@x.com", "ms": 1_700_000_000_000 + i * 1000} for i in range(1, 73)]
    ids = read_all(records, monkeypatch)
    assert set(ids) == {r["id"] for r in records}            # nothing lost across 4 windows
    assert len(ids) - len(set(ids)) <= 4                      # only boundary records fetched twice (merge dedups)


def test_more_records_at_one_instant_than_a_window(monkeypatch):
    same = 1_700_000_000_000
    records = [{"id": str(i), "email": f"p{i}@x.com", "ms": same} for i in range(1, 48)]
    records += [{"id": str(i), "email": f"p{i}@x.com", "ms": same + 5000 + i} for i in range(48, 60)]
    ids = read_all(records, monkeypatch)
    assert set(ids) == {r["id"] for r in records}
