"""Web forms through a real `hub serve` subprocess over loopback: validation, honeypot, CORS, rate limit, secret,
redirects, durability across kill -9, and the rows in raw_<connection>.<form>."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from hub.errors import ConfigError
from hub.project import Project
from tests.conftest import run_hub
from tests.serve.helpers import ServeProcess

SITE = "https://www.example.com"
HUB_TOML = f"""
[forms.contact]
connection = "website"
fields = {{ email = {{ type = "email", required = true }}, name = {{ required = true }}, company = {{}}, message = {{ max_length = 50 }}, topic = {{ choices = ["sales", "support"] }} }}
honeypot = "website_url"
origins = ["{SITE}"]
redirect = "{SITE}/thanks"

[forms.partner]
fields = {{ email = {{ type = "email", required = true }} }}
rate_limit = "4/hour"
"""
PARTNER_SECRET = "s3cret-partner-key-0123456789"
SECRETS = f'[forms.partner]\nsecret = "{PARTNER_SECRET}"\n'
GOOD = {"email": "ada@example.com", "name": "Ada Lovelace", "company": "Analytical", "message": "hello"}


@pytest.fixture
def root(make_project: Callable[..., Path]) -> Path:
    return make_project(HUB_TOML, SECRETS)


@pytest.fixture
def server(root: Path):
    proc = ServeProcess(root)
    yield proc
    if proc.proc.poll() is None:
        proc.interrupt()


def rows(root: Path, table: str = "raw_website.contact") -> list[tuple]:
    return Project(root).query(f"SELECT email, name, company, message FROM {table} ORDER BY submitted_at").rows


def test_json_and_browser_posts_land_in_raw_connection_form(root, server):
    ok = httpx.post(f"{server.url}/forms/contact", json=GOOD)
    assert ok.status_code == 200 and ok.json()["ok"] is True
    browser = httpx.post(f"{server.url}/forms/contact", data={**GOOD, "email": "bob@example.com", "submit": "Send"},
                         headers={"Origin": SITE})
    assert browser.status_code == 303 and browser.headers["location"] == f"{SITE}/thanks"
    assert browser.headers["access-control-allow-origin"] == SITE
    server.wait_flushed(2)
    server.interrupt()
    assert rows(root) == [("ada@example.com", "Ada Lovelace", "Analytical", "hello"),
                          ("bob@example.com", "Ada Lovelace", "Analytical", "hello")]
    columns = Project(root).query("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                  "'raw_website' AND table_name = 'contact' ORDER BY ordinal_position").rows
    assert [c[0] for c in columns] == ["id", "submitted_at", "email", "name", "company", "message", "topic"]


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"email": ""}, "email", "is required"),
    ({"email": "not-an-address"}, "email", "not a valid email"),
    ({"name": None}, "name", "is required"),
    ({"message": "x" * 51}, "message", "longer than 50"),
    ({"topic": "billing"}, "topic", "must be one of: sales, support"),
])
def test_validation_names_the_field_and_the_reason(root, server, change, field, reason):
    answer = httpx.post(f"{server.url}/forms/contact", json={**GOOD, **change})
    assert answer.status_code == 422
    assert answer.json()["field"] == field and reason in answer.json()["error"]
    browser = httpx.post(f"{server.url}/forms/contact", data={k: v for k, v in {**GOOD, **change}.items()
                                                              if v is not None})
    assert browser.status_code == 422 and reason in browser.text and browser.headers["content-type"].startswith(
        "text/plain")
    assert server.health()["received"] == 0   # nothing refused was stored


def test_unknown_form_bad_body_and_oversize_are_refused(server):
    assert httpx.post(f"{server.url}/forms/nope", json=GOOD).status_code == 404
    assert httpx.post(f"{server.url}/forms/contact", content=b"{not json",
                      headers={"Content-Type": "application/json"}).status_code == 400
    assert httpx.post(f"{server.url}/forms/contact", content=b"x", headers={"Content-Type": "text/csv"}) \
        .status_code == 415
    assert httpx.post(f"{server.url}/forms/contact", json={**GOOD, "blob": "x" * 70_000}).status_code == 413


def test_a_filled_honeypot_is_answered_like_success_and_dropped(root, server):
    bot = httpx.post(f"{server.url}/forms/contact", json={**GOOD, "website_url": "http://spam.example"})
    assert bot.status_code == 200 and bot.json()["ok"] is True
    bot_browser = httpx.post(f"{server.url}/forms/contact", data={**GOOD, "website_url": "spam"})
    assert bot_browser.status_code == 303
    person = httpx.post(f"{server.url}/forms/contact", json={**GOOD, "email": "real@example.com", "website_url": ""})
    assert person.status_code == 200
    server.wait_flushed(1)
    assert server.health()["received"] == 1
    server.interrupt()
    assert [r[0] for r in rows(root)] == ["real@example.com"]


def test_cors_preflight_and_origins(server):
    url = f"{server.url}/forms/contact"
    pre = httpx.options(url, headers={"Origin": SITE, "Access-Control-Request-Method": "POST",
                                      "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == SITE
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "content-type" in pre.headers["access-control-allow-headers"].lower()
    evil = httpx.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
    posted = httpx.post(url, json=GOOD, headers={"Origin": "https://evil.example"})
    assert posted.status_code == 403 and "access-control-allow-origin" not in posted.headers
    assert server.health()["received"] == 0
    allowed = httpx.post(url, json=GOOD, headers={"Origin": SITE})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == SITE


def test_shared_secret_and_rate_limit_per_client(root, server):
    url = f"{server.url}/forms/partner"
    body = {"email": "p@example.com"}
    assert httpx.post(url, json=body).status_code == 401
    assert httpx.post(url, json=body, headers={"X-Form-Secret": "wrong-secret-0123456789"}).status_code == 401
    assert httpx.post(url, json=body, headers={"X-Form-Secret": PARTNER_SECRET}).status_code == 200
    assert httpx.post(url, data={**body, "form_secret": PARTNER_SECRET}).status_code == 200
    # 4/hour: the fifth post of this client (refused or not, each counts) is throttled
    throttled = httpx.post(url, json=body, headers={"X-Form-Secret": PARTNER_SECRET})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 60
    # another client, behind a proxy on this machine, has its own bucket (X-Forwarded-For's last entry)
    other = httpx.post(url, json=body, headers={"X-Form-Secret": PARTNER_SECRET, "X-Forwarded-For": "203.0.113.9"})
    assert other.status_code == 200
    server.wait_flushed(3)
    server.interrupt()
    assert Project(root).query("SELECT count(*) FROM raw_forms.partner").scalar() == 3
    # the secret never reaches the warehouse
    dump = Project(root).query("SELECT * FROM raw_forms.partner").rows
    assert PARTNER_SECRET not in repr(dump)


def test_idempotency_key_stores_a_retried_post_once(root, server):
    for _ in range(3):
        assert httpx.post(f"{server.url}/forms/contact", json=GOOD, headers={"Idempotency-Key": "abc-1"}) \
            .status_code == 200
    server.wait_flushed(1)
    assert server.health()["received"] == 1
    server.interrupt()
    assert len(rows(root)) == 1


def test_kill_9_after_the_2xx_loses_no_submission(root):
    first = ServeProcess(root)
    assert httpx.post(f"{first.url}/forms/contact", json=GOOD).status_code == 200
    first.kill()   # no flush: the submission is only in the inbox (or already flushed)
    again = ServeProcess(root)
    assert httpx.post(f"{again.url}/forms/contact", json={**GOOD, "email": "after@example.com"}).status_code == 200
    again.interrupt()
    assert sorted(r[0] for r in rows(root)) == ["ada@example.com", "after@example.com"]


def test_a_field_declared_later_becomes_a_column(root):
    server = ServeProcess(root)
    assert httpx.post(f"{server.url}/forms/contact", json=GOOD).status_code == 200
    server.interrupt()
    text = (root / "hub.toml").read_text().replace('company = {}', 'company = {}, phone = { type = "tel" }')
    (root / "hub.toml").write_text(text)
    server = ServeProcess(root)
    assert httpx.post(f"{server.url}/forms/contact", json={**GOOD, "phone": "+1 415 555 0100"}).status_code == 200
    assert httpx.post(f"{server.url}/forms/contact", json={**GOOD, "phone": "call me"}).status_code == 422
    server.interrupt()
    assert Project(root).query("SELECT phone FROM raw_website.contact ORDER BY submitted_at").rows == \
        [(None,), ("+1 415 555 0100",)]


@pytest.mark.parametrize(("toml", "message"), [
    ('[forms.c]\nfields = {}\n', "needs fields"),
    ('[forms.c]\nfields = { email = { type = "mail" } }\n', "type 'mail' is not one of"),
    ('[forms.c]\nfields = { id = {} }\n', "a column hub writes itself"),
    ('[forms.c]\nfields = { a = {} }\nrate_limit = "lots"\n', "rate_limit must be like"),
    ('[forms.c]\nfields = { a = {} }\norigins = ["https://x.example/path"]\n', "origins must be a list"),
    ('[forms.c]\nfields = { a = {} }\nredirect = "thanks.html"\n', "redirect must be an http(s) URL"),
    ('[forms.c]\nfields = { a = {} }\nhoneypot = "a"\n', "is also a declared field"),
    ('[forms.c]\nfields = { a = {} }\nsecret = "in-hub-toml-0123456789"\n', "must not be in hub.toml"),
    ('[forms.c]\nfields = { a = {} }\ncolour = "red"\n', "unknown key 'colour'"),
])
def test_config_errors_are_one_line_naming_the_place(make_project, toml, message):
    root = make_project(toml)
    with pytest.raises(ConfigError) as info:
        Project(root).check_all()
    assert message in str(info.value) and "hub.toml" in str(info.value)
    cli = run_hub("-C", str(root), "serve", "--port", "0")
    assert cli.returncode != 0 and message in cli.stderr and "Traceback" not in cli.stderr


def test_a_form_may_not_land_in_a_table_its_connection_fills(make_project):
    root = make_project('[connections.shop]\ntype = "stripe"\n[forms.events]\nconnection = "shop"\n'
                        'fields = { email = {} }\n')
    with pytest.raises(ConfigError, match="raw_shop.events, a table connection 'shop' already fills"):
        Project(root).check_all()
