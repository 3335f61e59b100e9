"""QuickBooks webhooks through ``hub serve``'s intake over real loopback HTTP: ``intuit-signature`` verified, CloudEvents
(and the retired eventNotifications envelope) stored once per event, deletions flagged in raw."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from hub.integrations.quickbooks.webhooks import SCHEME
from hub.project import Project
from hub.serve import Service

VERIFIER = "intuit-verifier-token"


def signed(body: bytes, key: str = VERIFIER) -> dict[str, str]:
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return {"intuit-signature": base64.b64encode(digest).decode(), "Content-Type": "application/json"}


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Project:
    return Project(make_project("""
        [connections.books]
        type = "quickbooks"
        realm_id = "310687"
        """, f"""
        [connections.books]
        client_id = "x"
        client_secret = "y"
        refresh_token = "z"
        webhook_secret = "{VERIFIER}"
        """))


@pytest.fixture
def service(project: Project) -> Iterator[Service]:
    with Service(project, port=0) as running:
        yield running


def cloud_event(event_id: str, kind: str, entity: str) -> dict[str, object]:
    return {"specversion": "1.0", "id": event_id, "source": "intuit.abc", "type": kind,
            "datacontenttype": "application/json", "time": "2026-06-01T10:00:00.000Z", "intuitentityid": entity,
            "intuitaccountid": "310687", "data": {}}


def test_signed_cloudevents_are_stored_once_and_a_forged_one_is_refused(project, service):
    url = f"{service.url}/webhooks/books"
    body = orjson.dumps([cloud_event("e-1", "qbo.invoice.created.v1", "130"),
                         cloud_event("e-2", "qbo.payment.deleted.v1", "77")])
    answer = httpx.post(url, content=body, headers=signed(body))
    assert answer.status_code == 200 and answer.json()["stored"] == 2
    assert httpx.post(url, content=body, headers=signed(body)).status_code == 200     # redelivered: stored once
    assert httpx.post(url, content=body, headers=signed(body, "wrong")).status_code == 401
    assert httpx.post(url, content=body + b" ", headers=signed(body)).status_code == 401
    legacy = orjson.dumps({"eventNotifications": [{"realmId": "310687", "dataChangeEvent": {"entities": [
        {"name": "Customer", "id": "9", "operation": "Update", "lastUpdated": "2026-06-01T10:05:00.000Z"}]}}]})
    assert httpx.post(url, content=legacy, headers=signed(legacy)).status_code == 200
    service.stop()
    rows = project.query("SELECT id, type FROM raw_books.events ORDER BY id").rows
    assert rows == [("310687:Customer:9:Update:2026-06-01T10:05:00.000Z", "qbo.customer.updated.v1"),
                    ("e-1", "qbo.invoice.created.v1"), ("e-2", "qbo.payment.deleted.v1")]


def test_subject_and_deletions_name_the_connector_streams():
    import pyarrow as pa

    assert SCHEME.subject(cloud_event("e", "qbo.invoice.updated.v1", "5")) == ("invoices", "5")
    assert SCHEME.subject(cloud_event("e", "qbo.creditmemo.created.v1", "6")) == ("credit_memos", "6")
    assert SCHEME.subject(cloud_event("e", "qbo.account.created.v1", "7")) is None
    rows = pa.table({"id": ["a", "b"], "type": ["qbo.payment.deleted.v1", "qbo.invoice.updated.v1"],
                     "data": [orjson.dumps(cloud_event("a", "qbo.payment.deleted.v1", "77")).decode(),
                              orjson.dumps(cloud_event("b", "qbo.invoice.updated.v1", "5")).decode()]})
    assert SCHEME.deleted(rows) == {"payments": ["77"]}
