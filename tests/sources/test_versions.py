"""Pinned API versions: one tested table, checked against the emulators and SDKs, config, status and retirements."""

from __future__ import annotations

import httpx
import pytest
import simple_salesforce.api

from hub.errors import ConfigError, SourceError
from hub.project import Project
from hub.sandbox import Sandbox
from hub.integrations.salesforce.emulator.server import API_VERSIONS
from hub.integrations.shopify.emulator.server import API_VERSION as SHOPIFY_VERSION
from hub.integrations.shopify.emulator.server import SUPPORTED_VERSIONS as SHOPIFY_SERVED
from hub.integrations.stripe.emulator.objects import API_VERSION as EMULATED_STRIPE_VERSION
from hub.sources import versions
from hub.integrations.salesforce.source import Salesforce
from tests.conftest import run_hub, sandbox_project


def test_tested_versions_are_the_ones_the_emulators_and_sdks_speak():
    """Moving a default without the emulators (or an SDK upgrade the emulators do not serve) fails here."""
    listed = [v for _, v in API_VERSIONS]
    assert versions.TESTED["salesforce"] in listed
    assert simple_salesforce.api.DEFAULT_API_VERSION in listed  # the SDK conformance tests call its default
    assert versions.TESTED["stripe"] == EMULATED_STRIPE_VERSION
    assert versions.TESTED["hubspot"] == "v3"
    assert versions.TESTED["zendesk"] == "v2"   # every Zendesk path is under /api/v2, the one version it serves
    assert versions.TESTED["shopify"] == SHOPIFY_VERSION and SHOPIFY_VERSION in SHOPIFY_SERVED
    assert versions.TESTED["quickbooks"] == "75"   # the minorversion every QuickBooks request pins
    assert set(versions.TESTED) == {"hubspot", "quickbooks", "salesforce", "shopify", "stripe", "zendesk"}


def test_hubspot_routes_of_the_tested_version_exist():
    with Sandbox(seed=1, people=5, hubspot_rate_limit=None) as sb:
        templates = {r.template for r in sb.hubspot.router.routes}
    assert any(t.startswith(f"/crm/{versions.TESTED['hubspot']}/objects") for t in templates)


@pytest.mark.parametrize("kind, value, expected", [
    ("hubspot", '"v4"', "[connections.c] api_version is 'v4'; hub is tested against hubspot v3 only"),
    ("salesforce", '"25.0"', "Salesforce API v25.0 is retired (REST answers 410 Gone)"),
    ("salesforce", "59.0", "is 59.0, not a Salesforce API version"),
    ("stripe", '"2099-01-01"', "hub is tested against stripe 2024-06-20 only"),
])
def test_a_version_hub_cannot_speak_is_refused_at_load(make_project, kind, value, expected):
    root = make_project(f"""
        [connections.c]
        type = "{kind}"
        base_url = "http://127.0.0.1:9"
        api_version = {value}
        """)
    with pytest.raises(ConfigError) as caught:
        Project(root)
    assert expected in str(caught.value)
    assert caught.value.line == 5
    result = run_hub("status", cwd=root)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and expected in result.stderr


def test_status_shows_pinned_and_default_versions_and_the_retirement_schedule(make_project):
    with Sandbox(seed=1, people=5, hubspot_rate_limit=None) as sb:
        root = sandbox_project(make_project, sb, extra='api_version = "35.0"')
        result = run_hub("status", cwd=root)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "api hubspot: hubspot v3 (default)" in lines
    assert "api salesforce: salesforce 35.0" in lines
    assert ("warning: salesforce: Salesforce API v35.0 is deprecated and unsupported from Summer '27, retired from "
            "Summer '28") in lines


def test_salesforce_connection_speaks_its_pinned_version(make_project):
    with Sandbox(seed=1, people=5, hubspot_rate_limit=None) as sb:
        root = sandbox_project(make_project, sb, extra='api_version = "62.0"')
        connector = Salesforce.connect(Project(root).config.connection("salesforce"))
        assert connector.describe(Salesforce.streams["Contact"])
        assert connector.api == "/services/data/v62.0"


def test_a_retired_salesforce_version_answers_410_and_hub_says_what_to_pin(make_project):
    with Sandbox(seed=1, people=5, hubspot_rate_limit=None) as sb:
        gone = httpx.get(f"{sb.salesforce.url}/services/data/v29.0/sobjects",
                         headers={"Authorization": f"Bearer {sb.salesforce.token}"})
        assert gone.status_code == 410
        unknown = httpx.get(f"{sb.salesforce.url}/services/data/v99.0/sobjects",
                            headers={"Authorization": f"Bearer {sb.salesforce.token}"})
        assert unknown.status_code == 404
        client = Salesforce.api_client(Project(sandbox_project(make_project, sb)).config.connection("salesforce"))
        with pytest.raises(SourceError) as caught:
            client.get("/services/data/v29.0/sobjects/Contact/describe")
    assert "API version v29.0 is retired (410 Gone): pin a supported api_version in hub.toml (tested: 59.0)" \
        in str(caught.value)


def test_stripe_answering_in_another_version_is_a_notice():
    from hub.sources import notices
    from hub.sources.http import ApiClient
    from hub.integrations.stripe.source import StripeVendor

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": []}, headers={"Stripe-Version": "2025-01-27.acacia"})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = ApiClient("stripe_mismatch", "https://api.stripe.test", http=http, vendor=StripeVendor())
    client.get("/v1/customers", headers={"Stripe-Version": versions.TESTED["stripe"]})
    found = notices.seen("stripe_mismatch").notices
    assert found["Stripe-Version"]["message"].startswith(
        "Stripe answered in API version 2025-01-27.acacia, not the pinned 2024-06-20")
