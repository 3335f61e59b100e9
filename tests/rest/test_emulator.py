"""The generic REST emulator over real loopback HTTP, driven with plain httpx: paging, incremental reads, child
resources, auth modes, rate-limit header styles, chaos, churn and writes."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hub.integrations.rest.emulator import EMULATOR, Churn, RestEmulator
from hub.sandbox.chaos import Chaos
from tests.rest.conftest import emulator_context


def read_all(client: httpx.Client, url: str, style: str, size: int = 40, **params: Any) -> list[dict[str, Any]]:
    """Every ticket, following the style's own paging contract as a client would."""
    out: list[dict[str, Any]] = []
    query: dict[str, Any] = {"_page": style, "per_page": size, **params}
    if style == "offset":
        query = {"_page": style, "limit": size, "offset": 0, **params}
    if style in ("page", "link_header"):
        query["page"] = 1
    next_url: str | None = url
    for _ in range(1000):
        r = client.get(next_url, params=query or None)
        r.raise_for_status()
        body = r.json()
        out += body["tickets"]
        if style == "next_url":
            next_url, query = body["links"]["next"], {}
        elif style == "link_header":
            nxt = r.links.get("next")
            if nxt is None:
                break
            next_url, query = nxt["url"], {}
            continue
        elif style == "cursor":
            if not body["meta"]["has_more"]:
                break
            query["cursor"] = body["meta"]["next_cursor"]
        elif style == "offset":
            if len(body["tickets"]) < size:
                break
            query["offset"] += size
        else:
            if not body["tickets"]:
                break
            query["page"] += 1
        if next_url is None:
            break
    return out


@pytest.mark.parametrize("style", ["next_url", "link_header", "cursor", "offset", "page"])
def test_every_paginator_returns_every_record_once(rest_emulator: RestEmulator, rest_api: httpx.Client,
                                                   style: str) -> None:
    records = read_all(rest_api, f"{rest_emulator.url}/tickets", style)
    assert [r["id"] for r in records] == list(range(1, 251))


def test_paginator_chosen_by_path_prefix(rest_emulator: RestEmulator, rest_api: httpx.Client) -> None:
    r = rest_api.get("/_/page=link_header/tickets", params={"per_page": 100})
    assert r.links["next"]["url"].startswith(f"{rest_emulator.url}/_/page=link_header/tickets?")
    assert 'rel="last"' in r.headers["link"]
    r = rest_api.get("/_/page=cursor/tickets", params={"per_page": 100})
    assert r.json()["meta"]["has_more"] is True and r.json()["links"] == {}
    bad = rest_api.get("/_/page=sideways/tickets")
    assert bad.status_code == 400 and "next_url" in bad.json()["error"]["message"]


def test_updated_since_returns_only_later_edits(rest_emulator: RestEmulator, rest_api: httpx.Client) -> None:
    first = read_all(rest_api, f"{rest_emulator.url}/tickets", "next_url")
    cursor = max(r["updated_at"] for r in first)
    rest_emulator.clock.advance(5)
    rest_emulator.store.edit_ticket(17, status="closed")
    rest_emulator.store.edit_ticket(3, status="open")
    later = read_all(rest_api, f"{rest_emulator.url}/tickets", "cursor", updated_since=cursor)
    # >= the cursor: the last record of the first read comes again (merge on the key makes that harmless)
    assert {r["id"] for r in later} == {3, 17, first[-1]["id"]}
    assert rest_api.get("/tickets", params={"updated_since": "yesterday"}).status_code == 400
    plus = rest_api.get("/tickets", params={"updated_since": cursor.replace("Z", "+00:00")}).json()["tickets"]
    assert {r["id"] for r in plus} == {r["id"] for r in later}


def test_child_resources(rest_emulator: RestEmulator, rest_api: httpx.Client) -> None:
    comments = rest_api.get("/tickets/5/comments").json()["comments"]
    assert comments and all(c["ticket_id"] == 5 for c in comments)
    assert rest_api.get("/tickets/5").json()["ticket"]["id"] == 5
    assert rest_api.get("/tickets/9999/comments").status_code == 404


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_auth_modes(rest_emulator: RestEmulator) -> None:
    c, url = rest_emulator.auth, rest_emulator.url
    good = {
        "bearer": ({"Authorization": f"Bearer {c.token}"}, {}),
        "api_key_header": ({"X-API-Key": c.api_key}, {}),
        "api_key_query": ({}, {"api_key": c.api_key}),
        "basic": ({"Authorization": basic(c.username, c.password)}, {}),
    }
    for mode, (headers, params) in good.items():
        assert httpx.get(f"{url}/_/auth={mode}/tickets", headers=headers, params=params).status_code == 200, mode
        for other, (h2, p2) in good.items():   # each mode refuses the others' credentials
            if other != mode:
                assert httpx.get(f"{url}/_/auth={mode}/tickets", headers=h2, params=p2).status_code == 401
    assert httpx.get(f"{url}/tickets").status_code == 401
    assert httpx.get(f"{url}/tickets", headers={"Authorization": basic(c.username, "wrong")}).status_code == 401
    assert httpx.get(f"{url}/_/auth=none/tickets").status_code == 200
    # the api key in the query carries over into next links, so a client can follow them as given
    body = httpx.get(f"{url}/_/auth=api_key_query/tickets", params={"api_key": c.api_key}).json()
    assert f"api_key={c.api_key}" in body["links"]["next"]


def token(url: str, **form: str) -> httpx.Response:
    return httpx.post(f"{url}/oauth/token", data=form)


def test_oauth_refresh_tokens_rotate(rest_emulator: RestEmulator) -> None:
    c, url = rest_emulator.auth, rest_emulator.url
    first = c.refresh_token
    answer = token(url, grant_type="refresh_token", refresh_token=first, client_id=c.client_id,
                   client_secret=c.client_secret)
    assert answer.status_code == 200
    body = answer.json()
    assert body["refresh_token"] != first and body["token_type"] == "Bearer" and body["expires_in"] == 3600
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert httpx.get(f"{url}/_/auth=oauth2/tickets", headers=bearer).status_code == 200
    # the old refresh token is dead; the new one works once
    again = token(url, grant_type="refresh_token", refresh_token=first, client_id=c.client_id,
                  client_secret=c.client_secret)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    rotated = httpx.post(f"{url}/oauth/token", data={"grant_type": "refresh_token",
                                                     "refresh_token": body["refresh_token"]},
                         headers={"Authorization": basic(c.client_id, c.client_secret)})
    assert rotated.status_code == 200
    # access tokens expire on the emulator's clock
    rest_emulator.clock.advance(3601)
    expired = httpx.get(f"{url}/_/auth=oauth2/tickets", headers=bearer)
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["www-authenticate"]
    assert token(url, grant_type="refresh_token", refresh_token=c.refresh_token, client_id=c.client_id,
                 client_secret="nope").status_code == 401


def test_oauth_client_credentials(rest_emulator: RestEmulator) -> None:
    c, url = rest_emulator.auth, rest_emulator.url
    body = token(url, grant_type="client_credentials", client_id=c.client_id, client_secret=c.client_secret).json()
    assert "refresh_token" not in body
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert httpx.get(f"{url}/_/auth=oauth2/tickets", headers=bearer).status_code == 200
    assert httpx.get(f"{url}/_/auth=oauth2/tickets", headers={"Authorization": f"Bearer {c.token}"}
                     ).status_code == 401
    assert token(url, grant_type="password", client_id=c.client_id,
                 client_secret=c.client_secret).json()["error"] == "unsupported_grant_type"


@pytest.fixture
def limited() -> Iterator[RestEmulator]:
    emulator = EMULATOR.build(emulator_context(), tickets=10, rate_limit=(2, 60.0))
    emulator.start()
    yield emulator
    emulator.stop()


def test_rate_limit_header_styles(limited: RestEmulator) -> None:
    auth = {"Authorization": f"Bearer {limited.auth.token}"}
    seen = {}
    for style in ("retry_after", "x_ratelimit", "ietf"):
        answers = [httpx.get(f"{limited.url}/_/limit={style}/tickets", headers=auth) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        seen[style] = answers
        limited.clock.advance(61)   # the window empties
    assert seen["retry_after"][2].headers["retry-after"] == "60"
    assert "x-ratelimit-remaining" not in seen["retry_after"][0].headers
    x = seen["x_ratelimit"]
    assert [a.headers["x-ratelimit-remaining"] for a in x] == ["1", "0", "0"]
    assert int(x[2].headers["x-ratelimit-reset"]) > 1_700_000_000   # epoch seconds
    assert "retry-after" not in x[2].headers
    ietf = seen["ietf"]
    assert [a.headers["ratelimit-remaining"] for a in ietf] == ["1", "0", "0"]
    assert ietf[2].headers["ratelimit-reset"] == "60" and ietf[0].headers["ratelimit-limit"] == "2"


def test_chaos_server_errors_and_timeouts(rest_emulator: RestEmulator, rest_api: httpx.Client) -> None:
    rest_emulator.chaos = Chaos(server_error=1.0, only="GET /tickets", limit=1)
    assert rest_api.get("/tickets").status_code >= 500
    assert rest_api.get("/tickets").status_code == 200
    rest_emulator.chaos = Chaos(timeout=1.0, hang=0.5, limit=1)
    with pytest.raises(httpx.TimeoutException):
        rest_api.get("/tickets", timeout=0.1)
    assert rest_emulator.chaos.injected["timeout"] == 1
    assert rest_api.get("/tickets").status_code == 200


def test_late_answer_write_applied_and_key_replays(rest_emulator: RestEmulator, rest_api: httpx.Client) -> None:
    rest_emulator.chaos = Chaos(late=1.0, hang=0.5, limit=1, only="POST /contacts")
    headers = {"Idempotency-Key": "create-ada"}
    with pytest.raises(httpx.TimeoutException):
        rest_api.post("/contacts", json={"email": "ada@example.com"}, headers=headers, timeout=0.1)
    again = rest_api.post("/contacts", json={"email": "ada@example.com"}, headers=headers)
    while again.status_code == 409:   # the first is still being applied: the key says so until it is done
        again = rest_api.post("/contacts", json={"email": "ada@example.com"}, headers=headers)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    found = rest_api.get("/contacts", params={"email": "ada@example.com"}).json()["contacts"]
    assert len(found) == 1 and found[0]["id"] == again.json()["id"]
    other = rest_api.post("/contacts", json={"email": "bob@example.com"}, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"


def test_churn_edits_and_deletes_while_paging(rest_emulator: RestEmulator, rest_api: httpx.Client) -> None:
    rest_emulator.churn = Churn(edits=2, deletes=1)
    keyset = read_all(rest_api, f"{rest_emulator.url}/tickets", "cursor", size=50)
    store = rest_emulator.store
    assert len(store.deleted) == 5 and len(store.tickets) == 245
    ids = [r["id"] for r in keyset]
    assert len(ids) == len(set(ids))   # keyset paging never repeats a record, whatever changes
    rest_emulator.churn = None
    edited = [r for r in store.tickets.values() if r["subject"].endswith("(edited)")]
    assert edited and all(r["updated_at"] > keyset[0]["created_at"] for r in edited)


def test_writes_create_update_upsert_lookup(rest_emulator: RestEmulator, rest_api: httpx.Client) -> None:
    created = rest_api.post("/contacts", json={"email": "Ann@Example.com", "name": "Ann"})
    assert created.status_code == 201
    cid = created.json()["id"]
    dup = rest_api.post("/contacts", json={"email": "ann@example.com"})
    assert dup.status_code == 409 and dup.json()["error"]["existing_id"] == cid
    assert rest_api.post("/contacts", json={"email": "no-at"}).status_code == 422
    assert rest_api.patch(f"/contacts/{cid}", json={"plan": "pro"}).json()["plan"] == "pro"
    assert rest_api.patch("/contacts/99999", json={"plan": "pro"}).status_code == 404
    up = rest_api.put("/contacts/by/external_id/X-1", json={"email": "x1@example.com", "name": "X"})
    assert up.status_code == 201
    up2 = rest_api.put("/contacts/by/external_id/X-1", json={"name": "X2"})
    assert up2.status_code == 200 and up2.json()["id"] == up.json()["id"] and up2.json()["name"] == "X2"
    assert rest_api.put("/contacts/by/name/X", json={}).status_code == 400
    both = rest_api.get("/contacts", params={"email": ["ann@example.com", "x1@example.com"]}).json()["contacts"]
    assert sorted(c["id"] for c in both) == sorted([cid, up.json()["id"]])
    assert rest_api.get("/contacts", params={"email": "nobody@example.com"}).json()["contacts"] == []
    assert rest_api.delete(f"/contacts/{cid}").status_code == 204
    assert rest_api.get(f"/contacts/{cid}").status_code == 404


def test_batch_refuses_the_whole_batch(rest_emulator: RestEmulator, rest_api: httpx.Client) -> None:
    before = len(rest_emulator.store.contacts)
    good = [{"email": f"b{i}@example.com"} for i in range(5)]
    refused = rest_api.post("/contacts/batch", json={"records": [*good[:3], {"email": "broken"}, *good[3:]]})
    assert refused.status_code == 422
    assert [e["index"] for e in refused.json()["errors"]] == [3]
    assert len(rest_emulator.store.contacts) == before   # nothing written
    same_twice = rest_api.post("/contacts/batch", json={"records": [good[0], good[0]]})
    assert same_twice.status_code == 422 and same_twice.json()["errors"][0]["index"] == 1
    too_many = rest_api.post("/contacts/batch", json={"records": [{"email": f"m{i}@ex.com"} for i in range(101)]})
    assert too_many.status_code == 413
    ok = rest_api.post("/contacts/batch", json={"records": good})
    assert ok.status_code == 200 and [r["email"] for r in ok.json()["results"]] == [g["email"] for g in good]
    ids = [r["id"] for r in ok.json()["results"]]
    upsert = rest_api.put("/contacts/batch", params={"key": "email"},
                          json={"records": [{"email": "b0@example.com", "plan": "pro"}, {"email": "new@ex.com"}]})
    assert [r["created"] for r in upsert.json()["results"]] == [False, True]
    update = rest_api.patch("/contacts/batch", json={"records": [{"id": ids[1], "plan": "free"}, {"id": 987654}]})
    body = update.json()
    assert update.status_code == 200 and body["results"][0]["plan"] == "free"
    assert body["errors"] == [{"index": 1, "id": 987654, "code": "not_found", "message": "no contact 987654"}]


def test_state_round_trip_and_credentials(rest_emulator: RestEmulator, rest_api: httpx.Client) -> None:
    rest_api.post("/contacts", json={"email": "kept@example.com"})
    rest_emulator.store.delete_ticket(4)
    context = emulator_context()
    context.state = rest_emulator.to_state()
    again = EMULATOR.build(context)
    assert again.store.find("email", "kept@example.com") is not None
    assert 4 not in again.store.tickets and 4 in again.store.deleted
    assert again.store.comments[5] == rest_emulator.store.comments[5]
    assert set(rest_emulator.credentials()) >= {"token", "api_key", "username", "password", "client_id",
                                                "client_secret", "refresh_token"}


def test_chaos_faults_look_like_the_api(rest_emulator: RestEmulator, rest_api: httpx.Client) -> None:
    if rest_emulator.fault_style is None:
        pytest.skip("this sandbox has no per-emulator fault styles (hub.sandbox.chaos.FaultStyle)")
    rest_emulator.chaos = Chaos(rate_limit=1.0, limit=1)
    limited = rest_api.get("/tickets")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert limited.json()["error"]["code"] == "rate_limited"
    rest_emulator.chaos = Chaos(expire=1)
    c = rest_emulator.auth
    granted = rest_api.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": c.client_id,
                                                  "client_secret": c.client_secret})
    assert granted.status_code == 200   # the token endpoint takes no token: chaos does not expire it
    expired = rest_api.get("/tickets")
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["www-authenticate"]
