"""The payments-to-everything scenario: a customer pays a Stripe invoice, a Salesforce Opportunity closes, and what
hub did about each.

Played once per project: the invoice carries ``metadata[hub_example]`` and the Opportunity's description a line
naming the example, so a later run finds them done (in the vendors' own data, as any script would) and instead shows
that nothing is provisioned twice: Stripe delivering the same ``invoice.paid`` again is stored as a duplicate, and
the won Opportunity, still won, does not fire again.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import orjson

if TYPE_CHECKING:
    from hub.examples.payments_to_everything.app import ProductApp
    from hub.examples.runner import ExampleRun

MARKER = "payments-to-everything"
SF_API = "/services/data/v59.0"
WAIT_S = 120.0
#: what the customer buys in the scenario (Stripe amounts are in the currency's minor unit: cents)
PLAN, AMOUNT_CENTS, ITEM = "scale", 49_900, "Scale plan, annual"
WON_NOTE = f"Closed Won by the {MARKER} example: hub provisions the customer."


class Serve:
    """``hub serve`` in a subprocess on a free port, with the run's environment; ``stop()`` is a Ctrl-C."""

    def __init__(self, run: ExampleRun) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "-C", str(run.directory), "serve", "--port", "0", "--no-schedule"],
            env=run.environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        # stderr (its log) is drained all along: a full pipe would stall the server
        self.log: deque[str] = deque(maxlen=40)
        self._drain = threading.Thread(target=self._read_log, daemon=True)
        self._drain.start()
        line = self.proc.stdout.readline()   # blocks until the server listens (or exits)
        if not line.startswith("listening on "):
            self.stop()
            raise SystemExit(f"hub serve did not start: {line.strip() or self.errors()}")
        self.url = line.split()[2]
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()   # and what it prints after that

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line.rstrip())

    def alive(self) -> None:
        """Raise (ending the example with its error) when the server has died."""
        if self.proc.poll() is not None:
            raise SystemExit(f"hub serve stopped: {self.errors()}")

    def errors(self) -> str:
        self._drain.join(timeout=5)
        return " | ".join(self.log)[-600:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)   # a graceful stop: the inbox is flushed into the warehouse
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._drain.join(timeout=5)


def client(run: ExampleRun, vendor: str) -> httpx.Client:
    """An API client on a vendor's emulator, with the sandbox token the project's connection uses."""
    emulator = run.sandbox.emulators[vendor]
    return httpx.Client(base_url=emulator.url, timeout=30.0,
                        headers={"Authorization": f"Bearer {emulator.credentials()['token']}"})


@dataclass
class Payer:
    """The Stripe customer who pays, and their HubSpot contact."""

    customer: str
    email: str
    contact: str


@dataclass
class Deal:
    """The Salesforce Opportunity that closes."""

    id: str
    name: str
    amount: float | None


def pick_payer(run: ExampleRun) -> Payer:
    """The Stripe customer the scenario bills: one who is also a HubSpot contact and had paid nothing before the
    example (its own invoice aside), the same one on every run."""
    rows = run.project.query(f"""
        SELECT s.source_id, p.email, h.source_id
        FROM canonical.person_source AS s
        JOIN canonical.person AS p ON p.person_id = s.person_id AND p.email_is_valid
        JOIN canonical.person_source AS h ON h.person_id = s.person_id AND h.connection = 'hubspot'
        WHERE s.connection = 'stripe' AND NOT EXISTS (
            SELECT 1 FROM raw_stripe.invoices AS i WHERE i.customer = s.source_id AND i.status = 'paid'
            AND coalesce(json_extract_string(i.metadata, '$.hub_example'), '') <> '{MARKER}')
        ORDER BY s.source_id, h.source_id LIMIT 1""").rows
    if not rows:
        raise SystemExit("no Stripe customer without a paid invoice is also a HubSpot contact in this sandbox")
    return Payer(*[str(v) for v in rows[0]])


def pick_deal(run: ExampleRun) -> Deal:
    """The Opportunity the scenario closes: the one it closed on an earlier run, else the first open one that has a
    contact and an amount."""
    rows = run.project.query(f"""
        SELECT id, name, amount FROM raw_salesforce.opportunity
        WHERE NOT coalesce(is_deleted, false) AND contact_id IS NOT NULL AND amount > 0
          AND (NOT coalesce(is_closed, false) OR contains(coalesce(description, ''), '{MARKER}'))
        ORDER BY contains(coalesce(description, ''), '{MARKER}') DESC, id LIMIT 1""").rows
    if not rows:
        raise SystemExit("no open Salesforce Opportunity with a contact and an amount in this sandbox")
    oid, name, amount = rows[0]
    return Deal(str(oid), str(name), None if amount is None else float(amount))


# --- Stripe ---------------------------------------------------------------------------------------


def example_invoice(stripe: httpx.Client, customer: str) -> dict[str, Any] | None:
    """The invoice this example made for ``customer``, if any (Stripe lists a customer's invoices, newest first)."""
    params: dict[str, Any] = {"customer": customer, "limit": 100}
    while True:
        page = stripe.get("/v1/invoices", params=params).raise_for_status().json()
        for invoice in page["data"]:
            if (invoice.get("metadata") or {}).get("hub_example") == MARKER:
                return invoice
        if not page["has_more"]:
            return None
        params["starting_after"] = page["data"][-1]["id"]


def bill(stripe: httpx.Client, customer: str) -> dict[str, Any]:
    """Create the plan's invoice for ``customer`` (an invoice item, then an invoice that includes it), as a draft.
    Idempotency keys make a retried request create nothing twice."""
    key = f"{MARKER}-{customer}"
    stripe.post("/v1/invoiceitems", headers={"Idempotency-Key": f"{key}-item"},
                data={"customer": customer, "amount": str(AMOUNT_CENTS), "currency": "usd",
                      "description": ITEM}).raise_for_status()
    return stripe.post("/v1/invoices", headers={"Idempotency-Key": f"{key}-invoice"},
                       data={"customer": customer, "description": ITEM, "pending_invoice_items_behavior": "include",
                             "metadata[hub_example]": MARKER, "metadata[plan]": PLAN}).raise_for_status().json()


def paid_event(stripe: httpx.Client, invoice: str) -> dict[str, Any] | None:
    """The ``invoice.paid`` event of ``invoice`` (Stripe keeps events 30 days)."""
    params: dict[str, Any] = {"type": "invoice.paid", "limit": 100}
    while True:
        page = stripe.get("/v1/events", params=params).raise_for_status().json()
        for event in page["data"]:
            if event["data"]["object"]["id"] == invoice:
                return event
        if not page["has_more"]:
            return None
        params["starting_after"] = page["data"][-1]["id"]


def redeliver(url: str, event: dict[str, Any], secret: str) -> dict[str, Any]:
    """Send ``event`` to hub serve again, signed as Stripe signs a retry (a fresh timestamp, the same event)."""
    from hub.integrations.stripe.emulator.webhooks import sign

    body = orjson.dumps(event, option=orjson.OPT_INDENT_2)
    answer = httpx.post(f"{url}/webhooks/stripe", content=body, timeout=30.0,
                        headers={"Content-Type": "application/json", "Stripe-Signature": sign(body, secret,
                                                                                              int(time.time()))})
    answer.raise_for_status()
    return answer.json()


# --- Salesforce and HubSpot -----------------------------------------------------------------------


def opportunity(salesforce: httpx.Client, oid: str) -> dict[str, Any]:
    """One Opportunity as the REST API returns it (the fields the scenario reads)."""
    return salesforce.get(f"{SF_API}/sobjects/Opportunity/{oid}",
                          params={"fields": "Id,Name,StageName,IsWon,Amount,Description"}).raise_for_status().json()


def close_won(salesforce: httpx.Client, deal: dict[str, Any]) -> None:
    """Move the Opportunity to Closed Won, noting why in its description."""
    note = "\n".join(p for p in (deal.get("Description"), WON_NOTE) if p)
    salesforce.patch(f"{SF_API}/sobjects/Opportunity/{deal['Id']}",
                     json={"StageName": "Closed Won", "Description": note}).raise_for_status()


def contact(hubspot: httpx.Client, contact_id: str) -> dict[str, Any]:
    """A HubSpot contact's email, lifecycle stage and total revenue."""
    return hubspot.get(f"/crm/v3/objects/contacts/{contact_id}",
                       params={"properties": "email,lifecyclestage,total_revenue"}).raise_for_status().json()[
        "properties"]


# --- the play -------------------------------------------------------------------------------------


def play(run: ExampleRun, app: ProductApp, secret: str) -> None:
    """Pay, close, build; wait for both provisions; say what happened."""
    clients = {vendor: client(run, vendor) for vendor in ("stripe", "salesforce", "hubspot")}
    try:
        _play(run, app, secret, **clients)
    finally:
        for each in clients.values():
            each.close()


def _play(run: ExampleRun, app: ProductApp, secret: str, *, stripe: httpx.Client, salesforce: httpx.Client,
          hubspot: httpx.Client) -> None:
    """The scenario with its API clients (see :func:`play`)."""
    echo = run.echo
    payer, deal = pick_payer(run), pick_deal(run)
    before = contact(hubspot, payer.contact)
    seen = Seen(len(app.applied()), len(app.messages), trigger_runs(run))
    echo("")
    echo("the scenario (hub serve receives Stripe's webhooks; a build evaluates the data triggers):")
    server = Serve(run)
    try:
        echo(f"  hub serve listening on {server.url}; Stripe sends invoice.paid to {server.url}/webhooks/stripe")
        endpoint = run.sandbox.emulators["stripe"].webhooks.add(f"{server.url}/webhooks/stripe", secret,
                                                                 enabled_events=["invoice.paid"])
        invoice = example_invoice(stripe, payer.customer)
        replayed = invoice is not None and invoice["status"] == "paid"
        if not replayed:
            invoice = invoice or bill(stripe, payer.customer)
            invoice = stripe.post(f"/v1/invoices/{invoice['id']}/pay").raise_for_status().json()
            echo(f"  Stripe: {payer.email} ({payer.customer}) paid invoice {invoice['id']} "
                 f"({invoice['amount_paid'] / 100:,.2f} {invoice['currency'].upper()}, {ITEM})")
            ready = app.wait_until(lambda a: any(p.body.get("reference") == invoice["id"] for p in a.applied())
                                   and any(invoice["number"] in m for m in a.messages), WAIT_S, alive=server.alive)
            if not ready:
                raise SystemExit(f"the payment was not provisioned within {WAIT_S:g} s")
        else:
            event = paid_event(stripe, invoice["id"])
            echo(f"  Stripe: invoice {invoice['id']} of {payer.email} was paid on an earlier run; Stripe delivers "
                 f"its invoice.paid {event['id'] if event else ''} again")
            if event is not None:
                answer = redeliver(server.url, event, secret)
                echo(f"  hub serve: {orjson.dumps(answer).decode()} (its inbox already had the event: no trigger)")
        run.sandbox.emulators["stripe"].webhooks.remove(endpoint)

        sf_deal = opportunity(salesforce, deal.id)
        if sf_deal["IsWon"]:
            echo(f"  Salesforce: Opportunity {deal.id} \"{deal.name}\" was closed won on an earlier run")
        else:
            close_won(salesforce, sf_deal)
            echo(f"  Salesforce: Opportunity {deal.id} \"{deal.name}\" ({sf_deal['StageName']}) -> Closed Won")
        echo("")
        echo("hub run (the build step evaluates trigger deal_won):")
        run.run()
        ready = app.wait_until(lambda a: any(p.body.get("reference") == deal.id for p in a.applied()), WAIT_S,
                               alive=server.alive)
        if not ready:
            raise SystemExit(f"the won Opportunity was not provisioned within {WAIT_S:g} s")
    finally:
        server.stop()
    after = contact(hubspot, payer.contact)
    report(run, app, seen, payer, before, after)


@dataclass
class Seen:
    """What there was before the scenario: provisions, messages, trigger runs."""

    applied: int
    messages: int
    runs: set[str]


def trigger_runs(run: ExampleRun) -> set[str]:
    """The ids of every trigger run so far (``_hub.runs``)."""
    return {r[0] for r in run.project.query("SELECT run_id FROM _hub.runs WHERE command LIKE 'trigger:%'").rows}


def report(run: ExampleRun, app: ProductApp, seen: Seen, payer: Payer, before: dict[str, Any],
           after: dict[str, Any]) -> None:
    """The lines that say what happened: the trigger runs, what the product applied, the contact, #billing."""
    echo = run.echo
    applied = app.applied()
    new = applied[seen.applied:]
    echo("")
    echo("what happened:")
    rows = run.project.query("""
        SELECT r.run_id, r.command, r.status, s.target, s.status, json_extract_string(s.detail, '$.detail')
        FROM _hub.runs AS r JOIN _hub.run_steps AS s USING (run_id)
        WHERE r.command LIKE 'trigger:%' ORDER BY r.started_at, s.started_at""").rows
    runs: dict[str, list[str]] = {}
    for run_id, command, status, target, step_status, detail in rows:
        if run_id not in seen.runs:
            runs.setdefault(f"{command} ({status}, run {run_id})", []).append(
                f"{target} {step_status}" + (f": {detail}" if detail else ""))
    for title, steps in runs.items():
        echo(f"  {title}")
        for step in steps:
            echo(f"    {step}")
    if not new:
        echo(f"  your product: nothing provisioned this time ({len(applied)} provisioned in all, each webhook-id "
             f"once; {sum(p.duplicate for p in app.provisions)} repeated post(s) acknowledged without effect)")
    for p in new:
        b = p.body
        if b.get("source") == "stripe":
            echo(f"  your product: provisioned {b.get('email')} on the {b.get('plan')} plan (Stripe invoice "
                 f"{b.get('reference')}; webhook-id {p.webhook_id}, signature verified)")
        else:
            amount = b.get("amount")
            amount = f"{amount:,.2f}" if isinstance(amount, (int, float)) else amount
            echo(f"  your product: provisioned the deal \"{b.get('deal')}\" ({amount} {b.get('currency')}; "
                 f"Salesforce {b.get('reference')}; webhook-id {p.webhook_id}, signature verified)")
    fields = ("lifecyclestage", "total_revenue")
    changes = ", ".join(f"{f} {before.get(f)} -> {after.get(f)}" for f in fields if before.get(f) != after.get(f))
    echo(f"  HubSpot contact {payer.contact} ({after.get('email')}): "
         + (changes or "unchanged (" + ", ".join(f"{f} {after.get(f)}" for f in fields) + ")"))
    for text in app.messages[seen.messages:]:
        echo(f"  #billing: {text}")
    if app.refused:
        echo(f"  your product refused {app.refused} post(s) whose signature did not verify")
