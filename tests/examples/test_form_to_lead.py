"""form-to-lead end to end: `hub demo --example form-to-lead` (the real CLI, which starts `hub serve` and posts the
contact form over HTTP), then the org's Leads read back through simple-salesforce over HTTPS: one Lead per new email
however often it was posted, none for a Contact's email, an existing Lead left as it was, nothing new on a rerun; and
each website chat one completed Task (transcript, date) on the Contact or Lead with the chatter's email, the Lead hub
made a moment before included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from simple_salesforce import Salesforce

from hub.examples.form_to_lead import CHATS, NEW
from hub.sandbox import Sandbox
from tests.conftest import run_hub

SEED, PEOPLE = 7, 400   # what `hub demo` uses
FIELDS = "Id, Email, FirstName, LastName, Company, Phone, LeadSource, Status"


@contextmanager
def org(project: Path | None) -> Iterator[Salesforce]:
    """The example's org (its saved state; the seed's org when ``project`` is None) through simple-salesforce."""
    state = project / ".hub" / "sandbox-state.json" if project else None
    with Sandbox(seed=SEED, people=PEOPLE, tls=True, state_file=state, only={"salesforce"}) as sb:
        session = requests.Session()
        session.verify = str(sb.ca_path)
        session.trust_env = False
        yield Salesforce(instance_url=sb.salesforce.url, session_id=sb.salesforce.token, session=session,
                         version="59.0")


TASK_FIELDS = "Id, WhoId, Subject, Status, IsClosed, ActivityDate, Description, Priority, Hub_Chat_Id__c"


def chat_tasks(sf: Salesforce, who: str) -> list[dict]:
    """The logged chats (Tasks with a chat id) on the Contact or Lead ``who``."""
    return sf.query_all(f"SELECT {TASK_FIELDS} FROM Task WHERE WhoId = '{who}' AND Hub_Chat_Id__c != null "
                        "ORDER BY CreatedDate")["records"]


def leads(sf: Salesforce, email: str) -> list[dict]:
    return sf.query_all(f"SELECT {FIELDS} FROM Lead WHERE Email = '{email}'")["records"]


def demo(project: Path) -> tuple[str, str, str]:
    """Run the example; the seeded Contact's and Lead's emails it posted."""
    done = run_hub("demo", "--example", "form-to-lead", str(project))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    contact = re.search(r"^\s+(\S+)\s+is a Contact", done.stdout, re.M)
    lead = re.search(r"^\s+(\S+)\s+was already a Lead", done.stdout, re.M)
    assert contact and lead, done.stdout
    return done.stdout, contact.group(1), lead.group(1)


def test_form_posts_become_leads_once_and_known_emails_none(tmp_path):
    project = tmp_path / "form-to-lead"
    with org(None) as sf:
        seeded_total = sf.query("SELECT COUNT() FROM Lead")["totalSize"]
        seeded = {r["Email"].lower(): r for r in sf.query_all(f"SELECT {FIELDS} FROM Lead")["records"] if r["Email"]}

    out, contact_email, lead_email = demo(project)
    assert out.count("-> 200 ") == 6 + len(CHATS)   # six form posts (two with the same email) and the chats
    with org(project) as sf:
        for post in NEW:
            [lead] = leads(sf, post["email"])   # exactly one, though dorothy posted twice
            assert lead["Id"].startswith("00Q")
            assert (lead["FirstName"], lead["LastName"]) == (post["first_name"], post["last_name"])
            assert lead["Company"] == post.get("company", "[not provided]")
            assert lead["Phone"] == post.get("phone")
            assert lead["LeadSource"] == "Web" and lead["Status"] == "Open - Not Contacted"
        assert leads(sf, contact_email) == []
        assert len(sf.query_all(f"SELECT Id FROM Contact WHERE Email = '{contact_email}'")["records"]) == 1
        [kept] = leads(sf, lead_email)   # the seeded Lead: not updated with the post's "Known" / "Already a lead"
        assert {k: v for k, v in kept.items() if k != "attributes"} == \
            {k: v for k, v in seeded[lead_email.lower()].items() if k != "attributes"}
        assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == seeded_total + len(NEW)
        first_ids = {p["email"]: leads(sf, p["email"])[0]["Id"] for p in NEW}
        # the chats: the seeded Contact's, the new Lead's (made by hub moments before), the seeded Lead's
        [contact] = sf.query_all(f"SELECT Id FROM Contact WHERE Email = '{contact_email}'")["records"]
        whos = [contact["Id"], first_ids[NEW[0]["email"]], kept["Id"]]
        chatters = [contact_email, NEW[0]["email"], lead_email]
        for who, email, sent in zip(whos, chatters, CHATS, strict=True):
            [task] = chat_tasks(sf, who)
            assert (task["Status"], task["IsClosed"], task["Priority"]) == ("Completed", True, "Normal")
            assert task["Description"] == sent["transcript"]
            assert task["ActivityDate"] == sent["started_at"][:10]
            assert task["Subject"] == "Website chat with " + sent.get("name", email)
        assert sf.query("SELECT COUNT() FROM Task WHERE Hub_Chat_Id__c != null")["totalSize"] == len(CHATS)

    out, again_contact, again_lead = demo(project)   # the same posts again: every email is known now
    assert (again_contact, again_lead) == (contact_email, lead_email)
    assert "made by an earlier run" in out and "created now" not in out
    with org(project) as sf:
        assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == seeded_total + len(NEW)
        assert {p["email"]: [r["Id"] for r in leads(sf, p["email"])] for p in NEW} == \
            {e: [i] for e, i in first_ids.items()}
        assert leads(sf, contact_email) == []
        # each chat posted again is a conversation of its own: one more Task each, none twice for one chat
        for who, sent in zip(whos, CHATS, strict=True):
            tasks = chat_tasks(sf, who)
            assert len(tasks) == 2 and len({t["Hub_Chat_Id__c"] for t in tasks}) == 2
            assert {t["Description"] for t in tasks} == {sent["transcript"]}
        assert sf.query("SELECT COUNT() FROM Task WHERE Hub_Chat_Id__c != null")["totalSize"] == 2 * len(CHATS)
    landed = run_hub("-C", str(project), "query", "SELECT count(*) AS n, count(DISTINCT id) AS d FROM raw_website.contact",
                     "--format", "csv")
    assert landed.returncode == 0, landed.stderr
    assert landed.stdout.split() == ["n,d", "12,12"]   # every post landed once, twice over
