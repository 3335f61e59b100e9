"""Issue 11 items 6-9 against the sandbox over loopback: HubSpot v3 OAuth and daily-limit 429s, Salesforce's
instance_url and Sforce-Limit-Info, vendor request ids in error lines, and API version notices."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hub.errors import RateLimitError, SourceError, UnknownOutcomeError
from hub.project import Project
from hub.sandbox import Sandbox
from hub.integrations.salesforce.emulator.server import sf_error
from hub.sources import notices
from hub.sources.auth import OAuthProfile, connection_auth
from hub.sources.http import RetryPolicy
from hub.integrations.hubspot.source import HubSpot
from hub.integrations.salesforce.source import Salesforce
from hub.integrations.stripe.source import Stripe
from tests.conftest import run_hub, sandbox_project

NO_WAIT = {"sleep": lambda _s: None}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=5, people=40, hubspot_rate_limit=None) as box:
        yield box


def oauth_project(make_project: Callable[..., Path], sb: Sandbox, *, salesforce_base: str, extra: str = "") -> Path:
    hs, sf = sb.hubspot.auth, sb.salesforce.auth
    return make_project(f"""
        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"
        streams = ["contacts"]

        [connections.salesforce]
        type = "salesforce"
        base_url = "{salesforce_base}"
        auth_url = "{sb.salesforce_login.url}"
        streams = ["Contact"]
        {extra}
        """, f"""
        [connections.hubspot]
        client_id = "{hs.client_id}"
        client_secret = "{hs.client_secret}"
        refresh_token = "{hs.refresh_token}"

        [connections.salesforce]
        client_id = "{sf.client_id}"
        client_secret = "{sf.client_secret}"
        refresh_token = "{sf.refresh_token}"
        """)


# --- HubSpot OAuth -------------------------------------------------------------------------------------------------

def test_hubspot_refreshes_through_the_v3_token_endpoint(make_project, sb):
    project = Project(oauth_project(make_project, sb, salesforce_base=sb.salesforce.url))
    report = project.ingest(["hubspot.contacts"])
    assert report.ok, report.errors
    assert sb.hubspot.requests["POST /oauth/v3/token"] == 1
    assert sb.hubspot.requests["POST /oauth/v1/token"] == 0
    assert not notices.load(project.root).get("hubspot", {}).get("notices")  # v3 is not deprecated


def test_emulator_v1_token_endpoint_announces_its_sunset_and_v3_wants_the_body(sb):
    form = {"grant_type": "refresh_token", "client_id": sb.hubspot.auth.client_id,
            "client_secret": sb.hubspot.auth.client_secret, "refresh_token": sb.hubspot.auth.refresh_token}
    v1 = httpx.post(f"{sb.hubspot.url}/oauth/v1/token", data=form)
    assert v1.status_code == 200
    assert v1.headers["sunset"] == "Tue, 16 Feb 2027 00:00:00 GMT" and v1.headers["deprecation"].startswith("@")
    v3 = httpx.post(f"{sb.hubspot.url}/oauth/v3/token", data=form)
    assert v3.status_code == 200 and "sunset" not in v3.headers and v3.json()["expires_in"] == 1800
    in_query = httpx.post(f"{sb.hubspot.url}/oauth/v3/token", params=form)
    assert in_query.status_code == 400 and in_query.json()["error"] == "invalid_request"
    bad = httpx.post(f"{sb.hubspot.url}/oauth/v3/token", data={**form, "refresh_token": "na1-nope"})
    assert bad.json()["error"] == "invalid_grant" and bad.json()["status"] == "BAD_REFRESH_TOKEN"


def test_a_deprecated_token_endpoint_is_warned_about_and_shown_by_status(make_project, sb, caplog):
    root = oauth_project(make_project, sb, salesforce_base=sb.salesforce.url)
    config = Project(root).config.connection("hubspot")
    old = OAuthProfile(token_path="/oauth/v1/token", expired_marker="EXPIRED_AUTHENTICATION", vendor="HubSpot")
    auth, _ = connection_auth(config, sb.hubspot.url, old)
    with HubSpot.api_client(config) as client:
        client._auth = auth  # an hub that still calls v1, as today's main does
        with caplog.at_level("WARNING", logger="hub.api"):
            assert client.get("/crm/v3/objects/contacts")["results"]
    assert "HubSpot POST /oauth/v1/token is deprecated (since 2027-02-16) and stops working on 2027-02-16" \
        in caplog.text
    result = run_hub("status", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "warning: hubspot: HubSpot POST /oauth/v1/token is deprecated" in result.stdout


# --- HubSpot daily limit -------------------------------------------------------------------------------------------

def test_hubspot_daily_limit_is_not_retried_and_says_when_it_resets(make_project):
    with Sandbox(seed=5, people=20, hubspot_rate_limit=None, hubspot_daily_limit=1000) as sb:
        sb.hubspot.daily.set_used(1000)
        project = Project(sandbox_project(make_project, sb))
        client = HubSpot.api_client(project.config.connection("hubspot"), **NO_WAIT)
        with pytest.raises(RateLimitError) as caught:
            client.get("/crm/v3/objects/contacts")
    assert client.calls == 1  # today's main sends it 6 times
    error = caught.value
    assert not error.retriable
    assert "daily API limit (1,000 requests) is used up (policy DAILY)" in str(error)
    assert "resets at midnight in the HubSpot account's time zone" in str(error)
    assert re.search(r"\(request id [0-9a-f-]{36}\)", str(error))


# --- request ids ---------------------------------------------------------------------------------------------------

def test_hubspot_error_line_carries_the_correlation_id(make_project, sb):
    project = Project(sandbox_project(make_project, sb))
    seen: list[str] = []

    def keep(response: httpx.Response) -> None:
        seen.append(response.headers.get("x-hubspot-correlation-id", ""))

    http = httpx.Client(event_hooks={"response": [keep]})
    client = HubSpot.api_client(project.config.connection("hubspot"), http=http)
    with pytest.raises(SourceError) as caught:
        client.get("/crm/v3/objects/contacts/999999999")
    assert seen[-1] and f"(request id {seen[-1]})" in str(caught.value)


def test_salesforce_error_line_carries_the_error_id(make_project, sb):
    project = Project(sandbox_project(make_project, sb))
    sb.salesforce.before_request = lambda request: sb.salesforce.internal_error(request)
    client = Salesforce.api_client(project.config.connection("salesforce"), retry=RetryPolicy(max_attempts=2),
                                   **NO_WAIT)
    with pytest.raises(SourceError) as caught:
        client.get("/services/data/v59.0/sobjects/Contact/describe")
    assert "ErrorId if you contact support: 1234567890-12345 (-1234567890)" in str(caught.value)
    with pytest.raises(UnknownOutcomeError) as unknown:  # a write that got a 500: its id goes with it
        client.post("/services/data/v59.0/sobjects/Contact", {"LastName": "X"})
    assert "request id 1234567890-12345" in str(unknown.value)


def test_stripe_error_line_carries_the_request_id(make_project, sb):
    root = make_project(f"""
        [connections.stripe]
        type = "stripe"
        base_url = "{sb.stripe.url}"
        """, f"""
        [connections.stripe]
        token = "{sb.stripe.token}"
        """)
    client = Stripe.api_client(Project(root).config.connection("stripe"))
    with pytest.raises(SourceError) as caught:
        client.get("/v1/customers/cus_missing")
    assert re.search(r"\(request id req_[0-9a-f]{14}\)", str(caught.value))


# --- Salesforce instance_url and usage -----------------------------------------------------------------------------

def test_salesforce_uses_the_instance_url_of_the_token_answer(make_project, sb):
    login = sb.salesforce_login.url
    assert login != sb.salesforce.url
    root = oauth_project(make_project, sb, salesforce_base=login)  # base_url is the login host
    report = Project(root).ingest(["salesforce.Contact"])
    assert report.ok, report.errors
    assert report.rows >= sb.salesforce.store.count("Contact") > 0  # queryAll also brings the deleted ones
    assert sb.salesforce.requests["GET /services/data/{version}/queryAll"] >= 1
    assert sb.salesforce_login.requests["POST /services/oauth2/token"] == 1
    assert sb.salesforce_login.requests.total == 1  # nothing but the token went to the login host
    tokens = orjson.loads((root / ".hub" / "tokens.json").read_bytes())
    assert tokens["salesforce"]["instance_url"] == sb.salesforce.url

    again = Project(root).ingest(["salesforce.Contact"])  # next run: the stored session, at the stored instance
    assert again.ok, again.errors
    assert sb.salesforce_login.requests.total == 1


def test_salesforce_api_usage_is_warned_past_80_percent_and_shown_by_status(make_project, sb):
    sb.salesforce.usage.set_used(84_000)
    root = sandbox_project(make_project, sb)
    result = run_hub("ingest", "salesforce.Contact", cwd=root)
    assert result.returncode == 0, result.stderr
    assert re.search(r"warning: connection salesforce: api usage 84,0\d\d/100,000 \(84%\): warning, past 80%",
                     result.stderr)
    status = run_hub("status", cwd=root)
    assert re.search(r"api salesforce: salesforce 59\.0 \(default\), api usage 84,0\d\d/100,000 \(84%\): "
                     r"warning, past 80% of the daily API limit", status.stdout), status.stdout
    data = orjson.loads(run_hub("status", "--json", cwd=root).stdout)
    usage = {a["connection"]: a for a in data["apis"]}["salesforce"]["api_usage"]
    assert usage["limit"] == 100_000 and 84_000 < usage["used"] < 84_100
    assert {a["connection"]: a for a in data["apis"]}["hubspot"]["api_version"] == "v3"


def test_usage_under_80_percent_is_shown_without_warning(make_project, sb):
    root = sandbox_project(make_project, sb)
    with Salesforce.api_client(Project(root).config.connection("salesforce")) as client:
        client.get("/services/data/v59.0/limits")
    status = run_hub("status", cwd=root)
    line = next(x for x in status.stdout.splitlines() if x.startswith("api salesforce"))
    assert re.fullmatch(r"api salesforce: salesforce 59\.0 \(default\), api usage \d/100,000 \(0%\)", line)


def test_a_refused_hubspot_refresh_names_the_correlation_id(make_project, sb):
    from hub.errors import AuthError

    root = oauth_project(make_project, sb, salesforce_base=sb.salesforce.url)
    sb.hubspot.auth.revoke(sb.hubspot.auth.refresh_token)
    with pytest.raises(AuthError) as caught:
        HubSpot.api_client(Project(root).config.connection("hubspot")).get("/crm/v3/objects/contacts")
    assert re.search(r"the refresh token was refused \(revoked or expired\) \(invalid_grant\) "
                     r"\(request id [0-9a-f-]{36}\)", str(caught.value))
