"""Full pulls keep list pages as bytes: the pager reads only the trailing ``paging`` member, pyarrow parses the records.

Every way a page can stray from the fast path (a value of another type, members in another order, a key named like the
pager's, pretty-printed bodies, the last page without paging) must land the same records as a full parse would.
"""

from __future__ import annotations

import json

import httpx
import orjson
import pyarrow as pa
import pytest

import hub.integrations.hubspot.source as hubspot
from hub.config import ConnectionConfig
from hub.errors import BadResponseError
from hub.secrets import Secret
from hub.sources.base import ReadState, json_records_to_arrow
from hub.sources.http import _ABSENT, ApiClient, BearerAuth, tail_member

RECORD = pa.struct([pa.field("id", pa.string()), pa.field("n", pa.string())])


@pytest.mark.parametrize(("body", "expected"), [
    (b'{"results":[],"paging":{"next":{"after":"7"}}}', {"next": {"after": "7"}}),
    (b'{"results":[{"paging":{"next":{"after":"bad"}}}]}', _ABSENT),            # a record's own key: brackets unmatched
    (b'{"results":[{"p":{"paging":1}}],"paging":{"next":{"after":"2"}}}', {"next": {"after": "2"}}),
    (b'{"paging":{"next":{"after":"3"}},"results":[]}', _ABSENT),               # not last: parse it all
    (b'{"results":[],"paging":{"next":{"after":"3"}', _ABSENT),                # cut off
    (b'<html>"paging":{}}', _ABSENT),
    (b'{"results":["x\\"paging\\":{}}"]}', _ABSENT),                            # inside a string
    (b'{"results":[]}', _ABSENT),
])
def test_tail_member(body, expected):
    assert tail_member(body, "paging") == expected


def test_pages_parse_together_and_misfits_are_refused():
    pages = [orjson.dumps({"results": [{"id": str(i), "n": "x"} for i in range(k, k + 3)], "paging": {}})
             for k in (0, 3)]
    records = json_records_to_arrow(pages, "results", RECORD)
    assert records.field("id").to_pylist() == ["0", "1", "2", "3", "4", "5"]
    misfit = orjson.dumps({"results": [{"id": "9", "n": 5}]})
    assert json_records_to_arrow([*pages, misfit], "results", RECORD) is None
    assert json_records_to_arrow([b'[{"results": []}]'], "results", RECORD) is None


def contact(i: int, **props) -> dict:
    return {"id": str(i), "archived": False, "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-02T00:00:00Z",
            "properties": {"email": f"p{i}@x.com", "lastmodifieddate": "2024-01-02T00:00:00Z", **props}}


def read_list(pages: list[bytes]) -> list[dict]:
    """Read contacts through the connector's full pull, the list endpoint answering ``pages`` in turn."""
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/properties/contacts"):
            return httpx.Response(200, json={"results": [{"name": "email"}, {"name": "lastmodifieddate"},
                                                         {"name": "paging"}]})
        return httpx.Response(200, content=pages[int(request.url.params.get("after", 0))],
                              headers={"Content-Type": "application/json"})

    api = ApiClient("hubspot", "https://api.hubapi.com", auth=BearerAuth(Secret("pat-test-token")),
                    http=httpx.Client(transport=httpx.MockTransport(handler)), sleep=lambda s: None)
    connector = hubspot.HubSpot(ConnectionConfig(name="hubspot", type="hubspot"), api)
    tables = list(connector.read(connector.streams["contacts"], None, ReadState()))
    return sorted((row for t in tables for row in t.to_pylist()), key=lambda r: int(r["id"]))


def page(records: list[dict], after: int | None, *, paging_first: bool = False, indent: bool = False) -> bytes:
    body = {"results": records}
    if after is not None:
        paging = {"next": {"after": str(after), "link": f"https://api.hubapi.com/x?after={after}"}}
        body = {"paging": paging, **body} if paging_first else {**body, "paging": paging}
    return json.dumps(body, indent=2).encode() if indent else orjson.dumps(body)


def test_every_kind_of_page_lands_like_a_full_parse():
    pages = [
        page([contact(1), contact(2)], 1),
        page([contact(3, email=12345)], 2),                                  # a number where text is declared
        page([contact(4, paging="a value named like the pager")], 3),        # a property called paging
        page([contact(5)], 4, paging_first=True),                            # members in another order
        page([contact(6)], 5, indent=True),                                  # pretty-printed
        page([contact(7)], None),                                            # the last page: no paging
    ]
    rows = read_list(pages)
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 8)]
    assert rows[2]["email"] == "12345"                                       # kept, as text
    assert rows[3]["paging"] == "a value named like the pager"
    assert rows[0]["email"] == "p1@x.com" and rows[6]["updated_at"] == "2024-01-02T00:00:00Z"


def test_a_page_broken_inside_but_whole_at_the_end_fails_clearly():
    broken = page([contact(1)], 1).replace(b'"email"', b'"email', 1)
    with pytest.raises(BadResponseError, match="a page of hubspot is not JSON"):
        read_list([broken, page([contact(2)], None)])
