"""form-to-lead: a website's contact form becomes a Salesforce Lead within seconds, deduplicated by email.

The scenario (``after`` the first run has read the org's contacts and leads): start ``hub serve`` on a free port, post
the contact form over HTTP (a new visitor, the email of a seeded Contact, of a seeded Lead, one visitor twice, one
more new visitor last), wait until the new visitors' Leads are in Salesforce (polling its REST API), stop the server,
then post three website chats (the chat widget's POST /forms/chat when a conversation ends: from the seeded Contact,
from a visitor hub just made a Lead of, from the seeded Lead) and wait until each is a completed Task on that Contact
or Lead, run once more (the run reads the new Leads back and finds nothing left to send) and say what each post did.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

import httpx

from hub.examples import Example
from hub.examples.runner import ExampleRun

API = "/services/data/v59.0"
WAIT_S = 120.0
#: the visitors the scenario posts as new people; the seeded Contact's and Lead's emails are looked up at run time
NEW = [
    {"email": "grace.hopper@cobol.example", "first_name": "Grace", "last_name": "Hopper", "company": "Navy Labs"},
    {"email": "dorothy.vaughan@langley.example", "first_name": "Dorothy", "last_name": "Vaughan"},
    {"email": "katherine.johnson@langley.example", "first_name": "Katherine", "last_name": "Johnson",
     "company": "Langley", "phone": "+1 757 555 0100"},
]
#: the chats' transcripts and start times (the chatter's email is filled in at run time)
CHATS = [
    {"name": "Known Contact", "started_at": "2026-11-30T09:15:00Z",
     "transcript": "Visitor: Can I add seats to our plan?\nAgent: Yes, from the billing page or I can do it now."},
    {"name": "Grace Hopper", "started_at": "2026-11-30T14:02:00Z",
     "transcript": "Visitor: I just sent the contact form.\nAgent: Got it, a colleague will call you tomorrow."},
    {"started_at": "2026-12-01T08:45:00Z",
     "transcript": "Visitor: Do you have an on-premise edition?\nAgent: Not yet; I have noted your interest."},
]
TASK_FIELDS = "Id, WhoId, Subject, Status, IsClosed, ActivityDate, Description, Hub_Chat_Id__c"


class Org:
    """The Salesforce emulator through its REST API, as any client reads it."""

    def __init__(self, run: ExampleRun) -> None:
        emulator = run.sandbox.emulators["salesforce"]
        self.client = httpx.Client(base_url=emulator.url, timeout=30.0,
                                   headers={"Authorization": f"Bearer {emulator.credentials()['token']}"})

    def query(self, soql: str) -> list[dict[str, Any]]:
        body = self.client.get(f"{API}/query", params={"q": soql}).raise_for_status().json()
        rows = list(body.get("records") or [])
        while body.get("nextRecordsUrl"):
            body = self.client.get(body["nextRecordsUrl"]).raise_for_status().json()
            rows += body.get("records") or []
        return rows

    def by_email(self, sobject: str, emails: list[str]) -> dict[str, list[str]]:
        """Ids of the live records of ``sobject`` per email (lower case)."""
        found: dict[str, list[str]] = {e.lower(): [] for e in emails}
        listed = ", ".join("'" + e.replace("'", "\\'") + "'" for e in emails)
        for row in self.query(f"SELECT Id, Email FROM {sobject} WHERE Email IN ({listed})"):
            found.setdefault(str(row["Email"]).lower(), []).append(row["Id"])
        return found

    def first_email(self, sobject: str, others: list[str]) -> str:
        """A seeded record's email that no record of the ``others`` objects has."""
        rows = self.query(f"SELECT Email FROM {sobject} WHERE Email != null ORDER BY CreatedDate LIMIT 50")
        emails = [str(r["Email"]).lower() for r in rows]
        taken = {e for other in others for e, ids in self.by_email(other, emails).items() if ids}
        return next(e for e in emails if e not in taken)


class Server:
    """``hub serve`` in a subprocess on a free port, with the run's environment."""

    def __init__(self, run: ExampleRun) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "-C", str(run.directory), "serve", "--port", "0", "--no-schedule"],
            env=run.environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()   # blocks until the server listens (or exits)
        if not line.startswith("listening on "):
            self.stop()
            raise SystemExit(f"hub serve did not start: {line.strip() or self.errors()}")
        self.url = line.split()[2]
        self.client = httpx.Client(base_url=self.url, timeout=30.0)

    def health(self) -> dict[str, Any]:
        return self.client.get("/healthz").json()

    def pause(self, seconds: float) -> None:
        """Between two polls: returns early (with the error) if the server died."""
        try:
            self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return
        raise SystemExit(f"hub serve stopped: {self.errors()}")

    def errors(self) -> str:
        return (self.proc.stderr.read() if self.proc.stderr and self.proc.poll() is not None else "").strip()[-400:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)   # a graceful stop: the inbox is flushed into the warehouse
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def play(run: ExampleRun) -> None:
    echo, org = run.echo, Org(run)
    contact_email = org.first_email("Contact", ["Lead"])
    lead_email = org.first_email("Lead", ["Contact"])
    twice = NEW[1]
    # the last post is a new visitor: once its Lead exists, every earlier post has been through the trigger
    posts = [{"email": contact_email, "last_name": "Known", "company": "Already a contact"},
             {"email": lead_email, "last_name": "Known", "company": "Already a lead"},
             NEW[0], twice, dict(twice), NEW[2]]
    wanted = [p["email"] for p in NEW]
    leads_before = org.by_email("Lead", wanted + [lead_email, contact_email])
    echo("")
    echo("form posts (hub serve, POST /forms/contact):")
    server = Server(run)
    try:
        started = time.perf_counter()
        answers = [server.client.post("/forms/contact", json=p) for p in posts]
        for post, answer in zip(posts, answers, strict=True):
            echo(f"  {post['email']:<36} -> {answer.status_code} {answer.text.strip()[:60]}")
        refused = [a for a in answers if a.status_code != 200]
        if refused:
            raise SystemExit(f"hub serve refused {len(refused)} post(s): {refused[0].text.strip()}")
        deadline = time.monotonic() + WAIT_S
        while True:
            leads = org.by_email("Lead", wanted)
            health = server.health()
            settled = health.get("backlog") == 0 and health.get("flushed") == health.get("received")
            if all(leads[e] for e in wanted) and settled:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"no Lead for {', '.join(e for e in wanted if not leads[e])} within {WAIT_S:g} s "
                                 f"(hub serve health: {health})")
            server.pause(0.1)
        elapsed = time.perf_counter() - started
        echo(f"  {elapsed:.1f} s from the first post until every new visitor was a Salesforce Lead")
        tasks = chat(run, server, org, [contact_email, NEW[0]["email"], lead_email])
    finally:
        server.stop()
    run.run()   # reads the new Leads back: the sync finds nothing left to send
    leads = org.by_email("Lead", wanted + [lead_email, contact_email])
    contacts = org.by_email("Contact", [contact_email])
    echo("")
    echo("what happened:")
    for email in wanted:
        count = sum(p["email"] == email for p in posts)
        made = "created now" if not leads_before[email] else "made by an earlier run"
        echo(f"  {email:<36} posted {count}x: {len(leads[email])} Lead, {made}: {', '.join(leads[email])}")
    echo(f"  {contact_email:<36} is a Contact ({', '.join(contacts[contact_email])}): no Lead made "
         f"({len(leads[contact_email])} Leads)")
    echo(f"  {lead_email:<36} was already a Lead ({', '.join(leads_before[lead_email])}): left as it was, no new one "
         f"({len(leads[lead_email])} Lead)")
    whose = {i: "Contact" for ids in contacts.values() for i in ids}
    whose.update({i: "Lead" for ids in leads.values() for i in ids})
    for email, task in tasks:
        echo(f"  chat of {email:<28} logged: Task {task['Id']} ({task['Status']}, {task['ActivityDate']}) on "
             f"{whose.get(task['WhoId'], 'record')} {task['WhoId']}")


def chat(run: ExampleRun, server: Server, org: Org, emails: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Post one chat per email to /forms/chat and wait until each is a Task in Salesforce: (email, Task) in order."""
    echo = run.echo
    echo("")
    echo("chat posts (hub serve, POST /forms/chat):")
    posts = [{"email": email, **body} for email, body in zip(emails, CHATS, strict=True)]
    answers = [server.client.post("/forms/chat", json=p) for p in posts]
    for post, answer in zip(posts, answers, strict=True):
        echo(f"  {post['email']:<36} -> {answer.status_code} {answer.text.strip()[:60]}")
    refused = [a for a in answers if a.status_code != 200]
    if refused:
        raise SystemExit(f"hub serve refused {len(refused)} chat(s): {refused[0].text.strip()}")
    ids = [a.json()["id"] for a in answers]
    listed = ", ".join(f"'{i}'" for i in ids)
    deadline = time.monotonic() + WAIT_S
    while True:
        found = {t["Hub_Chat_Id__c"]: t for t in org.query(f"SELECT {TASK_FIELDS} FROM Task "
                                                           f"WHERE Hub_Chat_Id__c IN ({listed})")}
        if len(found) == len(ids):
            return [(post["email"], found[i]) for post, i in zip(posts, ids, strict=True)]
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(ids) - len(found)} chat(s) not logged as Tasks within {WAIT_S:g} s "
                             f"(hub serve health: {server.health()})")
        server.pause(0.1)


EXAMPLE = Example(
    name="form-to-lead", title="Web form -> CRM lead",
    shows="a contact form post becomes a Salesforce Lead within seconds, unless the email is already a Contact or "
          "Lead; a website chat is logged as a completed Task on the chatter's Contact or Lead",
    emulators=("salesforce",), package=__name__, after=play)
