"""`hub ingest` against the sandbox over real loopback HTTP: full, incremental, selectors, merges, failures."""

from __future__ import annotations

import httpx
import pytest

from hub.errors import AuthError, BadResponseError, UnknownNameError, UnreachableError
from hub.project import Project
from tests.conftest import sandbox_project


def api_count_hubspot(sb, obj: str) -> int:
    n, params = 0, {"limit": 100}
    with httpx.Client(headers={"Authorization": f"Bearer {sb.hubspot.token}"}) as http:
        while True:
            body = http.get(f"{sb.hubspot.url}/crm/v3/objects/{obj}", params=params).json()
            n += len(body["results"])
            if "paging" not in body:
                return n
            params["after"] = body["paging"]["next"]["after"]


def api_count_salesforce(sb, obj: str, deleted: bool = True) -> int:
    with httpx.Client(headers={"Authorization": f"Bearer {sb.salesforce.token}"}) as http:
        path = "queryAll" if deleted else "query"
        return http.get(f"{sb.salesforce.url}/services/data/v59.0/{path}",
                        params={"q": f"SELECT COUNT() FROM {obj}"}).json()["totalSize"]


def test_full_ingest_lands_every_stream(make_project, sandbox, engine):
    project = Project(sandbox_project(make_project, sandbox))
    report = project.ingest()
    assert report.ok, report.errors
    rows = {f"{r.connection}.{r.stream}": r.rows for r in report.results}
    assert rows == {"hubspot.contacts": api_count_hubspot(sandbox, "contacts"),
                    "hubspot.companies": api_count_hubspot(sandbox, "companies"),
                    "salesforce.Contact": api_count_salesforce(sandbox, "Contact"),
                    "salesforce.Account": api_count_salesforce(sandbox, "Account")}
    assert all(n > 0 for n in rows.values())
    assert project.query("SELECT count(*), count(DISTINCT id) FROM raw_hubspot.contacts").rows[0] == \
        (rows["hubspot.contacts"], rows["hubspot.contacts"])
    cols = set(project.query("SELECT * FROM raw_salesforce.contact LIMIT 0").columns)
    assert {"id", "first_name", "last_name", "email", "system_modstamp", "is_deleted", "account_id"} <= cols
    cols = set(project.query("SELECT * FROM raw_hubspot.contacts LIMIT 0").columns)
    assert {"id", "email", "firstname", "lastname", "phone", "lastmodifieddate", "archived", "updated_at"} <= cols
    # bookkeeping: cursors stored, steps recorded, dlt's files inside the project
    assert project.query("SELECT count(*) FROM _hub.cursors").scalar() == 4
    assert (project.root / ".hub" / "pipelines").is_dir()


def test_rerun_is_incremental_and_never_duplicates(make_project, fresh_sandbox, engine):
    sb = fresh_sandbox
    project = Project(sandbox_project(make_project, sb))
    first = project.ingest()
    total = {r.stream: r.rows for r in first.results}

    second = project.ingest()
    assert {r.mode for r in second.results} == {"incremental"}
    assert all(r.rows <= 3 for r in second.results), [(r.stream, r.rows) for r in second.results]
    assert project.query("SELECT count(*) FROM raw_hubspot.contacts").scalar() == total["contacts"]
    assert project.query("SELECT count(*) FROM raw_salesforce.contact").scalar() == total["Contact"]

    hs_id = project.query("SELECT id FROM raw_hubspot.contacts ORDER BY id LIMIT 1").scalar()
    sf_id, sf_del = [r[0] for r in project.query(
        "SELECT id FROM raw_salesforce.contact WHERE NOT is_deleted ORDER BY id LIMIT 2").rows]
    sb.hubspot.store.update("contacts", hs_id, {"phone": "+1 212 555 0199"})
    sb.salesforce.store.update("Contact", sf_id, {"Title": "Chief Testing Officer"})
    sb.salesforce.store.delete("Contact", sf_del)
    sb.hubspot.requests.reset()

    third = project.ingest()
    assert third.ok, third.errors
    by_stream = {r.stream: r.rows for r in third.results}
    assert 1 <= by_stream["contacts"] <= 3 and 2 <= by_stream["Contact"] <= 4
    assert project.query(f"SELECT phone FROM raw_hubspot.contacts WHERE id = '{hs_id}'").scalar() == "+1 212 555 0199"
    assert project.query(f"SELECT title FROM raw_salesforce.contact WHERE id = '{sf_id}'").scalar() == \
        "Chief Testing Officer"
    assert project.query(f"SELECT is_deleted FROM raw_salesforce.contact WHERE id = '{sf_del}'").scalar() is True
    assert project.query("SELECT count(*) - count(DISTINCT id) FROM raw_hubspot.contacts").scalar() == 0
    assert project.query("SELECT count(*) FROM raw_salesforce.contact").scalar() == total["Contact"]

    refreshed = project.ingest(["hubspot.contacts"], full_refresh=True)
    assert [(r.stream, r.mode, r.rows) for r in refreshed.results] == [("contacts", "full", total["contacts"])]


def test_selectors_pick_connections_and_streams(make_project, sandbox, engine):
    project = Project(sandbox_project(make_project, sandbox))
    report = project.ingest(["hubspot.companies", "salesforce"])
    assert sorted((r.connection, r.stream) for r in report.results) == [
        ("hubspot", "companies"), ("salesforce", "Account"), ("salesforce", "Contact")]
    with pytest.raises(UnknownNameError, match="did you mean 'contacts'"):
        project.ingest(["hubspot.contcts"])
    with pytest.raises(UnknownNameError, match="did you mean 'hubspot'"):
        project.ingest(["hubspt"])


def test_bad_token_fails_that_connection_names_it_and_keeps_the_cursor(make_project, sandbox, engine):
    root = sandbox_project(make_project, sandbox)
    project = Project(root)
    project.ingest(["hubspot"])
    before = project.query("SELECT stream, cursor_value FROM _hub.cursors ORDER BY 1").rows
    wrong = Project(root, environ={"HUB__CONNECTIONS__HUBSPOT__TOKEN": "pat-na1-wrong-token-000"})
    report = wrong.ingest()
    assert not report.ok
    [err] = report.errors
    assert isinstance(err, AuthError) and "connection 'hubspot'" in str(err)
    assert "pat-na1-wrong-token-000" not in str(err)
    assert project.query("SELECT stream, cursor_value FROM _hub.cursors WHERE connection = 'hubspot' "
                         "ORDER BY 1").rows == before
    assert {r.stream for r in report.results if r.status == "success"} == {"Contact", "Account"}


def test_unreachable_api_is_one_clear_error(make_project, sandbox):
    root = make_project('[connections.hubspot]\ntype = "hubspot"\nbase_url = "http://127.0.0.1:9"\n'
                        'retry_base_delay = 0.01\n',
                        '[connections.hubspot]\ntoken = "pat-x-123456"\n')
    report = Project(root).ingest()
    [err] = report.errors
    assert isinstance(err, UnreachableError) and "http://127.0.0.1:9" in str(err)


def test_html_instead_of_json_is_a_clear_error(make_project, html_server):
    root = make_project(f'[connections.hubspot]\ntype = "hubspot"\nbase_url = "{html_server}"\n'
                        'retry_base_delay = 0.01\n', '[connections.hubspot]\ntoken = "pat-x-123456"\n')
    [err] = Project(root).ingest().errors
    assert isinstance(err, BadResponseError) and "text/html" in str(err) and "not JSON" in str(err)


@pytest.fixture
def html_server():
    """A real loopback server that answers every request with an HTML login page."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html><body>Please log in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
