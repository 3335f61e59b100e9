"""``type = "rest"`` specs in hub.toml: what parses, and every spec error as one line with hub.toml:LINE."""

from __future__ import annotations

import textwrap

import pytest

from hub.config import load
from hub.errors import ConfigError, SecretMissingError
from hub.integrations.checks import check_connections
from hub.secrets import Secret
from hub.sources.rest import CursorPaginator, Incremental, NextUrlPaginator, OffsetPaginator, RateLimit
from hub.sources.rest.connector import RestConnector

HEAD = """\
[connections.helpdesk]
type = "rest"
base_url = "https://api.example.com/v2"
auth = { type = "bearer" }
rate_limit = { requests = 100, per_seconds = 60 }
"""

TICKETS = """
[connections.helpdesk.streams.tickets]
path = "/tickets"
records = "tickets"
primary_key = "id"
paginator = { type = "next_url", path = "links.next" }
incremental = { cursor_field = "updated_at", param = "updated_since" }
params = { per_page = 100 }
"""

COMMENTS = """
[connections.helpdesk.streams.comments]
path = "/tickets/{tickets.id}/comments"
records = "comments"
"""


def spec_of(make_project, text: str, environ: dict[str, str] | None = None, secrets: str | None = None):
    root = make_project(text, secrets)
    config = load(root, environ or {})
    check_connections(config)   # what every project does after loading: each connection meets its connector
    return RestConnector.spec_of(config.connections["helpdesk"]), config.connections["helpdesk"]


def error_of(make_project, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        spec_of(make_project, text)
    message = str(info.value)
    assert "\n" not in message
    return info.value


def line(text: str, fragment: str) -> int:
    """The 1-based line of ``text`` holding ``fragment`` (as make_project writes it)."""
    lines = textwrap.dedent(text).splitlines()
    return next(i for i, body in enumerate(lines, start=1) if fragment in body)


def test_the_issue_example_parses_into_the_dataclasses(make_project):
    spec, conn = spec_of(make_project, HEAD + TICKETS + COMMENTS)
    tickets, comments = spec.streams["tickets"], spec.streams["comments"]
    assert tickets.paginator == NextUrlPaginator(path="links.next")
    assert tickets.incremental == Incremental("updated_at", "updated_since")
    assert dict(tickets.params) == {"per_page": 100} and tickets.records == "tickets"
    assert comments.parent == "tickets" and tickets.parent is None
    assert spec.rate_limit == RateLimit(100, 60.0) and spec.auth.type == "bearer"
    # the catalog the ingest engine and `hub status` see: parents first, cursor fields from the spec
    catalog = RestConnector.stream_catalog(conn)
    assert list(catalog) == ["tickets", "comments"] and catalog["tickets"].cursor_field == "updated_at"


def test_every_paginator_and_target_parses(make_project):
    text = HEAD + """
[connections.helpdesk.streams.a]
path = "/a"
paginator = { type = "cursor", param = "starting_after", stop_path = "has_more", cursor_from_last = "id" }

[connections.helpdesk.streams.b]
path = "/b"
paginator = { type = "offset", limit = 50, total_path = "meta.total" }

[connections.helpdesk.streams.c]
path = "/c"
paginator = "link_header"

[connections.helpdesk.streams.d]
path = "/d"
paginator = { type = "page", param = "p", total_pages_path = "meta.pages" }
incremental = { cursor_field = "ts", param = "since", format = "unix_ms" }

[connections.helpdesk.targets.contacts]
create = "POST /contacts"
update = "PATCH /contacts/{id}"
lookup = "GET /contacts"
lookup_param = "email"
batch_size = 1
"""
    spec, _ = spec_of(make_project, text)
    assert spec.streams["a"].paginator == CursorPaginator("starting_after", stop_path="has_more",
                                                          cursor_from_last="id")
    assert spec.streams["b"].paginator == OffsetPaginator(limit=50, total_path="meta.total")
    assert spec.streams["c"].paginator.type == "link_header"
    assert spec.streams["d"].incremental.format == "unix_ms"
    assert spec.targets["contacts"].create == "POST /contacts" and spec.targets["contacts"].lookup_param == "email"


@pytest.mark.parametrize("change, fragment, expected", [
    # misspelt names: did you mean
    (('type = "next_url"', 'type = "nexturl"'), "nexturl", "unknown paginator 'nexturl'.*did you mean 'next_url'"),
    (('auth = { type = "bearer" }', 'auth = { type = "barer" }'), "barer", "unknown auth type 'barer'.*'bearer'"),
    (('records = "tickets"', 'recrods = "tickets"'), "recrods", "unknown key 'recrods'.*did you mean 'records'"),
    (("{tickets.id}", "{ticket.id}"), "{ticket.id}", "unknown parent stream 'ticket'.*did you mean 'tickets'"),
    (('param = "updated_since"', 'parm = "updated_since"'), "parm", "unknown key 'parm'.*did you mean 'param'"),
    (('per_seconds = 60', 'per_second = 60'), "per_second", "unknown key 'per_second'.*'per_seconds'"),
    (('path = "links.next" }', 'path = "links.next", limt = 3 }'), "limt", "unknown key 'limt'"),
    ((' }\nparams', ', format = "isoo" }\nparams'), "isoo", "unknown incremental format 'isoo'.*did you mean 'iso'"),
    # missing or wrong values
    (('path = "/tickets"\n', ''), "[connections.helpdesk.streams.tickets]", "needs path"),
    (('requests = 100', 'requests = 0'), "requests = 0", "requests must be a whole number from 1"),
    (("{tickets.id}", "{id}"), "{id}", r"placeholder \{id\} must name a parent stream's field"),
    (("{tickets.id}", "{comments.id}"), "{comments.id}", "names the stream itself"),
    (('type = "next_url", path = "links.next"', 'type = "cursor", path = "next"'), "cursor", "needs param"),
])
def test_spec_errors_are_one_line_with_the_line_number(make_project, change, fragment, expected):
    text = (HEAD + TICKETS + COMMENTS).replace(*change)
    assert text != HEAD + TICKETS + COMMENTS
    error = error_of(make_project, text)
    import re

    assert re.search(expected, str(error)), str(error)
    assert str(error).startswith(f"hub.toml:{line(text, fragment)}: "), (str(error), line(text, fragment))


def test_auth_specs_need_what_their_type_needs(make_project):
    error = error_of(make_project, (HEAD + TICKETS).replace('{ type = "bearer" }', '{ type = "api_key" }'))
    assert "api_key needs name" in str(error) and str(error).startswith("hub.toml:4:")
    error = error_of(make_project, (HEAD + TICKETS).replace('{ type = "bearer" }', '{ type = "oauth2" }'))
    assert "needs token_url" in str(error) and str(error).startswith("hub.toml:4:")
    error = error_of(make_project, (HEAD + TICKETS).replace(
        '{ type = "bearer" }', '{ type = "oauth2", grant = "password", token_url = "https://a.example/t" }'))
    assert "unknown oauth2 grant 'password'" in str(error)


def test_a_connection_without_streams_or_base_url_is_refused(make_project):
    assert "declares no streams" in str(error_of(make_project, HEAD))
    error = error_of(make_project, (HEAD + TICKETS).replace('base_url = "https://api.example.com/v2"\n', ""))
    assert "needs base_url" in str(error) and str(error).startswith("hub.toml:1:")


def test_misspelt_connection_key_and_target_endpoint(make_project):
    error = error_of(make_project, (HEAD + TICKETS).replace("rate_limit =", "ratelimit ="))
    assert "unknown key 'ratelimit'" in str(error) and "did you mean 'rate_limit'" in str(error)
    assert str(error).startswith("hub.toml:5:")
    text = HEAD + TICKETS + '\n[connections.helpdesk.targets.contacts]\ncreate = "SEND /contacts"\n'
    error = error_of(make_project, text)
    assert 'create must be "METHOD /path"' in str(error) and str(error).startswith(f"hub.toml:{line(text, 'SEND')}:")


def test_secrets_come_from_the_environment_or_secrets_toml_and_never_print(make_project):
    text = HEAD + TICKETS
    _, conn = spec_of(make_project, text, {"HUB__CONNECTIONS__HELPDESK__TOKEN": "tok_from_env_123"})
    assert isinstance(conn.secrets["token"], Secret) and conn.secrets["token"].reveal() == "tok_from_env_123"
    assert "tok_from_env_123" not in repr(conn) and "tok_from_env_123" not in str(conn.secrets)
    basic = text.replace('{ type = "bearer" }', '{ type = "basic" }')
    _, conn = spec_of(make_project, basic, secrets='[connections.helpdesk]\nusername = "ann"\npassword = "pw_12345"\n')
    assert conn.secrets["password"].reveal() == "pw_12345"
    assert RestConnector.spec_of(conn).username == "ann"
    # a secret in hub.toml is refused, pointing at its line
    error = error_of(make_project, text.replace('type = "rest"', 'type = "rest"\napi_key = "k_123456"'))
    assert "api_key is a secret" in str(error) and str(error).startswith("hub.toml:3:")


def test_a_missing_secret_names_where_to_put_it(make_project):
    _, conn = spec_of(make_project, HEAD + TICKETS)
    with pytest.raises(SecretMissingError) as info:
        RestConnector.connect(conn)
    assert "HUB__CONNECTIONS__HELPDESK__TOKEN" in str(info.value) and "secrets.toml" in str(info.value)
