"""A form trigger's `push:SYNC` over a chunk of submissions: the first firing builds the model and pushes it (every
submission of the chunk is in it, all flushed before the chunk runs); the chunk's later firings of that sync have
nothing left to send and say which run sent their row. The next chunk pushes again. Before the org's Contacts and
Leads are in the warehouse the dedup model cannot be built: the push has nothing to send yet (skipped, no error, no
Lead made). Checked against the Salesforce emulator's records (the form-to-lead example's project: dedup model
marts.new_leads, sync to Lead)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from hub.examples import get
from hub.examples.runner import sandbox_environment
from hub.project import Project
from hub.sandbox import Sandbox
from hub.serve.inbox import StoredEvent
from hub.serve.triggers import Runner, load


def submit(project: Project, rows: list[tuple[str, str]], first_seq: int) -> list[tuple]:
    """Land submissions in raw_website.contact (as the flusher does) and the inbox events that fire for them."""
    with project.warehouse() as wh:
        wh.execute("CREATE SCHEMA IF NOT EXISTS raw_website")
        wh.execute("CREATE TABLE IF NOT EXISTS raw_website.contact (id VARCHAR, submitted_at TIMESTAMPTZ, "
                   "email VARCHAR, first_name VARCHAR, last_name VARCHAR, company VARCHAR, phone VARCHAR)")
        for n, (email, last) in enumerate(rows):
            wh.execute("INSERT INTO raw_website.contact VALUES (?, ?, ?, NULL, ?, NULL, NULL)",
                       [f"sub-{first_seq + n}", datetime.now(UTC), email, last])
    trigger = load(project)["form_to_lead"]
    return [(trigger, StoredEvent(first_seq + n, "form:contact", f"sub-{first_seq + n}", "contact", 0.0, b"{}"),
             {"fields": {"email": email, "last_name": last}}) for n, (email, last) in enumerate(rows)]


def test_one_push_per_chunk_and_again_for_the_next_chunk(tmp_path):
    with Sandbox(seed=5, people=60, only={"salesforce"}) as sb:
        root = tmp_path / "p"
        get("form-to-lead").write(root)
        project = Project(root, environ=sandbox_environment(root, sb, {}))
        store = sb.salesforce.store

        def leads(email: str) -> list[dict]:
            with store.lock:
                return [r for r in store.records("Lead") if r.get("Email") == email and not r["IsDeleted"]]

        with httpx.Client() as http:
            runner = Runner(project, http)
            early = runner.run_many(submit(project, [("a@chunk.example", "A")], 1))
            assert early[0].ok and [o.status for o in early[0].outcomes] == ["skipped"]
            assert early[0].outcomes[0].detail.startswith("nothing to send yet: marts.new_leads was not built (")
            assert "raw_salesforce.lead has not been ingested yet" in early[0].outcomes[0].detail
            assert leads("a@chunk.example") == []
            with project.warehouse() as wh:   # the chunk below lands its posts anew
                wh.execute("DELETE FROM raw_website.contact")
            assert project.ingest(["salesforce.Contact", "salesforce.Lead"]).ok   # what the first `hub run` reads

            first = runner.run_many(submit(project, [("a@chunk.example", "A"), ("b@chunk.example", "B"),
                                                     ("a@chunk.example", "A again")], 1))
            assert all(e.ok for e in first)
            details = [e.outcomes[0].detail for e in first]
            run_id = details[0].split("(run ")[1].rstrip(")")
            assert details == [f"pushed 2 change(s) (run {run_id})",
                               f"pushed with an earlier event of its batch (run {run_id})",
                               f"pushed with an earlier event of its batch (run {run_id})"]
            assert [len(leads(e)) for e in ("a@chunk.example", "b@chunk.example")] == [1, 1]

            second = runner.run_many(submit(project, [("c@chunk.example", "C")], 4))
            assert second[0].ok and second[0].outcomes[0].detail.startswith("pushed 1 change(s) (run ")
            assert len(leads("c@chunk.example")) == 1 and len(leads("a@chunk.example")) == 1
        pushes = project.query("SELECT count(*) FROM _hub.runs WHERE command = 'push'").scalar()
        assert pushes == 3   # the one with nothing to send yet, and one per chunk
