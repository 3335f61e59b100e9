"""The ``type = "rest"`` engine over real loopback HTTP against the sandbox's REST emulator, into a real DuckDB.

Each test writes a project whose connection points at the emulator with the per-request options in its base_url
(``/_/page=cursor,auth=basic``), runs ``hub ingest`` (the library call, or the CLI in a subprocess) and checks the raw
tables, the report and what the emulator was asked.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from hub.integrations.rest.emulator import RestEmulator
from hub.project import Project
from hub.sandbox.chaos import Chaos
from hub.sandbox.server import Request, Response
from tests.conftest import run_hub
from tests.rest.conftest import emulator_context

PAGINATORS = {
    "next_url": '{ type = "next_url", path = "links.next" }',
    "link_header": '{ type = "link_header" }',
    "cursor": '{ type = "cursor", param = "cursor", path = "meta.next_cursor" }',
    "offset": '{ type = "offset", param = "offset", limit_param = "limit", limit = 40, total_path = "meta.total" }',
    "page": '{ type = "page", param = "page", total_pages_path = "meta.total_pages" }',
}
SECRETS = {
    "bearer": lambda c: f'token = "{c.token}"',
    "api_key": lambda c: f'api_key = "{c.api_key}"',
    "basic": lambda c: f'username = "{c.username}"\npassword = "{c.password}"',
    "oauth2": lambda c: f'client_id = "{c.client_id}"\nclient_secret = "{c.client_secret}"\n'
                        f'refresh_token = "{c.refresh_token}"',
    "client_credentials": lambda c: f'client_id = "{c.client_id}"\nclient_secret = "{c.client_secret}"',
}


class Recorder:
    """The emulator's ``before_request`` hook: keeps each request's path and query."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response | None:
        with self._lock:
            self.seen.append((request.path, {k: v[-1] for k, v in request.query.items()}))
        return None

    def queries(self, path: str) -> list[dict[str, str]]:
        with self._lock:
            return [q for p, q in self.seen if p == path]


def write_project(make_project, emulator: RestEmulator, *, options: str = "page=next_url", auth: str = "bearer",
                  auth_spec: str | None = None, paginator: str = "next_url", tickets_extra: str = "",
                  comments: bool = False, extra: str = "", secrets: str | None = None) -> Path:
    """A project with one rest connection, ``helpdesk``, at the emulator."""
    auth_spec = auth_spec or f'{{ type = "{auth}" }}'
    child = """
        [connections.helpdesk.streams.comments]
        path = "/tickets/{tickets.id}/comments"
        records = "comments"
        paginator = { type = "next_url", path = "links.next" }
        """ if comments else ""
    params = "" if paginator == "offset" else "params = { per_page = 40 }"
    return make_project(f"""
        [connections.helpdesk]
        type = "rest"
        base_url = "{emulator.url}/_/{options}"
        auth = {auth_spec}
        retry_base_delay = 0.01
        {extra}

        [connections.helpdesk.streams.tickets]
        path = "/tickets"
        records = "tickets"
        primary_key = "id"
        paginator = {PAGINATORS[paginator]}
        incremental = {{ cursor_field = "updated_at", param = "updated_since" }}
        {params}
        {tickets_extra}
        {child}
        """, "[connections.helpdesk]\n" + (secrets if secrets is not None else SECRETS["bearer"](emulator.auth)))


def rows(project: Project, sql: str) -> list[dict[str, Any]]:
    with project.warehouse(read_only=True) as wh:
        return wh.query(sql).records()


def ingest_ok(project: Project, *selectors: str):
    report = project.ingest(list(selectors))
    assert report.ok, [str(e) for e in report.errors]
    return report


@pytest.mark.parametrize("style", list(PAGINATORS))
def test_each_paginator_reads_every_record_once(make_project, rest_emulator, style):
    recorder = rest_emulator.before_request = Recorder()
    project = Project(write_project(make_project, rest_emulator, options=f"page={style},auth=bearer",
                                    paginator=style))
    report = ingest_ok(project)
    assert report.results[0].rows == 250
    assert rows(project, "SELECT count(*) AS n, count(DISTINCT id) AS d FROM raw_helpdesk.tickets") == \
        [{"n": 250, "d": 250}]
    # 250 records at 40 a page: 7 pages (offset and page paginators know the total and stop there)
    assert len(recorder.queries("/tickets")) == 7


def test_incremental_second_run_sends_the_cursor_and_reads_only_new_rows(make_project, rest_emulator):
    recorder = rest_emulator.before_request = Recorder()
    project = Project(write_project(make_project, rest_emulator))
    first = ingest_ok(project)
    assert first.results[0].mode == "full" and "updated_since" not in recorder.queries("/tickets")[0]
    newest = max(t["updated_at"] for t in rest_emulator.store.tickets.values())
    for ticket in (5, 17, 99):
        rest_emulator.store.edit_ticket(ticket, status="solved")
    recorder.seen.clear()
    second = ingest_ok(project)
    assert second.results[0].mode == "incremental"
    assert recorder.queries("/tickets")[0]["updated_since"] == newest   # ISO-8601 UTC, from the first run's rows
    # the three edited tickets; the newest of the first run comes again (the cursor is inclusive), but it is known
    # unchanged at the cursor, so it is not loaded again
    assert second.results[0].rows == 3 and second.results[0].unchanged == 1
    table = rows(project, "SELECT count(*) AS n, count(*) FILTER (WHERE status = 'solved' AND id IN (5, 17, 99)) "
                          "AS solved FROM raw_helpdesk.tickets")
    assert table == [{"n": 250, "solved": 3}]


@pytest.mark.parametrize("auth", ["bearer", "api_key_header", "api_key_query", "basic", "client_credentials"])
def test_each_auth_type(make_project, rest_emulator, auth):
    specs = {"bearer": '{ type = "bearer" }',
             "api_key_header": '{ type = "api_key", in = "header", name = "X-API-Key" }',
             "api_key_query": '{ type = "api_key", in = "query", name = "api_key" }',
             "basic": '{ type = "basic" }',
             "client_credentials": f'{{ type = "oauth2", grant = "client_credentials", '
                                   f'token_url = "{rest_emulator.url}/oauth/token" }}'}
    mode = "oauth2" if auth == "client_credentials" else auth
    secret = SECRETS[auth.split("_header")[0].split("_query")[0]](rest_emulator.auth)
    project = Project(write_project(make_project, rest_emulator, options=f"page=next_url,auth={mode}",
                                    auth_spec=specs[auth], secrets=secret))
    assert ingest_ok(project).results[0].rows == 250
    if auth == "client_credentials":
        assert rest_emulator.auth.grants["client_credentials"] == 1


def test_a_wrong_secret_is_a_clear_auth_error_without_the_secret(make_project, rest_emulator):
    project = Project(write_project(make_project, rest_emulator, options="auth=bearer",
                                    secrets='token = "tok_wrong_value_1234"'))
    report = project.ingest()
    assert not report.ok
    message = str(report.errors[0])
    assert "rejected the credentials" in message and "HUB__CONNECTIONS__HELPDESK__TOKEN" in message
    assert "tok_wrong_value_1234" not in message


def test_oauth_refresh_tokens_rotate_and_are_saved_before_use(make_project, rest_emulator):
    credentials = rest_emulator.auth
    configured = credentials.refresh_token
    root = write_project(make_project, rest_emulator, options="auth=oauth2", secrets=SECRETS["oauth2"](credentials),
                         auth_spec=f'{{ type = "oauth2", token_url = "{rest_emulator.url}/oauth/token" }}')
    ingest_ok(Project(root))
    assert credentials.refreshes == 1 and credentials.refresh_token != configured
    stored = json.loads((root / ".hub" / "tokens.json").read_text())["helpdesk"]
    assert stored["refresh_token"] == credentials.refresh_token   # the rotated one, kept for the next run
    # the next run (a new process would do the same) starts from the stored token, not the spent configured one;
    # its access token is expired: a 401, one refresh with the stored refresh token, the request again
    credentials.expire_all()
    ingest_ok(Project(root))
    assert credentials.refreshes == 2
    assert json.loads((root / ".hub" / "tokens.json").read_text())["helpdesk"]["refresh_token"] == \
        credentials.refresh_token


def test_429_with_retry_after_is_waited_out(make_project):
    emulator = _emulator(rate_limit=(3, 1.0), rate_limit_style="retry_after", tickets=120)
    try:
        project = Project(write_project(make_project, emulator, options="limit=retry_after"))
        assert ingest_ok(project).results[0].rows == 120
        assert emulator.limiter is not None
    finally:
        emulator.stop()


@pytest.mark.parametrize("style", ["x_ratelimit", "ietf"])
def test_rate_limit_headers_pause_before_the_api_refuses(make_project, style):
    emulator = _emulator(rate_limit=(2, 1.0), rate_limit_style=style, tickets=120)
    refused = []
    recorder = Recorder()

    def hook(request: Request) -> Response | None:
        recorder(request)
        return None

    emulator.before_request = hook
    original = emulator.dispatch

    def counting(request, route):
        response = original(request, route)
        if response.status == 429:
            refused.append(request.path)
        return response

    emulator.dispatch = counting  # type: ignore[method-assign]
    try:
        project = Project(write_project(make_project, emulator, options=f"limit={style}"))
        assert ingest_ok(project).results[0].rows == 120
        assert refused == []   # every window's last request said remaining 0: the engine waited for the reset
    finally:
        emulator.stop()


def test_a_declared_budget_paces_requests(make_project):
    emulator = _emulator(rate_limit=(2, 1.0), rate_limit_style="retry_after", tickets=120)
    refused = []
    original = emulator.dispatch

    def counting(request, route):
        response = original(request, route)
        if response.status == 429:
            refused.append(request.path)
        return response

    emulator.dispatch = counting  # type: ignore[method-assign]
    try:
        project = Project(write_project(make_project, emulator, options="limit=retry_after",
                                        extra="rate_limit = { requests = 2, per_seconds = 1.2 }"))
        assert ingest_ok(project).results[0].rows == 120
        assert refused == []
    finally:
        emulator.stop()


def test_5xx_and_dropped_connections_are_retried(make_project, rest_emulator):
    rest_emulator.chaos = Chaos(server_error=0.2, drop=0.05, seed=3)
    project = Project(write_project(make_project, rest_emulator, comments=True, extra="max_retries = 12"))
    report = ingest_ok(project)
    assert rest_emulator.chaos.injected["5xx"] > 0 and rest_emulator.chaos.injected["drop"] > 0
    assert [r.rows for r in report.results][0] == 250
    expected = sum(len(c) for c in rest_emulator.store.comments.values())
    assert rows(project, "SELECT count(DISTINCT id) AS n FROM raw_helpdesk.comments") == [{"n": expected}]


def test_child_streams_read_once_per_parent_with_the_parent_key(make_project, rest_emulator):
    rest_emulator.before_request = recorder = Recorder()
    project = Project(write_project(make_project, rest_emulator, comments=True))
    ingest_ok(project)
    expected = sum(len(c) for c in rest_emulator.store.comments.values())
    got = rows(project, "SELECT count(*) AS n, count(*) FILTER (WHERE _tickets_id = ticket_id) AS linked "
                        "FROM raw_helpdesk.comments")
    assert got == [{"n": expected, "linked": expected}]
    assert len([p for p, _ in recorder.seen if p.endswith("/comments")]) == 250
    # the second run asks only for the comments of tickets changed since (the ticket changes with its comments)
    rest_emulator.store.edit_ticket(7, status="solved")
    recorder.seen.clear()
    ingest_ok(project, "helpdesk.comments")
    asked = sorted(p for p, _ in recorder.seen if p.endswith("/comments"))
    assert "/tickets/7/comments" in asked and len(asked) <= 3


def test_records_without_a_key_are_quarantined(make_project, rest_emulator):
    for n, contact_id in enumerate(sorted(rest_emulator.store.contacts)):
        if n % 4:
            rest_emulator.store.contacts[contact_id]["external_id"] = f"ext-{contact_id}"
    project = Project(write_project(make_project, rest_emulator, extra="""
        [connections.helpdesk.streams.contacts]
        path = "/contacts"
        records = "contacts"
        primary_key = "external_id"
        paginator = { type = "next_url", path = "links.next" }
        """))
    report = ingest_ok(project, "helpdesk.contacts")
    assert report.results[0].quarantined == 5
    assert any("quarantined 5 record(s) of helpdesk.contacts: missing external_id" in n for n in report.notices())
    assert rows(project, "SELECT count(*) AS n FROM raw_helpdesk.contacts") == [{"n": 15}]


def test_hub_ingest_and_status_in_a_subprocess(make_project, rest_emulator):
    root = write_project(make_project, rest_emulator, comments=True, secrets="")
    token = rest_emulator.auth.token
    env = {"HUB__CONNECTIONS__HELPDESK__TOKEN": token}
    done = run_hub("ingest", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "helpdesk" in output and "250" in output and token not in output
    status = run_hub("status", cwd=root, env=env)
    assert status.returncode == 0, status.stderr
    lines = {line.split()[0]: line.split()[1] for line in status.stdout.splitlines() if line.startswith("helpdesk.")}
    assert lines == {"helpdesk.tickets": "success", "helpdesk.comments": "success"}, status.stdout
    # a spec error stops the CLI with one line and exit code 2, before any request
    (root / "hub.toml").write_text((root / "hub.toml").read_text().replace('type = "next_url"', 'type = "next_ur"'))
    bad = run_hub("ingest", cwd=root, env=env)
    assert bad.returncode == 2 and "did you mean 'next_url'" in bad.stderr and "hub.toml:" in bad.stderr


def _emulator(**options: Any) -> RestEmulator:
    from hub.integrations.rest.emulator import EMULATOR

    emulator = EMULATOR.build(emulator_context(), **options)
    emulator.start()
    return emulator


def test_records_land_typed_with_nested_values_as_json_text():
    from hub.sources.rest.records import TableBuilder

    builder = TableBuilder("id")
    builder.add([{"id": 1, "n": 2, "tags": ["a"], "owner": {"name": "x"}},
                 {"id": 2, "n": 2.5, "extra": True, "tags": None}])
    table = builder.flush()
    assert table.column_names == ["id", "n", "tags", "owner", "extra"]
    assert table.column("n").to_pylist() == [2.0, 2.5]
    assert table.column("tags").to_pylist() == ['["a"]', None]
    assert table.column("owner").to_pylist() == ['{"name":"x"}', None]
    # a field whose values disagree (number, object) is text; a column seen before stays, as nulls
    builder.add([{"id": "3", "n": {"v": 1}}, {"id": 4, "n": 7}])
    later = builder.flush()
    assert later.column_names == ["id", "n", "tags", "owner", "extra"]
    assert later.column("n").to_pylist() == ['{"v":1}', "7"] and later.column("extra").to_pylist() == [None, None]


def test_rate_limit_header_styles():
    import httpx

    from hub.sources.rest.engine import SKEWED_RESET, limit_state

    now = 1_750_000_000.0
    assert limit_state(httpx.Headers({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(now) + 7)}),
                       now) == (0, 7)
    assert limit_state(httpx.Headers({"RateLimit-Remaining": "3", "RateLimit-Reset": "12"}), now) == (3, 12)
    assert limit_state(httpx.Headers({"RateLimit": '"default";r=0;t=5'}), now) == (0, 5)
    assert limit_state(httpx.Headers({"RateLimit": "limit=10, remaining=2, reset=4"}), now) == (2, 4)
    # an epoch reset is on the API's clock (its Date header); one already past is a skew: a short pause
    skewed = httpx.Headers({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(now) - 100)})
    assert limit_state(skewed, now) == (0, SKEWED_RESET)
    assert limit_state(httpx.Headers({}), now) == (None, None)


def test_an_endpoint_of_one_object_is_a_stream_of_one_record(make_project, rest_emulator):
    project = Project(write_project(make_project, rest_emulator, extra="""
        [connections.helpdesk.streams.first_ticket]
        path = "/tickets/1"
        records = "ticket"
        """))
    ingest_ok(project, "helpdesk.first_ticket")
    assert rows(project, "SELECT id FROM raw_helpdesk.first_ticket") == [{"id": 1}]


@pytest.mark.parametrize("failpoint", [
    "ingest.extracted@1",   # tickets inserted in the open transaction, comments not read yet
    "ingest.extracted@2",   # comments' first batch inserted too: nothing committed
    "ingest.loaded@1",      # committed, cursors not saved
])
def test_a_killed_ingest_then_a_rerun_lands_every_record_once(make_project, rest_emulator, failpoint):
    import signal

    root = write_project(make_project, rest_emulator, comments=True)
    killed = run_hub("ingest", cwd=root, env={"HUB_FAILPOINTS": failpoint})
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    project = Project(root)
    if failpoint.startswith("ingest.extracted"):   # the load's transaction never committed: no table, no cursor
        assert rows(project, "SELECT count(*) AS n FROM information_schema.tables "
                             "WHERE table_schema = 'raw_helpdesk' AND table_name IN ('tickets', 'comments')") == [{"n": 0}]
    done = run_hub("ingest", cwd=root)
    assert done.returncode == 0, done.stderr
    comments = sum(len(c) for c in rest_emulator.store.comments.values())
    assert rows(project, "SELECT count(*) AS n, count(DISTINCT id) AS ids FROM raw_helpdesk.tickets") == [
        {"n": 250, "ids": 250}]
    assert rows(project, "SELECT count(*) AS n, count(DISTINCT id) AS ids FROM raw_helpdesk.comments") == [
        {"n": comments, "ids": comments}]
    assert {r["stream"] for r in rows(project, "SELECT stream FROM _hub.cursors WHERE connection = 'helpdesk'")} == {
        "tickets", "comments"}
