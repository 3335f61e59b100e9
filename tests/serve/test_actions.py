"""`http` and `notify` actions fired by a form submission through a real `hub serve`: signed with Standard Webhooks
(verified here with the official `standardwebhooks` package), retried on 5xx/429 with the same webhook-id, dead
letters on a final refusal or when retries run out."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from hub.errors import ConfigError
from hub.project import Project
from tests.serve.helpers import ServeProcess
from tests.serve.receiver import receiver, refusing

SIGNING = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
LEAD = {"email": "ada@example.com", "company": "Analytical Engines"}


def project(make_project: Callable[..., Path], hook: str, chat: str, *, retries: int = 2) -> Path:
    return make_project(f"""
        [forms.contact]
        fields = {{ email = {{ type = "email", required = true }}, company = {{}} }}

        [actions.provision]
        type = "http"
        url = "{hook}"
        body = {{ email = "{{{{ fields.email }}}}", company = "{{{{ fields.company }}}}", seats = 5, form = "{{{{ form }}}}" }}
        timeout = 5

        [actions.tell]
        type = "notify"
        url = "{chat}"
        text = "New lead {{{{ fields.email }}}} from {{{{ fields.company | unknown company }}}}"

        [triggers.new_lead]
        on = "form:contact"
        when = "fields.email != null"
        do = ["http:provision", "notify:tell"]
        retries = {retries}
        backoff = 0.05
        """, f'[actions.provision]\nsigning_secret = "{SIGNING}"\n')


def test_http_action_is_signed_retried_with_one_webhook_id_and_notify_posts_text(make_project):
    with receiver([503, 429, 200], retry_after="0") as hook, receiver([200]) as chat:
        root = project(make_project, hook.url, chat.url)
        server = ServeProcess(root)
        try:
            assert httpx.post(f"{server.url}/forms/contact", json=LEAD).status_code == 200
            attempts = hook.wait_for(3)
            message = chat.wait_for(1)[0]
        finally:
            server.interrupt()
    ids = {a.headers["webhook-id"] for a in attempts}
    assert len(ids) == 1 and next(iter(ids)).startswith("msg_")   # the idempotency key of this event's action
    for attempt in attempts:
        assert Webhook(SIGNING).verify(attempt.body, attempt.headers) == {
            "email": "ada@example.com", "company": "Analytical Engines", "seats": 5, "form": "contact"}
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"another-secret-of-32-bytes-long!").decode()).verify(
            attempts[0].body, attempts[0].headers)
    assert orjson.loads(message.body) == {"text": "New lead ada@example.com from Analytical Engines"}
    assert "webhook-signature" not in message.headers
    runs = Project(root).query("SELECT status FROM _hub.runs WHERE command = 'trigger:new_lead'").rows
    assert runs == [("success",)]
    steps = dict(Project(root).query("SELECT s.target, s.status FROM _hub.run_steps s JOIN _hub.runs r USING (run_id) "
                                     "WHERE r.command = 'trigger:new_lead'").rows)
    assert steps == {"http:provision": "success", "notify:tell": "success"}


@pytest.mark.parametrize(("statuses", "attempts", "why"), [
    ([422], 1, "HTTP 422"),            # a 4xx other than 429 is final: no retry
    ([500], 3, "HTTP 500"),            # retried, then the retries run out
])
def test_actions_that_cannot_land_become_dead_letters(make_project, statuses, attempts, why):
    with receiver(statuses) as hook, receiver([200]) as chat:
        root = project(make_project, hook.url, chat.url)
        server = ServeProcess(root)
        try:
            assert httpx.post(f"{server.url}/forms/contact", json=LEAD).status_code == 200
            chat.wait_for(1)   # the notify runs after the http action gave up
        finally:
            server.interrupt()
        assert len(hook.received) == attempts
    dead = Project(root).query("SELECT trigger, action, http_status, attempts, reason FROM "
                               "_hub.action_dead_letters").rows
    assert len(dead) == 1 and dead[0][:4] == ("new_lead", "http:provision", statuses[0], attempts)
    assert why in dead[0][4]
    run = Project(root).query("SELECT status, error FROM _hub.runs WHERE command = 'trigger:new_lead'").rows[0]
    assert run[0] == "failed" and "http:provision" in run[1]
    step = Project(root).query("SELECT status FROM _hub.run_steps WHERE target = 'http:provision'").scalar()
    assert step == "dead_letter"
    status = Project(root).status()
    assert any(w["connection"] == "trigger:new_lead" and w["dead_letters"] == 1 for w in status.webhooks)


def test_unreachable_endpoint_is_retried_then_dead_lettered(make_project):
    with refusing() as hook, receiver([200]) as chat:
        root = project(make_project, hook, chat.url, retries=1)
        server = ServeProcess(root)
        try:
            assert httpx.post(f"{server.url}/forms/contact", json=LEAD).status_code == 200
            chat.wait_for(1)   # notify runs after provision gave up; the run and dead letter are recorded before exit
        finally:
            server.interrupt()
    dead = Project(root).query("SELECT action, attempts, reason FROM _hub.action_dead_letters").rows
    assert dead == [("http:provision", 2, "unreachable: ConnectError")]


@pytest.mark.parametrize(("extra", "secrets", "message"), [
    ('[actions.a]\ntype = "http"\nurl = "https://x.example/h"\n', "", "needs a signing_secret"),
    ('[actions.a]\ntype = "http"\nurl = "https://x.example/h"\n', '[actions.a]\nsigning_secret = "short"\n',
     "signing_secret must be whsec_"),
    ('[actions.a]\ntype = "fax"\nurl = "https://x.example/h"\n', "", 'needs type = "http" or "notify"'),
    ('[actions.a]\ntype = "notify"\nurl = "https://x.example/h"\ntext = "{{ fields.email"\n', "",
     "malformed placeholder"),
    ('[actions.a]\ntype = "notify"\nurl = "https://x.example/h"\nbody = {}\n', "", "unknown key 'body'"),
    ('[actions.a]\ntype = "notify"\nurl = "https://x.example/h"\n[triggers.t]\non = "form:contact"\n'
     'do = ["http:a"]\n', "", "names an action of type notify"),
    ('[triggers.t]\non = "form:nope"\ndo = ["notify:https://x.example/h"]\n', "", "unknown form 'nope'"),
    ('[triggers.t]\non = "form:contact"\ndo = ["http:missing"]\n', "", "unknown action 'missing'"),
])
def test_action_config_errors(make_project, extra, secrets, message):
    root = make_project('[forms.contact]\nfields = { email = {} }\n' + extra, secrets or None)
    with pytest.raises(ConfigError) as info:
        Project(root).check_all()
    assert message in str(info.value)
