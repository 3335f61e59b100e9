"""Seeded fault injection in the emulators: vendor-shaped faults, determinism, runtime switching, the --chaos spec."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest
from click.testing import CliRunner

from hub.cli import cli
from hub.sandbox import Sandbox
from hub.sandbox.chaos import Chaos, ChaosSpecError
from tests.sandbox.conftest import NOW, hubspot_client, salesforce_client

CONTACTS = "/crm/v3/objects/contacts"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=3, people=30, hubspot_rate_limit=None, now=NOW) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _calm(sb: Sandbox) -> Iterator[None]:
    """Every test starts and ends without faults, whatever it set."""
    sb.hubspot.chaos = sb.salesforce.chaos = None
    yield
    sb.hubspot.chaos = sb.salesforce.chaos = None


def outcome(client: httpx.Client, path: str) -> str:
    """One request's result as a short label: the status, or 'drop' when the connection closed unanswered."""
    try:
        return str(client.get(path).status_code)
    except httpx.RemoteProtocolError:
        return "drop"


# --- the spec ----------------------------------------------------------------------------------


def test_spec_sets_shares_and_settings():
    chaos = Chaos.parse("5xx=0.1, 429=0.05,drop=0.02,timeout=0.01,slow=0.05,garbage=0.01,hang=1.5,expire=3", seed=9)
    assert (chaos.server_error, chaos.rate_limit, chaos.drop, chaos.timeout) == (0.1, 0.05, 0.02, 0.01)
    assert (chaos.slow, chaos.garbage, chaos.hang, chaos.expire, chaos.seed) == (0.05, 0.01, 1.5, 3, 9)
    assert Chaos.parse(chaos.describe()) == chaos


@pytest.mark.parametrize(("spec", "message"), [
    ("5xx=0.1,dorp=0.1", "unknown chaos kind 'dorp' (did you mean 'drop'?)"),
    ("5xx", "chaos item '5xx' should be kind=value, e.g. 5xx=0.1"),
    ("429=lots", "chaos 429=lots: expected a share between 0 and 1"),
    ("5xx=1.5", "a share must be between 0 and 1"),
    ("5xx=0.7,drop=0.7", "chaos shares add up to 1.4; together they must not exceed 1"),
    ("expire=2.5", "chaos expire=2.5: expected a whole number"),
])
def test_bad_spec_is_one_clear_line(spec: str, message: str):
    with pytest.raises(ChaosSpecError) as info:
        Chaos.parse(spec)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_cli_refuses_a_bad_spec_in_one_line():
    result = CliRunner().invoke(cli, ["sandbox", "--chaos", "5xx=0.1,dorp=0.2"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: --chaos: unknown chaos kind 'dorp' (did you mean 'drop'?)"


# --- vendor-shaped faults ----------------------------------------------------------------------


def test_hubspot_rate_limit_looks_like_hubspot(sb: Sandbox):
    sb.hubspot.chaos = Chaos(rate_limit=1.0)
    with hubspot_client(sb) as client:
        response = client.get(CONTACTS)
    body = response.json()
    assert response.status_code == 429 and "retry-after" not in response.headers
    assert body["status"] == "error" and body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["correlationId"]
    assert response.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert sb.hubspot.chaos.injected["429"] == 1


def test_salesforce_5xx_is_a_server_unavailable_array(sb: Sandbox):
    sb.salesforce.chaos = Chaos(server_error=1.0, seed=1)
    with salesforce_client(sb) as client:
        responses = [client.get("/sobjects/Contact/describe") for _ in range(6)]
    assert {r.status_code for r in responses} <= {500, 503}
    unavailable = [r.json() for r in responses if r.status_code == 503]
    assert unavailable and unavailable[0] == [{"message": "Server Unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
    assert sb.salesforce.chaos.injected["5xx"] == 6


def test_garbage_is_an_html_page_with_200_or_502(sb: Sandbox):
    sb.hubspot.chaos = Chaos(garbage=1.0, seed=2)
    with hubspot_client(sb) as client:
        responses = [client.get(CONTACTS) for _ in range(8)]
    assert {r.status_code for r in responses} == {200, 502}
    assert all(r.headers["content-type"] == "text/html" and r.text.startswith("<html>") for r in responses)


def test_truncate_cuts_a_real_answer(sb: Sandbox):
    with hubspot_client(sb) as client:
        whole = client.get(CONTACTS).content
        sb.hubspot.chaos = Chaos(truncate=1.0)
        cut = client.get(CONTACTS)
    assert cut.status_code == 200 and cut.content == whole[: len(whole) // 2]
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(cut.content)


def test_drop_closes_the_connection_unanswered(sb: Sandbox):
    sb.salesforce.chaos = Chaos(drop=1.0)
    with salesforce_client(sb) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/sobjects/Contact/describe")
    assert sb.salesforce.chaos.injected["drop"] == 1


def test_timeout_holds_the_request_past_the_client_timeout(sb: Sandbox):
    sb.hubspot.chaos = Chaos(timeout=1.0, hang=1.0)
    with hubspot_client(sb) as client, pytest.raises(httpx.ReadTimeout):
        client.get(CONTACTS, timeout=0.1)
    assert sb.hubspot.chaos.injected["timeout"] == 1


def test_slow_answers_are_still_right(sb: Sandbox):
    with hubspot_client(sb) as client:
        expected = client.get(CONTACTS).json()
        sb.hubspot.chaos = Chaos(slow=1.0, delay=0.01)
        assert client.get(CONTACTS).json() == expected
    assert sb.hubspot.chaos.injected["slow"] == 1


def test_expired_tokens_for_n_requests(sb: Sandbox):
    sb.hubspot.chaos = Chaos(expire=2)
    sb.salesforce.chaos = Chaos(expire=1)
    with hubspot_client(sb) as hubspot, salesforce_client(sb) as salesforce:
        first, second, third = (hubspot.get(CONTACTS) for _ in range(3))
        refused, accepted = (salesforce.get("/sobjects/Contact/describe") for _ in range(2))
        versions = httpx.get(f"{sb.salesforce.url}/services/data")  # public: not counted against expire
    assert (first.status_code, second.status_code, third.status_code) == (401, 401, 200)
    assert first.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert refused.status_code == 401 and refused.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    assert accepted.status_code == 200 and versions.status_code == 200
    assert sb.hubspot.chaos.injected["expire"] == 2 and sb.salesforce.chaos.injected["expire"] == 1


# --- determinism and wiring --------------------------------------------------------------------


def test_same_seed_same_faults():
    chaos = Chaos(server_error=0.2, rate_limit=0.1, drop=0.1, garbage=0.1, seed=42)
    runs = []
    for _ in range(2):
        with Sandbox(seed=3, people=10, hubspot_rate_limit=None, now=NOW, chaos=chaos) as sandbox, \
                hubspot_client(sandbox) as client:
            runs.append([outcome(client, CONTACTS) for _ in range(40)])
            counts = dict(sandbox.hubspot.chaos.injected)
    assert runs[0] == runs[1]
    assert counts["5xx"] and counts["429"] and counts["drop"] and counts["garbage"]
    assert runs[0].count("drop") == counts["drop"] and runs[0].count("429") == counts["429"]


def test_each_emulator_gets_its_own_draws_and_counts():
    chaos = Chaos(server_error=1.0)
    with Sandbox(seed=3, people=10, hubspot_rate_limit=None, now=NOW, chaos=chaos) as sandbox:
        assert sandbox.hubspot.chaos is not sandbox.salesforce.chaos and sandbox.hubspot.chaos is not chaos
        with hubspot_client(sandbox) as client:
            assert client.get(CONTACTS).status_code >= 500
        assert sandbox.hubspot.chaos.injected["5xx"] == 1 and sandbox.salesforce.chaos.injected["5xx"] == 0


def test_chaos_switches_at_runtime(sb: Sandbox):
    with salesforce_client(sb) as client:
        sb.salesforce.chaos = Chaos(rate_limit=1.0)
        limited = client.get("/query?q=SELECT+Id+FROM+Contact")
        sb.salesforce.chaos = None
        normal = client.get("/query?q=SELECT+Id+FROM+Contact")
    assert limited.status_code == 429 and limited.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert normal.status_code == 200 and normal.json()["totalSize"] > 0
