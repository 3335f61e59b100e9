"""ApiClient over loopback HTTP against a sandbox injecting each transient fault: retried, then one clear error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.errors import AuthError, BadResponseError, RateLimitError, SourceError, UnreachableError
from hub.sandbox import Sandbox
from hub.sandbox.chaos import Chaos
from hub.secrets import Secret
from hub.sources.http import ApiClient, BearerAuth, RetryPolicy
from hub.integrations.hubspot.source import HubSpotVendor
from hub.sources.ratelimit import RateLimiter
from hub.integrations.salesforce.source import SalesforceVendor

CONTACTS = "/crm/v3/objects/contacts"
DESCRIBE = "/services/data/v59.0/sobjects/Contact/describe"
HANG = 1.5
CLIENT_TIMEOUT = 0.5  # well below HANG, so a held request is a client-side timeout; well above a real answer's time


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=4, people=20, hubspot_rate_limit=None) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _calm(sb: Sandbox) -> Iterator[None]:
    sb.hubspot.chaos = sb.salesforce.chaos = None
    yield
    sb.hubspot.chaos = sb.salesforce.chaos = None


def hubspot(sb: Sandbox, attempts: int) -> ApiClient:
    """A HubSpot client with its own limiter (not the process-wide one) and near-instant backoff."""
    return ApiClient("hubspot", sb.hubspot.url, auth=BearerAuth(Secret(sb.hubspot.token)), vendor=HubSpotVendor(),
                     retry=RetryPolicy(max_attempts=attempts, base_delay=0.001), limiter=RateLimiter(),
                     timeout=CLIENT_TIMEOUT)


def salesforce(sb: Sandbox, attempts: int) -> ApiClient:
    return ApiClient("salesforce", sb.salesforce.url, auth=BearerAuth(Secret(sb.salesforce.token)),
                     vendor=SalesforceVendor(), retry=RetryPolicy(max_attempts=attempts, base_delay=0.001),
                     limiter=RateLimiter(), timeout=CLIENT_TIMEOUT)


SEED = 7  # with it, six reads meet each kind of fault at least once on both emulators
FAULTS = {
    "5xx": dict(server_error=0.5),
    "429": dict(rate_limit=0.5),
    "drop": dict(drop=0.5),
    "timeout": dict(timeout=0.3, hang=HANG),
    "garbage": dict(garbage=0.5),
    "truncate": dict(truncate=0.5),
}


@pytest.mark.parametrize("kind", FAULTS)
def test_hubspot_reads_survive(sb: Sandbox, kind: str):
    with hubspot(sb, attempts=1) as calm:
        expected = calm.get(CONTACTS, params={"limit": 5})
    sb.hubspot.chaos = Chaos(seed=SEED, **FAULTS[kind])
    with hubspot(sb, attempts=12) as api:
        answers = [api.get(CONTACTS, params={"limit": 5}) for _ in range(6)]
    assert answers == [expected] * 6
    assert sb.hubspot.chaos.injected[kind] > 0 and api.calls == 6 + sb.hubspot.chaos.injected[kind]


@pytest.mark.parametrize("kind", FAULTS)
def test_salesforce_reads_survive(sb: Sandbox, kind: str):
    with salesforce(sb, attempts=1) as calm:
        expected = calm.get(DESCRIBE)
    sb.salesforce.chaos = Chaos(seed=SEED, **FAULTS[kind])
    with salesforce(sb, attempts=12) as api:
        answers = [api.get(DESCRIBE) for _ in range(6)]
    assert answers == [expected] * 6 and sb.salesforce.chaos.injected[kind] > 0


def test_search_posts_survive(sb: Sandbox):
    body = {"filterGroups": [], "limit": 10, "properties": ["email"]}
    with hubspot(sb, attempts=1) as calm:
        expected = calm.post(f"{CONTACTS}/search", body)
    sb.hubspot.chaos = Chaos(server_error=0.2, rate_limit=0.1, drop=0.1, garbage=0.1, seed=8)
    with hubspot(sb, attempts=15) as api:
        # a search is a read: marked idempotent, it is retried like a GET (an unmarked POST would not be)
        assert [api.post(f"{CONTACTS}/search", body, idempotent=True) for _ in range(5)] == [expected] * 5
    assert sum(sb.hubspot.chaos.injected.values()) > 0


# --- bounded: always the same fault ends in one clear error ---------------------------------------

GIVE_UP = {
    "5xx": (dict(server_error=1.0), SourceError, ("failed with 50",)),
    "429": (dict(rate_limit=1.0), RateLimitError, ("rate-limited", "(429)")),
    "drop": (dict(drop=1.0), UnreachableError, ("cannot reach HubSpot", "no response")),
    "timeout": (dict(timeout=1.0, hang=HANG), UnreachableError, ("timed out", "no response")),
    # the proxy page comes as a 200 (not JSON) or a 502 (a server error): either way the last status is named
    "garbage": (dict(garbage=1.0), SourceError, ()),
    "truncate": (dict(truncate=1.0), BadResponseError, ("(200)", "not JSON")),
}


@pytest.mark.parametrize("kind", GIVE_UP)
def test_persistent_fault_ends_in_a_clear_error(sb: Sandbox, kind: str):
    settings, error, phrases = GIVE_UP[kind]
    sb.hubspot.chaos = Chaos(seed=1, **settings)
    with hubspot(sb, attempts=3) as api, pytest.raises(error) as info:
        api.get(CONTACTS, params={"limit": 5})
    message = str(info.value)
    assert message.startswith("connection 'hubspot': ") and f"GET {CONTACTS}" in message and "3 tries" in message
    assert all(phrase in message for phrase in phrases), message
    assert info.value.retriable and api.calls == 3 and sb.hubspot.chaos.injected[kind] == 3
    if kind in ("drop", "timeout"):
        assert info.value.status is None
    else:
        assert info.value.status is not None and str(info.value.status) in message


def test_expired_token_is_not_retried(sb: Sandbox):
    sb.salesforce.chaos = Chaos(expire=5)
    with salesforce(sb, attempts=4) as api, pytest.raises(AuthError) as info:
        api.get(DESCRIBE)
    assert "INVALID_SESSION_ID" in str(info.value) and "connection 'salesforce'" in str(info.value)
    assert api.calls == 1 and not info.value.retriable
