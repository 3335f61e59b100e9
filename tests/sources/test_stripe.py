"""The Stripe connector against the sandbox's Stripe emulator over real loopback HTTP: full, paged, incremental."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import orjson
import pyarrow as pa
import pytest

from hub.config import ConnectionConfig
from hub.project import Project
from hub.sandbox import Sandbox
from hub.secrets import Secret
from hub.sources.base import ReadState
from hub.integrations.stripe.source import Stripe


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    # the real clock: incremental reads compare cursors with the event window, as they would in production
    with Sandbox(seed=5, people=400, stripe_rate_limit=None) as box:
        yield box


def connect(sb: Sandbox) -> Stripe:
    config = ConnectionConfig(name="billing", type="stripe", base_url=sb.stripe.url,
                              secrets={"token": Secret(sb.stripe.token)})
    return Stripe.connect(config)


def read(sb: Sandbox, stream: str, since: datetime | None = None) -> tuple[pa.Table, ReadState]:
    connector = connect(sb)
    state = ReadState()
    try:
        tables = list(connector.read(connector.streams[stream], since, state))
    finally:
        connector.client.close()
    return (pa.concat_tables(tables) if tables else None), state


def api_ids(sb: Sandbox, path: str, **params: object) -> list[str]:
    ids: list[str] = []
    query = {"limit": 100, **params}
    with httpx.Client(base_url=sb.stripe.url, headers={"Authorization": f"Bearer {sb.stripe.token}"}) as http:
        while True:
            body = http.get(path, params=query).json()
            ids += [o["id"] for o in body["data"]]
            if not body["has_more"]:
                return ids
            query["starting_after"] = ids[-1]


def test_full_read_pages_through_every_stream(sb):
    for stream, path in [("customers", "/v1/customers"), ("invoices", "/v1/invoices"), ("charges", "/v1/charges"),
                         ("payment_intents", "/v1/payment_intents"), ("events", "/v1/events")]:
        sb.stripe.requests.reset()
        table, state = read(sb, stream)
        ids = table.column("id").to_pylist()
        assert sorted(ids) == sorted(api_ids(sb, path)) and len(ids) == len(set(ids)), stream
        assert state.rows == len(ids)
        if len(ids) > 100:
            assert sb.stripe.requests[f"GET {path}"] >= 2  # paged with starting_after
    assert sb.stripe.store.count("invoice") > 100


def test_nested_objects_land_as_json_text_and_scalars_typed(sb):
    table, _ = read(sb, "invoices")
    assert table.schema.field("created").type == pa.int64() and table.schema.field("paid").type == pa.bool_()
    assert table.schema.field("amount_paid").type == pa.int64()
    row = next(r for r in table.to_pylist() if r["status"] == "paid")
    lines = orjson.loads(row["lines"])
    assert lines["object"] == "list" and lines["data"][0]["amount"] == row["total"]
    customers, _ = read(sb, "customers")
    with_address = next(r for r in customers.to_pylist() if r["address"])
    assert orjson.loads(with_address["address"])["country"]
    events, _ = read(sb, "events")
    event = events.to_pylist()[0]
    assert orjson.loads(event["data"])["object"]["id"] == event["object_id"] and event["object_type"]


def test_incremental_reads_new_objects_and_changes_to_old_ones(sb):
    store = sb.stripe.store
    old = next(c for c in store.collections["customer"].items.values() if c["created"] < store.now() - 86400 * 90)
    unpaid = next(i for i in store.collections["invoice"].items.values()
                  if i["status"] == "open" and i["created"] < store.now() - 86400 * 40)
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    assert read(sb, "customers", since)[0] is None  # nothing new or changed yet
    new = store.create_customer({"email": "new@example.com", "name": "New Person"})
    store.update_customer(old["id"], {"email": "changed@example.com"})
    store.update_customer(old["id"], {"name": "Twice Changed"})
    store.pay_invoice(unpaid["id"])

    customers, state = read(sb, "customers", since)
    rows = {r["id"]: r for r in customers.to_pylist()}
    assert set(rows) == {new["id"], old["id"]}
    assert rows[old["id"]]["email"] == "changed@example.com" and rows[old["id"]]["name"] == "Twice Changed"
    assert state.max_cursor is not None and state.max_cursor >= since - timedelta(seconds=1)

    invoices, _ = read(sb, "invoices", since)
    [paid] = invoices.to_pylist()
    assert paid["id"] == unpaid["id"] and paid["status"] == "paid"
    charges, _ = read(sb, "charges", since)
    assert charges.column("invoice").to_pylist() == [unpaid["id"]]

    events, state = read(sb, "events", since)
    types = events.column("type").to_pylist()
    assert types.count("customer.updated") == 2 and "invoice.paid" in types and "customer.created" in types
    assert all(c >= int(since.timestamp()) for c in events.column("created").to_pylist())
    assert state.max_cursor >= since - timedelta(seconds=1)


def test_a_cursor_older_than_the_event_window_reads_everything(sb):
    table, _ = read(sb, "customers", datetime.now(timezone.utc) - timedelta(days=45))
    assert table.num_rows == sb.stripe.store.count("customer")


def test_ingest_lands_raw_tables_and_merges_updates(make_project, sb):
    root = make_project(f"""
        [connections.billing]
        type = "stripe"
        base_url = "{sb.stripe.url}"
        streams = ["customers", "events"]
        """, f"""
        [connections.billing]
        token = "{sb.stripe.token}"
        """)
    project = Project(root)
    first = project.ingest()
    assert first.ok, first.errors
    count = sb.stripe.store.count("customer")
    assert project.query("SELECT count(*) FROM raw_billing.customers").scalar() == count
    old = next(iter(sb.stripe.store.collections["customer"].items.values()))
    sb.stripe.store.update_customer(old["id"], {"email": "merged@example.com"})
    second = project.ingest()
    assert second.ok, second.errors
    assert {r.mode for r in second.results} == {"incremental"}
    assert project.query("SELECT count(*), count(DISTINCT id) FROM raw_billing.customers").rows[0] == (count, count)
    assert project.query(f"SELECT email FROM raw_billing.customers WHERE id = '{old['id']}'").scalar() == \
        "merged@example.com"


def test_stripe_customers_join_crm_people_by_email(make_project, sandbox):
    from hub.modeling import build

    sb = sandbox
    root = make_project(f"""
        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"

        [connections.salesforce]
        type = "salesforce"
        base_url = "{sb.salesforce.url}"

        [connections.billing]
        type = "stripe"
        base_url = "{sb.stripe.url}"
        streams = ["customers"]
        """, f"""
        [connections.hubspot]
        token = "{sb.hubspot.token}"

        [connections.salesforce]
        token = "{sb.salesforce.token}"

        [connections.billing]
        token = "{sb.stripe.token}"
        """, name="people")
    project = Project(root)
    assert project.ingest().ok
    report = build(project)
    assert report.ok, report.errors
    person_of = {(c, s): p for c, s, p in project.query(
        "SELECT connection, source_id, person_id FROM canonical.person_source").rows}
    contacts = sb.hubspot.store.tables["contacts"]
    crm: dict[int, set[int]] = {}  # seed person -> canonical person ids of its CRM records
    for oid, row in zip(contacts.order, sb.data.contacts["marketing"], strict=True):
        if ("hubspot", contacts.objects[oid].sid) in person_of:
            crm.setdefault(row.person, set()).add(person_of[("hubspot", contacts.objects[oid].sid)])
    for record, row in zip(sb.salesforce.store.records("Contact"), sb.data.contacts["sales"], strict=True):
        if ("salesforce", record["Id"]) in person_of:
            crm.setdefault(row.person, set()).add(person_of[("salesforce", record["Id"])])
    joined = shared = 0
    for cid, person in sb.stripe.store.truth.items():
        pid = person_of[("billing", cid)]
        if person is None:
            assert all(pid not in ids for ids in crm.values()), cid  # Stripe-only customers stay their own persons
            continue
        joined += 1
        shared += pid in crm.get(person, set())
    assert joined > 50 and shared / joined >= 0.95, (shared, joined)


def test_an_invoice_with_more_lines_than_stripe_embeds_lands_with_all_of_them(sb):
    import stripe

    api = httpx.Client(base_url=sb.stripe.url, headers={"Authorization": f"Bearer {sb.stripe.token}"})
    try:
        customer = api.get("/v1/customers", params={"limit": 1}).json()["data"][0]["id"]
        for n in range(25):
            api.post("/v1/invoiceitems", data={"customer": customer, "amount": str(100 + n), "currency": "usd",
                                               "description": f"line {n}"}).raise_for_status()
        invoice = api.post("/v1/invoices", data={"customer": customer,
                                                 "pending_invoice_items_behavior": "include"}).json()
    finally:
        api.close()
    embedded = invoice["lines"]
    assert len(embedded["data"]) == 10 and embedded["has_more"]
    assert embedded["url"] == f"/v1/invoices/{invoice['id']}/lines"
    # the official client pages the rest from lines.url, as it would against api.stripe.com
    official = stripe.StripeClient(sb.stripe.token, base_addresses={"api": sb.stripe.url})
    everything = [line.id for line in official.invoices.retrieve(invoice["id"]).lines.auto_paging_iter()]
    assert len(everything) == len(set(everything)) == 25
    table, _ = read(sb, "invoices")
    row = [r for r in table.to_pylist() if r["id"] == invoice["id"]][0]
    lines = orjson.loads(row["lines"])
    assert [line["id"] for line in lines["data"]] == everything and not lines["has_more"]
    assert sum(line["amount"] for line in lines["data"]) == row["total"] == sum(100 + n for n in range(25))


def test_an_object_whose_event_has_another_api_version_is_fetched_again(sb):
    store = sb.stripe.store
    olds = [c for c in store.collections["customer"].items.values() if c["created"] < store.now() - 86400 * 90][:2]
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    store.update_customer(olds[0]["id"], {"name": "Pinned Version"})   # an event in the version hub pins
    store.api_version = "2023-10-16"   # the account's default, as after an older integration set it
    store.update_customer(olds[1]["id"], {"name": "Older Version"})
    sb.stripe.requests.reset()
    customers, _ = read(sb, "customers", since)
    rows = {r["id"]: r for r in customers.to_pylist()}
    assert {i: rows[i]["name"] for i in rows} == {olds[0]["id"]: "Pinned Version", olds[1]["id"]: "Older Version"}
    # only the object whose newest event is in another version is read again, with the pinned version
    assert sb.stripe.requests["GET /v1/customers/{id}"] == 1


def test_a_deleted_customer_is_flagged_by_an_incremental_read_and_absent_from_a_full_one(sb):
    import stripe

    store = sb.stripe.store
    gone = next(c for c in store.collections["customer"].items.values() if c["created"] < store.now() - 86400 * 90)
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    official = stripe.StripeClient(sb.stripe.token, base_addresses={"api": sb.stripe.url})
    assert official.customers.delete(gone["id"]).deleted is True
    assert official.customers.retrieve(gone["id"]).to_dict().get("deleted") is True   # still answers, with a stub
    changed, _ = read(sb, "customers", since)
    assert [(r["id"], r["deleted"], r["email"]) for r in changed.to_pylist()] == [(gone["id"], True, gone["email"])]
    everything, _ = read(sb, "customers")
    assert gone["id"] not in everything.column("id").to_pylist()


def test_requests_are_paced_under_stripes_test_mode_limit_so_none_is_refused():
    # The emulator refuses a test-mode key's 26th request within a second with 429, as Stripe does; the connection's
    # client paces itself at 25/s for a test key (100/s for a live one), so a burst of reads meets no 429.
    from hub.sources.http import RetryPolicy

    with Sandbox(seed=5, people=40) as box:
        config = ConnectionConfig(name="paced", type="stripe", base_url=box.stripe.url,
                                  secrets={"token": Secret(box.stripe.token)})
        client = Stripe.api_client(config, retry=RetryPolicy(max_attempts=1))   # a 429 would raise at once
        try:
            assert client.limiter.max_requests / client.limiter.interval <= 25
            for _ in range(60):   # over two seconds' worth of the limit, as fast as the client may go
                client.get("/v1/customers", params={"limit": 1})
        finally:
            client.close()
    live = ConnectionConfig(name="live", type="stripe", base_url="https://api.stripe.invalid",
                            secrets={"token": Secret("sk_live_" + "x" * 24)})
    paced = Stripe.api_client(live).limiter
    assert 25 < paced.max_requests / paced.interval <= 100
