"""zenpy, the Python SDK of the Zendesk API, as an independent client of the emulator over real loopback HTTP.

zenpy builds ``https://<subdomain>.<domain>/api/v2/...``; its ``_build_url`` reads ``ZENPY_FORCE_SCHEME`` and
``ZENPY_FORCE_NETLOC`` from the environment (zenpy/lib/api.py ``BaseApi._build_url`` and ``base_url``), which is how
these tests point it at ``http://127.0.0.1:<port>``. Everything else is zenpy's own: its Basic ``email/token`` and
OAuth Bearer auth, its cursor-paginated lists, its incremental export generators, its bulk jobs and job statuses.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from zenpy import Zenpy
from zenpy.lib.api_objects import Organization, Ticket, User
from zenpy.lib.exception import APIException

from hub.sandbox import Sandbox
from tests.sandbox.conftest import NOW


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=3, people=30, now=NOW, only={"zendesk"}, zendesk_export_rate_limit=None) as box:
        yield box


@pytest.fixture
def zenpy(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Zenpy:
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", sb.zendesk.url.removeprefix("http://"))
    return Zenpy(subdomain="sandbox", email=sb.zendesk.email, token=sb.zendesk.api_token, disable_cache=True)


def test_lists_and_show_many_match_the_store(zenpy: Zenpy, sb: Sandbox) -> None:
    store = sb.zendesk.store
    assert {u.id for u in zenpy.users()} == {r["id"] for r in store.live("user")}     # page[size] cursor paging
    assert {o.id for o in zenpy.organizations()} == {r["id"] for r in store.live("organization")}
    some = store.live("user")[:3]
    assert {u.id for u in zenpy.users(ids=[r["id"] for r in some])} == {r["id"] for r in some}


def test_cursor_exports_return_every_ticket_and_user(zenpy: Zenpy, sb: Sandbox) -> None:
    store = sb.zendesk.store
    tickets = {t.id for t in zenpy.tickets.incremental(start_time=0, paginate_by_time=False)}
    assert tickets == set(store.records["ticket"])
    users = {u.id for u in zenpy.users.incremental(start_time=0, paginate_by_time=False)}
    assert users == set(store.records["user"])


def test_bulk_create_or_update_users_is_a_job_zenpy_polls(zenpy: Zenpy, sb: Sandbox) -> None:
    job = zenpy.users.create_or_update([User(name="Zed One", email="zed1@example.com", external_id="z1"),
                                        User(name="Zed Two", email="zed2@example.com", external_id="z2")])
    assert job.status == "queued"
    done = zenpy.job_status(id=job.id)
    assert done.status == "completed" and [r.status for r in done.results] == ["Created", "Created"]
    assert {u.email for u in zenpy.users(external_ids=["z1", "z2"])} == {"zed1@example.com", "zed2@example.com"}


def test_organizations_with_custom_fields_and_a_ticket(zenpy: Zenpy, sb: Sandbox) -> None:
    org = zenpy.organizations.create(Organization(name="Zenpy Org", external_id="acct-9",
                                                  organization_fields={"tier": "gold"}))
    assert org.organization_fields["tier"] == "gold"
    org.organization_fields = {"tier": "platinum"}
    zenpy.organizations.update(org)
    assert sb.zendesk.store.records["organization"][org.id]["organization_fields"]["tier"] == "platinum"
    requester = sb.zendesk.store.live("user")[0]
    audit = zenpy.tickets.create(Ticket(subject="From zenpy", description="Body", requester_id=requester["id"]))
    assert audit.ticket.subject == "From zenpy" and audit.ticket.requester_id == requester["id"]
    with pytest.raises(APIException):
        zenpy.organizations.create(Organization(name="Zenpy Org"))     # names are unique in Zendesk


def test_oauth_token_and_wrong_credentials(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", sb.zendesk.url.removeprefix("http://"))
    oauth = Zenpy(subdomain="sandbox", oauth_token=sb.zendesk.oauth_token, disable_cache=True)
    assert oauth.users.me().email == sb.zendesk.email
    wrong = Zenpy(subdomain="sandbox", email=sb.zendesk.email, token="not-the-token", disable_cache=True)
    with pytest.raises(APIException) as caught:
        wrong.users.me()
    assert caught.value.response.status_code == 401
