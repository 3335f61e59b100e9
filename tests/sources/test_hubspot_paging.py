"""HubSpot search re-evaluates the query for every page: records edited while a pull pages must not push others out.

The sandbox runs the search again for each page request, as HubSpot does (``after`` is an offset into the fresh result).
A hook edits records of the first page just before the second page is answered: they move to the end of the result, and
with offset paging the records at the page boundary would be skipped, and lost below the saved cursor.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hub.config import ConnectionConfig
from hub.sandbox import Sandbox
from hub.secrets import Secret
from hub.sources.base import ReadState
from hub.integrations.hubspot.source import HubSpot

SINCE = datetime(2000, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def sb():
    with Sandbox(seed=23, people=900, hubspot_rate_limit=None, hubspot_search_rate_limit=None) as sandbox:
        yield sandbox


def connector(sb: Sandbox) -> HubSpot:
    config = ConnectionConfig(name="hubspot", type="hubspot", base_url=sb.hubspot.url,
                              secrets={"token": Secret(sb.hubspot.token)})
    return HubSpot.connect(config)


def edit_between_pages(sb: Sandbox, edits: int, at_page: int = 2) -> list[str]:
    """Edit the first ``edits`` records (in search order) just before search page ``at_page`` is answered."""
    table = sb.hubspot.store.table("contacts")
    with sb.hubspot.store.lock:
        first = [str(o.id) for o in sorted(table.live(), key=lambda o: (o.updated_ms, o.id))[:edits]]
    searches = 0

    def hook(request):
        nonlocal searches
        if request.method == "POST" and request.path.endswith("/search"):
            searches += 1
            if searches == at_page:
                for oid in first:
                    sb.hubspot.store.update("contacts", oid, {"jobtitle": "Edited mid-pull"})
        return None

    sb.hubspot.before_request = hook
    return first


def read_ids(sb: Sandbox) -> dict[str, str | None]:
    hub = connector(sb)
    state = ReadState()
    rows: dict[str, str | None] = {}
    for table in hub.read(hub.streams["contacts"], SINCE, state):
        for oid, title in zip(table.column("id").to_pylist(), table.column("jobtitle").to_pylist()):
            rows[oid] = title   # later batches win, as the merge on the cursor does
    return rows


def test_records_edited_between_pages_lose_nothing(sb):
    live = set(sb.hubspot.store.ids("contacts"))
    assert len(live) > 400                      # more than two search pages of 200
    edited = edit_between_pages(sb, edits=3)
    rows = read_ids(sb)
    assert set(rows) == live                    # the records at the page boundary are there too
    assert all(rows[oid] == "Edited mid-pull" for oid in edited)   # and the edited ones with their new values


def test_no_search_goes_past_the_first_page_offset(sb):
    # key paging never sends ``after``; the sandbox would refuse an offset past 10,000 (HubSpot's cap)
    bodies = []
    sb.hubspot.before_request = lambda request: bodies.append(request.json()) if request.path.endswith(
        "/search") else None
    rows = read_ids(sb)
    assert len(rows) == len(sb.hubspot.store.ids("contacts"))
    assert len(bodies) >= 3 and not any(body.get("after") for body in bodies)
