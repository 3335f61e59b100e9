"""Fields the vendor does not show: Salesforce's field-level security, a HubSpot portal without some properties.

Describe (and the properties list) leave such fields out, and asking for them fails (INVALID_FIELD). The built-in
staging models read some of them; ingest must land them as NULL columns and say once, per object, which fields are
missing and why that is likely, so that `hub build` builds the staging models with NULL there.
"""

from __future__ import annotations

import json

import pytest

from hub.sandbox import Sandbox
from tests.conftest import run_hub, sandbox_project

SF_HIDDEN = ("MobilePhone", "MailingCity", "LeadSource",             # the Contact fields
             "Website", "Industry", "BillingCity", "BillingCountry", "NumberOfEmployees", "AnnualRevenue")
HS_HIDDEN = ("mobilephone", "jobtitle", "industry", "numberofemployees", "annualrevenue")


@pytest.fixture
def sb():
    with Sandbox(seed=41, people=150, hubspot_rate_limit=None, salesforce_hidden=SF_HIDDEN,
                 hubspot_hidden=HS_HIDDEN) as sandbox:
        yield sandbox


def query(root, sql: str) -> list[dict]:
    done = run_hub("query", "--format", "json", sql, cwd=root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_hidden_fields_build_as_null_with_one_warning_each(make_project, sb):
    root = sandbox_project(make_project, sb)
    ingest = run_hub("ingest", cwd=root)
    assert ingest.returncode == 0, ingest.stderr
    warnings = [line for line in ingest.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 4, ingest.stdout                    # one per object
    contact = next(w for w in warnings if "salesforce.Contact" in w)
    assert "MobilePhone, MailingCity, LeadSource" in contact and "field-level security" in contact
    account = next(w for w in warnings if "salesforce.Account" in w)
    assert "Website, Industry, BillingCity, BillingCountry, NumberOfEmployees, AnnualRevenue" in account
    contacts = next(w for w in warnings if "hubspot.contacts" in w)
    assert "mobilephone, jobtitle" in contacts and "portal" in contacts
    assert sb.salesforce.token not in ingest.stdout + ingest.stderr

    build = run_hub("build", cwd=root)
    assert build.returncode == 0, build.stdout + build.stderr
    assert "referenced before" not in build.stdout + build.stderr

    sf = query(root, "SELECT count(*) AS n, count(mobile_phone) AS mobile, count(city) AS city, "
                     "count(lead_source) AS source, count(email) AS email FROM staging.salesforce_contact")[0]
    assert sf["n"] > 0 and sf["email"] > 0
    assert sf["mobile"] == sf["city"] == sf["source"] == 0
    acc = query(root, "SELECT count(*) AS n, count(domain) AS domain, count(employee_count) AS employees, "
                      "count(name) AS name FROM staging.salesforce_account")[0]
    assert acc["n"] > 0 and acc["name"] == acc["n"] and acc["domain"] == acc["employees"] == 0
    hs = query(root, "SELECT count(*) AS n, count(mobile_phone) AS mobile, count(job_title) AS title, "
                     "count(email) AS email FROM staging.hubspot_contacts")[0]
    assert hs["n"] > 0 and hs["email"] > 0 and hs["mobile"] == hs["title"] == 0


def test_asking_for_a_hidden_field_is_refused_like_salesforce(sb):
    import httpx

    answer = httpx.get(f"{sb.salesforce.url}/services/data/v59.0/query",
                       params={"q": "SELECT MobilePhone FROM Contact"},
                       headers={"Authorization": f"Bearer {sb.salesforce.token}"})
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "INVALID_FIELD"
