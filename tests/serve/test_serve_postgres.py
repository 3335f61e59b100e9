"""`hub serve` on a PostgreSQL warehouse: a signed Stripe webhook lands in ``raw_stripe.events`` of the database, its
trigger fires (a notification posted, the run recorded in ``_hub``), a row the database refuses is set aside in
``_hub.webhook_dead_letters`` while the rest of its batch loads, and the idle server holds no writer lock, so another
process writes at once and readers never wait.
"""

from __future__ import annotations

import httpx
import orjson
import pytest

from hub.project import Project
from hub.serve import flusher
from hub.serve.inbox import Inbox, InboxEvent
from tests.conftest import run_hub
from tests.pg import PgServer
from tests.serve.helpers import SECRET, ServeProcess, post_stripe, stripe_event
from tests.serve.test_triggers import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def pg_serve_project(make_project, server: PgServer, database: str, extra: str = "") -> Project:
    root = make_project(f"""
        [warehouse]
        type = "postgres"
        dsn = "{server.dsn(database)}"

        [connections.stripe]
        type = "stripe"
        {extra}
        """, f'[warehouse]\npassword = "{server.password}"\n\n[connections.stripe]\nwebhook_secret = "{SECRET}"\n')
    return Project(root)


def test_a_signed_webhook_lands_in_postgres_fires_its_trigger_and_serve_idles_without_the_lock(
        make_project, pg_server, pg_database, receiver):
    project = pg_serve_project(make_project, pg_server, pg_database, f"""
        [triggers.paid_invoice]
        on = "stripe:invoice.paid"
        when = "data.object.amount_paid > 0"
        do = ["notify:{receiver.url}"]
        """)
    server = ServeProcess(project.root)
    try:
        assert post_stripe(server.url, stripe_event("evt_pg_1", amount_paid=4900)).status_code == 200
        assert post_stripe(server.url, stripe_event("evt_pg_0", amount_paid=0)).status_code == 200   # no trigger
        notice = receiver.received.get(timeout=120)
        server.wait_flushed(2)
        # readers never wait on PostgreSQL: another process reads while serve runs
        read = run_hub("query", "SELECT id FROM raw_stripe.events ORDER BY id", cwd=project.root)
        assert read.returncode == 0, read.stderr
        assert "evt_pg_0" in read.stdout and "evt_pg_1" in read.stdout
        # the trigger's run is recorded before serve goes idle: wait for it through the database itself
        runs = _wait_for_run(project)
        # the docs pages at / read the same database (beside the owner thread, never waiting for it)
        page = httpx.get(f"{server.url}/", follow_redirects=True)
        assert page.status_code == 200 and "paid_invoice" in page.text
        # idle, the server holds no lock in the database (no writer lock, no resource lock), so other writers on
        # any machine go ahead at once
        assert _advisory_locks(pg_server, pg_database) == []
    finally:
        out, err = server.interrupt()
    assert notice["trigger"] == "paid_invoice" and notice["event"] == {"id": "evt_pg_1", "type": "invoice.paid"}
    assert runs == [("trigger:paid_invoice", "success")]
    assert project.query("SELECT s.target, s.status FROM _hub.run_steps s JOIN _hub.runs r USING (run_id) "
                         "WHERE r.command = 'trigger:paid_invoice'").rows == [(f"notify:{receiver.url}", "success")]
    assert project.query("SELECT id, type FROM raw_stripe.events ORDER BY id").rows == [
        ("evt_pg_0", "invoice.paid"), ("evt_pg_1", "invoice.paid")]
    assert "stopped (2 event(s) flushed this session)" in err
    assert pg_server.password not in out + err
    # no DuckDB file appeared beside the project: the warehouse is the database
    assert not list(project.root.rglob("*.duckdb"))


def _advisory_locks(server: PgServer, database: str) -> list[str]:
    """Advisory locks granted in ``database`` now, with the application name of the session holding each."""
    text = server.admin("SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        f"WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database "
                        f"WHERE datname = '{database}')")
    return text.split()


def _wait_for_run(project: Project) -> list[tuple[str, str]]:
    """The finished trigger runs, once there is one: polled in the database (the server is another process)."""
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if project.warehouse(read_only=True).exists:
            with project.warehouse(read_only=True) as wh:
                if wh.table_exists("_hub", "runs"):
                    rows = wh.query("SELECT command, status FROM _hub.runs WHERE command LIKE 'trigger:%' "
                                    "AND finished_at IS NOT NULL").rows
                    if rows:
                        return rows
        time.sleep(0.05)
    raise AssertionError("the trigger's run was not recorded")


def test_a_row_postgres_refuses_is_set_aside_and_the_rest_of_its_batch_loads(make_project, pg_server, pg_database,
                                                                           tmp_path):
    project = pg_serve_project(make_project, pg_server, pg_database)
    with project.warehouse() as wh:   # a table someone constrained: only times before 2033 allowed
        wh.execute("CREATE SCHEMA raw_stripe")
        wh.execute("CREATE TABLE raw_stripe.events (id VARCHAR, created BIGINT CHECK (created < 2000000000), "
                   "type VARCHAR, data VARCHAR)")
    late = orjson.loads(stripe_event("evt_late"))
    late["created"] = 3_000_000_000
    inbox = Inbox(tmp_path / "inbox.sqlite")
    try:
        inbox.put([InboxEvent("stripe", "evt_a", "invoice.paid", stripe_event("evt_a")),
                   InboxEvent("stripe", "evt_late", "invoice.paid", orjson.dumps(late)),
                   InboxEvent("stripe", "evt_b", "invoice.paid", stripe_event("evt_b"))])
        assert flusher.flush(project, inbox) == 3
        [reason] = inbox.dead().values()
        assert reason.startswith("the warehouse refused the row") and "check constraint" in reason
        assert flusher.flush(project, inbox) == 0
        # the same events again (a redelivery after a crash between commit and mark): stored once
        inbox.set_mark(flusher.MARK, 0)
        assert flusher.flush(project, inbox) == 3
    finally:
        inbox.close()
    assert project.query("SELECT id FROM raw_stripe.events ORDER BY id").rows == [("evt_a",), ("evt_b",)]
    assert project.query("SELECT event_id, reason LIKE 'the warehouse refused the row%' "
                         "FROM _hub.webhook_dead_letters").rows == [("evt_late", True)]


def test_a_data_trigger_fires_once_when_a_row_enters_its_condition_on_postgres(make_project, pg_server,
                                                                              pg_database):
    from standardwebhooks import Webhook

    from hub.actions.data import after_build
    from tests.serve.receiver import receiver
    from tests.serve.test_data_triggers import SIGNING

    with receiver([200]) as hook:
        root = make_project(f"""
            [warehouse]
            type = "postgres"
            dsn = "{pg_server.dsn(pg_database)}"

            [actions.provision]
            type = "http"
            url = "{hook.url}"
            body = {{ deal = "{{{{ deal_id }}}}", amount = "{{{{ amount }}}}" }}

            [triggers.deal_won]
            on = "model:marts.deal"
            key = "deal_id"
            when = "stage = 'closed_won' and amount > 0"
            do = ["http:provision"]
            retries = 1
            backoff = 0.05
            """, f'[warehouse]\npassword = "{pg_server.password}"\n\n[actions.provision]\n'
                 f'signing_secret = "{SIGNING}"\n')
        (root / "models" / "marts").mkdir(parents=True)
        (root / "models" / "marts" / "deal.sql").write_text("SELECT deal_id, stage, amount FROM public.deals\n")
        project = Project(root)
        with project.warehouse() as wh:   # the model as a build leaves it (the build itself is not under test here)
            wh.execute("CREATE SCHEMA marts")
            wh.execute("CREATE TABLE marts.deal (deal_id VARCHAR, stage VARCHAR, amount DECIMAL(12, 2))")
            wh.execute("INSERT INTO marts.deal VALUES ('d1', 'closed_won', 100), ('d2', 'open', 50), "
                       "('d3', 'closed_won', 0)")
        first = after_build(project)   # a baseline: d1 was won before the trigger existed
        assert first.baselined == ["deal_won"] and hook.received == []
        with project.warehouse() as wh:
            wh.execute("UPDATE marts.deal SET stage = 'closed_won' WHERE deal_id = 'd2'")
        second = after_build(project)
        assert second.fired == {"deal_won": 1} and [e.ok for e in second.executions] == [True]
        assert after_build(project).fired == {"deal_won": 0}   # still inside: never twice
        bodies = [Webhook(SIGNING).verify(r.body, r.headers) for r in hook.received]
    assert [(b["deal"], b["amount"]) for b in bodies] == [("d2", 50.0)]   # as on DuckDB
    assert project.query("SELECT key, status FROM _hub.trigger_outbox").rows == [("d2", "done")]


def test_form_posts_land_in_postgres_and_a_field_declared_later_becomes_a_column(make_project, pg_server,
                                                                                 pg_database):
    form = ('[forms.contact]\nconnection = "website"\n'
            'fields = {{ email = {{ type = "email", required = true }}, name = {{ required = true }}{more} }}\n')
    project = pg_serve_project(make_project, pg_server, pg_database, form.format(more=""))
    good = {"email": "ada@example.com", "name": "Ada Lovelace"}
    server = ServeProcess(project.root)
    try:
        assert httpx.post(f"{server.url}/forms/contact", json=good).status_code == 200
        assert httpx.post(f"{server.url}/forms/contact", json={"name": "no email"}).status_code == 422
    finally:
        server.interrupt()
    text = (project.root / "hub.toml").read_text().replace(form.format(more=""),
                                                           form.format(more=', phone = { type = "tel" }'))
    (project.root / "hub.toml").write_text(text)
    server = ServeProcess(project.root)
    try:
        assert httpx.post(f"{server.url}/forms/contact", json={**good, "phone": "+1 415 555 0100"}).status_code == 200
    finally:
        server.interrupt()
    assert Project(project.root).query("SELECT email, name, phone FROM raw_website.contact "
                                       "ORDER BY submitted_at").rows == [
        ("ada@example.com", "Ada Lovelace", None), ("ada@example.com", "Ada Lovelace", "+1 415 555 0100")]


def test_a_stripe_payment_pushes_the_payers_revenue_from_postgres(make_project, pg_server, pg_database, receiver):
    """The whole path on PostgreSQL: ingest and build (identity included) into the database, then a payment in the
    sandbox's Stripe -> a signed webhook -> `hub serve` -> the trigger refreshes the model and pushes only the payer
    to HubSpot, and notifies."""
    from hub.sandbox import Sandbox
    from tests.serve.test_triggers import REVENUE_MODEL, SYNC, _contact_properties, _contacts_with_revenue

    with Sandbox(seed=5, people=60, hubspot_rate_limit=None, stripe_rate_limit=None) as sb:
        root = make_project(f"""
            [warehouse]
            type = "postgres"
            dsn = "{pg_server.dsn(pg_database)}"

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
            [warehouse]
            password = "{pg_server.password}"

            [connections.stripe]
            token = "{sb.stripe.token}"
            webhook_secret = "{SECRET}"

            [connections.hubspot]
            token = "{sb.hubspot.token}"
            """)
        (root / "models" / "marts").mkdir(parents=True)
        (root / "models" / "marts" / "person_revenue.sql").write_text(REVENUE_MODEL)
        project = Project(root)
        assert project.ingest().ok
        built = project.build()
        assert built.ok, built.errors
        customer, contact_id, person_id = project.query("""
            SELECT s.source_id, h.source_id, p.person_id FROM canonical.person_source s
            JOIN canonical.person_source h ON h.person_id = s.person_id AND h.connection = 'hubspot'
            JOIN canonical.person p ON p.person_id = s.person_id
            WHERE s.connection = 'stripe' AND p.email_is_valid ORDER BY s.source_id LIMIT 1""").rows[0]
        before = project.query(f"SELECT lifetime_value FROM marts.person_revenue WHERE person_id = '{person_id}'"
                               ).scalar()
        server = ServeProcess(root)
        try:
            sb.stripe.webhooks.add(f"{server.url}/webhooks/stripe", SECRET)
            with httpx.Client(base_url=sb.stripe.url, headers={"Authorization": f"Bearer {sb.stripe.token}"}) as api:
                api.post("/v1/invoiceitems", data={"customer": customer, "amount": "12345", "currency": "usd"}
                         ).raise_for_status()
                invoice = api.post("/v1/invoices", data={"customer": customer,
                                                         "pending_invoice_items_behavior": "include"}).json()
                assert api.post(f"/v1/invoices/{invoice['id']}/pay").json()["status"] == "paid"
            notice = receiver.received.get(timeout=300)   # the notify action runs after the push action
            assert sb.stripe.webhooks.wait_idle(timeout=60)
        finally:
            out, err = server.interrupt()
        assert notice["trigger"] == "paid_invoice"
        props = _contact_properties(sb, contact_id)
        assert float(props["total_revenue"]) == pytest.approx(float(before) + 123.45)
        assert _contacts_with_revenue(sb) == [contact_id]   # only the payer was pushed
    runs = project.query("SELECT r.status, s.target, s.status FROM _hub.runs r JOIN _hub.run_steps s USING (run_id) "
                         "WHERE r.command = 'trigger:paid_invoice' ORDER BY s.target").rows
    assert runs == [("success", f"notify:{receiver.url}", "success"), ("success", "push:revenue_to_hubspot", "success")]
    assert project.query("SELECT count(*) FROM _hub.sync_state WHERE sync = 'revenue_to_hubspot'").scalar() == 1
    assert pg_server.password not in out + err
