"""Triggers: config checked against hub.toml with lines and did-you-mean; and end to end, a payment in the sandbox's
Stripe -> a signed webhook -> `hub serve` (a real subprocess) -> the payer's HubSpot contact updated and a
notification posted."""

from __future__ import annotations

import http.server
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hub.errors import ConfigError
from hub.project import Project
from hub.serve import triggers
from tests.serve.helpers import SECRET, ServeProcess

SYNC = """
[syncs.revenue_to_hubspot]
model = "marts.person_revenue"
to = "hubspot"
object = "contacts"
mode = "update"
key = "person_id"
match = { email = "email" }
fields = { lifetime_value = "total_revenue" }
"""
# lifetime value per person: the paid Stripe invoices of every Stripe customer the person is
REVENUE_MODEL = """-- materialized: table
-- description: Lifetime value per person: paid Stripe invoices, in currency units.
SELECT p.person_id, p.email, coalesce(sum(i.amount_paid), 0) / 100.0 AS lifetime_value
FROM canonical.person AS p
JOIN canonical.person_source AS s ON s.person_id = p.person_id AND s.connection = 'stripe'
LEFT JOIN raw_stripe.invoices AS i ON i.customer = s.source_id AND i.status = 'paid'
GROUP BY p.person_id, p.email
"""


def project_with(make_project: Callable[..., Path], triggers_toml: str, *, base: str = "http://127.0.0.1:9",
                 name: str = "proj") -> Path:
    return make_project(f"""
        [connections.stripe]
        type = "stripe"
        base_url = "{base}"

        [connections.hubspot]
        type = "hubspot"
        base_url = "{base}"
        """ + SYNC + triggers_toml, name=name)


@pytest.mark.parametrize(("body", "message", "line"), [
    ('on = "strype:invoice.paid"\ndo = ["notify:https://x.example"]', "did you mean 'stripe'", 3),
    ('on = "stripe:invoice.paid"\ndo = ["push:revenue_to_hubspt"]', "did you mean 'revenue_to_hubspot'", 4),
    ('on = "stripe:invoice.paid"\ndo = ["notfy:https://x.example"]', "did you mean 'notify'", 4),
    ('on = "stripe:invoice.paid"\ndo = ["notify:x.example"]', "needs an http(s) URL", 4),
    ('on = "stripe:invoice.paid"\nwhen = "amount >"\ndo = ["notify:https://x.example"]', "ends too early", 4),
    ('on = "stripe:invoice.paid"\ndo = ["notify:https://x.example"]\nretry = 2', "did you mean 'retries'", 5),
    ('do = ["notify:https://x.example"]', "on = \"CONNECTION:EVENT_TYPE\"", 2),
])
def test_config_errors_point_at_the_line(make_project, body, message, line):
    root = project_with(make_project, "")
    text = (root / "hub.toml").read_text().rstrip("\n") + "\n"
    start = text.count("\n") + 1
    (root / "hub.toml").write_text(text + "\n[triggers.paid]\n" + body + "\n")
    with pytest.raises(ConfigError) as info:
        triggers.load(Project(root))
    assert message in str(info.value)
    assert f"hub.toml:{start + line - 1}" in str(info.value)


def test_a_valid_trigger_and_what_it_matches(make_project):
    root = project_with(make_project, """
        [triggers.paid_invoice]
        on = "stripe:invoice.*"
        when = "data.object.amount_paid > 0"
        do = ["push:revenue_to_hubspot", "notify:https://hooks.example/abc"]
        """)
    trigger = triggers.load(Project(root))["paid_invoice"]
    assert [str(a) for a in trigger.actions] == ["push:revenue_to_hubspot", "notify:https://hooks.example/abc"]
    paid = {"data": {"object": {"amount_paid": 100}}}
    assert trigger.wants("stripe", "invoice.paid", paid)
    assert not trigger.wants("stripe", "invoice.paid", {"data": {"object": {"amount_paid": 0}}})
    assert not trigger.wants("stripe", "charge.succeeded", paid) and not trigger.wants("hubspot", "invoice.paid", paid)


class Receiver:
    """A local HTTP endpoint standing in for a Slack webhook: every POSTed JSON body goes to ``received``."""

    def __init__(self) -> None:
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.received.put(orjson.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def sb() -> Iterator[Any]:
    from hub.sandbox import Sandbox

    with Sandbox(seed=5, people=120, hubspot_rate_limit=None, stripe_rate_limit=None) as box:
        yield box


def test_a_stripe_payment_updates_the_payers_hubspot_contact_and_notifies(make_project, sb, receiver):
    root = make_project(f"""
        [connections.stripe]
        type = "stripe"
        base_url = "{sb.stripe.url}"

        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"
        {SYNC}
        [triggers.paid_invoice]
        on = "stripe:invoice.paid"
        when = "data.object.amount_paid > 0"
        do = ["push:revenue_to_hubspot", "notify:{receiver.url}"]
        """, f"""
        [connections.stripe]
        token = "{sb.stripe.token}"
        webhook_secret = "{SECRET}"

        [connections.hubspot]
        token = "{sb.hubspot.token}"
        """)
    (root / "models" / "marts").mkdir(parents=True)
    (root / "models" / "marts" / "person_revenue.sql").write_text(REVENUE_MODEL)
    project = Project(root)
    assert project.ingest().ok and project.build().ok
    # a paying Stripe customer who is also a HubSpot contact
    customer, email, contact_id, person_id = project.query("""
        SELECT s.source_id, lower(p.email), h.source_id, p.person_id FROM canonical.person_source s
        JOIN canonical.person_source h ON h.person_id = s.person_id AND h.connection = 'hubspot'
        JOIN canonical.person p ON p.person_id = s.person_id
        WHERE s.connection = 'stripe' AND p.email_is_valid ORDER BY s.source_id LIMIT 1""").rows[0]
    with project.warehouse(read_only=True) as wh:
        before = wh.query("SELECT lifetime_value FROM marts.person_revenue WHERE person_id = ?", [person_id]).scalar()

    server = ServeProcess(root)
    try:
        sb.stripe.webhooks.add(f"{server.url}/webhooks/stripe", SECRET)
        with httpx.Client(base_url=sb.stripe.url, headers={"Authorization": f"Bearer {sb.stripe.token}"}) as api:
            api.post("/v1/invoiceitems", data={"customer": customer, "amount": "12345", "currency": "usd"}
                     ).raise_for_status()
            invoice = api.post("/v1/invoices", data={"customer": customer,
                                                     "pending_invoice_items_behavior": "include"}).json()
            assert api.post(f"/v1/invoices/{invoice['id']}/pay").json()["status"] == "paid"
        notice = receiver.received.get(timeout=120)   # the notify action runs after the push action
        assert sb.stripe.webhooks.wait_idle(timeout=30)
        assert all(d.ok for d in sb.stripe.webhooks.deliveries)
    finally:
        out, err = server.interrupt()
    assert notice["trigger"] == "paid_invoice" and notice["event"]["type"] == "invoice.paid" and notice["text"]
    props = _contact_properties(sb, contact_id)
    assert float(props["total_revenue"]) == pytest.approx(float(before) + 123.45)
    # only the payer was pushed: no other contact got a total_revenue
    assert _contacts_with_revenue(sb) == [contact_id]
    runs = project.query("SELECT r.status, s.target, s.status FROM _hub.runs r JOIN _hub.run_steps s USING (run_id) "
                         "WHERE r.command = 'trigger:paid_invoice' ORDER BY s.target").rows
    assert runs == [("success", f"notify:{receiver.url}", "success"), ("success", "push:revenue_to_hubspot", "success")]
    events = project.query("SELECT count(*), count(DISTINCT id) FROM raw_stripe.events WHERE type = 'invoice.paid' "
                           f"AND object_id = '{invoice['id']}'").rows[0]
    assert events == (1, 1)
    assert "trigger paid_invoice" in err and props["email"].lower() == email


def _contact_properties(sb: Any, contact_id: str) -> dict[str, Any]:
    response = httpx.get(f"{sb.hubspot.url}/crm/v3/objects/contacts/{contact_id}",
                         params={"properties": "email,total_revenue"},
                         headers={"Authorization": f"Bearer {sb.hubspot.token}"})
    response.raise_for_status()
    return response.json()["properties"]


def _contacts_with_revenue(sb: Any) -> list[str]:
    found, after = [], None
    with httpx.Client(base_url=sb.hubspot.url, headers={"Authorization": f"Bearer {sb.hubspot.token}"}) as api:
        while True:
            params = {"limit": 100, "properties": "total_revenue", **({"after": after} if after else {})}
            body = api.get("/crm/v3/objects/contacts", params=params).json()
            found += [c["id"] for c in body["results"] if c["properties"].get("total_revenue")]
            after = (body.get("paging") or {}).get("next", {}).get("after")
            if not after:
                return found
