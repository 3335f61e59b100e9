"""OAuth2 refresh against the sandbox's token endpoints, over real loopback HTTP."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.errors import AuthError
from hub.project import Project
from hub.sources.auth import TokenStore
from hub.integrations.hubspot.source import HubSpot
from hub.integrations.salesforce.source import Salesforce
from tests.conftest import run_hub


def oauth_project(make_project: Callable[..., Path], sb: Any, name: str = "proj") -> Path:
    """A project whose connections authenticate with client id/secret + refresh token only (no token)."""
    hs, sf = sb.hubspot.auth, sb.salesforce.auth
    return make_project(f"""
        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"
        streams = ["contacts"]

        [connections.salesforce]
        type = "salesforce"
        base_url = "{sb.salesforce.url}"
        auth_url = "{sb.salesforce.url}"
        streams = ["Contact"]
        """, f"""
        [connections.hubspot]
        client_id = "{hs.client_id}"
        client_secret = "{hs.client_secret}"
        refresh_token = "{hs.refresh_token}"

        [connections.salesforce]
        client_id = "{sf.client_id}"
        client_secret = "{sf.client_secret}"
        refresh_token = "{sf.refresh_token}"
        """, name=name)


def route(emulator: Any, method: str, template: str) -> Any:
    for entry in emulator.router.routes:
        if entry.method == method and entry.template == template:
            return entry
    raise LookupError(f"{method} {template}")


@pytest.fixture
def rotating(fresh_sandbox: Any) -> Iterator[list[str]]:
    """The HubSpot emulator rotating refresh tokens (as QuickBooks and many OAuth servers do); yields those issued."""
    entry = route(fresh_sandbox.hubspot, "POST", "/oauth/v3/token")
    original, auth, issued = entry.handler, fresh_sandbox.hubspot.auth, []

    def rotate(request: Any) -> Any:
        response = original(request)
        if response.status == 200:
            body = orjson.loads(response.body)
            new = f"{body['refresh_token']}-r{len(issued) + 1}"
            with auth._lock:
                auth._refresh.discard(request.form()["refresh_token"])
                auth._refresh.add(new)
            issued.append(new)
            body["refresh_token"] = new
            response.body = orjson.dumps(body)
        return response

    entry.handler = rotate
    yield issued
    entry.handler = original


def store_entry(root: Path, connection: str) -> dict[str, Any]:
    return orjson.loads((root / ".hub" / "tokens.json").read_bytes())[connection]


def test_refresh_before_expiry_on_the_sandbox_clock(make_project, fresh_sandbox):
    sb = fresh_sandbox
    project = Project(oauth_project(make_project, sb))
    client = HubSpot.api_client(project.config.connection("hubspot"), auth_clock=sb.clock.seconds)
    assert client.get("/crm/v3/objects/contacts")["results"]
    first = store_entry(project.root, "hubspot")["access_token"]
    assert sb.hubspot.requests["POST /oauth/v3/token"] == 1

    sb.clock.advance(1800 - 60)  # one minute left: still accepted, but inside the refresh margin
    assert sb.hubspot.auth.check(first).ok
    assert client.get("/crm/v3/objects/contacts")["results"]
    assert sb.hubspot.requests["POST /oauth/v3/token"] == 2
    assert store_entry(project.root, "hubspot")["access_token"] != first
    assert client._auth.refreshes == 2


def test_expired_token_mid_ingest_is_refreshed_once_and_the_request_retried(make_project, fresh_sandbox):
    sb = fresh_sandbox
    entry = route(sb.hubspot, "GET", "/crm/v3/properties/{objectType}")
    original, calls = entry.handler, []

    def expire_after_this_request(request: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:  # the token dies between the ingest's first request and its first page
            sb.hubspot.auth.expire(request.headers["authorization"][7:])
        return original(request)

    entry.handler = expire_after_this_request
    project = Project(oauth_project(make_project, sb))
    report = project.ingest(["hubspot.contacts"])
    assert report.ok, report.errors
    assert report.rows == sb.hubspot.store.count("contacts")
    assert sb.hubspot.requests["POST /oauth/v3/token"] == 2  # the first token, then exactly one refresh
    pages = -(-sb.hubspot.store.count("contacts") // 100)
    assert sb.hubspot.requests["GET /crm/v3/objects/{objectType}"] == pages + 1  # the refused page, sent again


def test_salesforce_session_refreshed_on_invalid_session_id(make_project, fresh_sandbox):
    sb = fresh_sandbox
    project = Project(oauth_project(make_project, sb))
    client = Salesforce.api_client(project.config.connection("salesforce"))
    describe = "/services/data/v59.0/sobjects/Contact/describe"
    assert client.get(describe)["name"] == "Contact"
    session = store_entry(project.root, "salesforce")["access_token"]
    assert store_entry(project.root, "salesforce")["expires_at"] is None  # Salesforce does not say
    sb.salesforce.auth.expire(session)
    assert client.get(describe)["name"] == "Contact"
    assert sb.salesforce.requests["POST /services/oauth2/token"] == 2
    assert store_entry(project.root, "salesforce")["access_token"] != session


def test_rotated_refresh_token_is_stored_0600_and_used_next_run(make_project, fresh_sandbox, rotating):
    sb = fresh_sandbox
    root = oauth_project(make_project, sb)
    secrets_before = (root / "secrets.toml").read_text()
    assert Project(root).ingest(["hubspot.contacts"]).ok

    store = root / ".hub" / "tokens.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert store_entry(root, "hubspot")["refresh_token"] == rotating[-1]
    assert not sb.hubspot.auth.valid_refresh_token(sb.hubspot.auth.refresh_token)  # secrets.toml's is spent

    sb.hubspot.auth.expire(store_entry(root, "hubspot")["access_token"])
    report = Project(root).ingest(["hubspot.contacts"])  # a new process would start from the store the same way
    assert report.ok, report.errors
    assert len(rotating) == 2 and store_entry(root, "hubspot")["refresh_token"] == rotating[1]
    assert (root / "secrets.toml").read_text() == secrets_before
    assert not list(store.parent.glob(".tokens-*"))  # no temp file left behind


def test_a_changed_secrets_toml_refresh_token_wins_over_the_store(tmp_path):
    from hub.secrets import Secret
    from hub.sources.auth import Tokens

    store = TokenStore(tmp_path / "tokens.json")
    store.save("crm", Secret("configured-1"), Tokens(Secret("rotated-1"), Secret("access-1"), None))
    assert store.load("crm", Secret("configured-1")).refresh_token.reveal() == "rotated-1"
    fresh = store.load("crm", Secret("configured-2"))  # the user re-authorized and pasted a new token
    assert fresh.refresh_token.reveal() == "configured-2" and fresh.access_token is None


def test_invalid_grant_says_to_reauthorize_and_leaks_nothing(make_project, fresh_sandbox):
    sb = fresh_sandbox
    root = oauth_project(make_project, sb)
    sb.salesforce.auth.revoke_refresh_token(sb.salesforce.auth.refresh_token)
    with pytest.raises(AuthError) as caught:
        Salesforce.api_client(Project(root).config.connection("salesforce")).get("/services/data/v59.0/sobjects")
    message = str(caught.value)
    assert "re-authorize connection 'salesforce'" in message and "invalid_grant" in message
    assert "refresh_token" in message and "HUB__CONNECTIONS__SALESFORCE__REFRESH_TOKEN" in message

    result = run_hub("ingest", "salesforce", cwd=root)
    assert result.returncode != 0
    assert "re-authorize connection 'salesforce'" in result.stderr
    for value in secret_values(sb, root):
        assert value not in result.stdout + result.stderr


def secret_values(sb: Any, root: Path) -> list[str]:
    values = [sb.hubspot.auth.client_id, sb.hubspot.auth.client_secret, sb.hubspot.auth.refresh_token,
              sb.salesforce.auth.client_id, sb.salesforce.auth.client_secret, sb.salesforce.auth.refresh_token]
    store = root / ".hub" / "tokens.json"
    if store.exists():
        for entry in orjson.loads(store.read_bytes()).values():
            values += [entry["refresh_token"], entry["access_token"]]
    return [v for v in values if v]


def test_no_secret_outside_secrets_toml_and_the_store(make_project, fresh_sandbox):
    sb = fresh_sandbox
    root = oauth_project(make_project, sb)
    result = run_hub("ingest", cwd=root)
    assert result.returncode == 0, result.stderr
    follow = run_hub("status", cwd=root)
    assert follow.returncode == 0, follow.stderr
    values = secret_values(sb, root)
    assert len(values) == 10  # both connections refreshed and stored their tokens
    output = result.stdout + result.stderr + follow.stdout + follow.stderr
    allowed = {root / "secrets.toml", root / ".hub" / "tokens.json"}
    files = [p for p in root.rglob("*") if p.is_file() and p not in allowed]
    assert any(p.suffix == ".duckdb" for p in files)
    for value in values:
        assert value not in output
        for path in files:
            assert value.encode() not in path.read_bytes(), f"a secret is in {path.relative_to(root)}"
