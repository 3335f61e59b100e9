"""Zendesk Support: tickets, users and organizations from the incremental exports.

Tickets and users come from the cursor-based exports (``/api/v2/incremental/{tickets,users}/cursor.json``): the first
request takes ``start_time`` (Unix seconds), every later one only the ``after_cursor`` of the page before, until
``end_of_stream``. Organizations have only the time-based export (``/api/v2/incremental/organizations.json``), paged
by ``next_page`` (its ``start_time`` is the page's ``end_time``, inclusive). Both kinds return a record more than once
in one run: the time-based one repeats the records of a page's last second on the next page, and a record edited while
the export pages comes again behind the cursor. Every record is kept once, the last version seen (an export returns
records in the order they changed, so the last is the newest), so a stream's rows are held until its export ends.

Deletions are in the records themselves: a deleted ticket is exported with status ``deleted``, a deleted user with
``active: false``, a deleted organization with ``deleted_at`` set. Each row gets ``deleted = true`` then; staging
leaves those rows out.

An incremental run starts from the newest change time seen (``generated_timestamp`` for tickets, which the ticket
export filters on, else ``updated_at``), inclusive: the merge on ``id`` absorbs the records read again. Zendesk
leaves the last minute out of every export, so nothing changed after the newest time seen is skipped.

Auth: an API token (``token`` with ``email``: Basic ``{email}/token:{token}``) or an OAuth access token (``token``
alone: Bearer). Limits: the account's per-minute limit is learned from ``ratelimit-limit``/``ratelimit-remaining``/
``ratelimit-reset`` (or ``X-Rate-Limit``/``X-Rate-Limit-Remaining``); the exports have their own 10 requests a
minute, paced on the client before Zendesk answers 429 (which carries ``Retry-After``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import orjson

from hub.config import CONFIG_FILE, ConnectionConfig, line_of
from hub.errors import ConfigError, SourceError
from hub.secrets import Secret
from hub.sources.base import BATCH_ROWS, Connector, ReadState, Stream, parse_time, records_to_table
from hub.sources.http import ApiClient, VendorProfile
from hub.sources.ratelimit import RateLimiter

if TYPE_CHECKING:
    import httpx
    import pyarrow as pa

EXPORT_PAGE = 1000            # the exports' largest page (per_page)
#: the incremental exports' own limit: 10 requests a minute, 30 with the High Volume API add-on (export_limit)
EXPORT_LIMIT, EXPORT_LIMIT_HIGH = 10, 30
S, I, B, J = "string", "int64", "bool", "json"

COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "tickets": (("id", I), ("external_id", S), ("subject", S), ("description", S), ("status", S), ("priority", S),
                ("type", S), ("requester_id", I), ("submitter_id", I), ("assignee_id", I), ("organization_id", I),
                ("group_id", I), ("brand_id", I), ("created_at", S), ("updated_at", S), ("generated_timestamp", I),
                ("due_at", S), ("tags", J), ("custom_fields", J), ("via", J), ("deleted", B)),
    "users": (("id", I), ("email", S), ("name", S), ("phone", S), ("role", S), ("active", B), ("external_id", S),
              ("organization_id", I), ("notes", S), ("details", S), ("time_zone", S), ("locale", S),
              ("verified", B), ("suspended", B), ("created_at", S), ("updated_at", S), ("tags", J),
              ("user_fields", J), ("deleted", B)),
    "organizations": (("id", I), ("name", S), ("external_id", S), ("details", S), ("notes", S), ("group_id", I),
                      ("shared_tickets", B), ("shared_comments", B), ("created_at", S), ("updated_at", S),
                      ("deleted_at", S), ("domain_names", J), ("tags", J), ("organization_fields", J),
                      ("deleted", B)),
}
#: how each stream is exported: (path, cursor-based?)
EXPORTS = {"tickets": ("/api/v2/incremental/tickets/cursor.json", True),
           "users": ("/api/v2/incremental/users/cursor.json", True),
           "organizations": ("/api/v2/incremental/organizations.json", False)}


class ZendeskVendor(VendorProfile):
    """Zendesk's ``{"error", "description"}`` bodies and its rate-limit headers."""

    name = "Zendesk"
    path_limits = {"/api/v2/incremental/": (EXPORT_LIMIT, 60.0)}

    def error_message(self, response: httpx.Response, body: Any) -> str:
        if isinstance(body, dict):
            error, text = body.get("error"), body.get("description")
            if isinstance(error, dict):   # some endpoints nest it: {"error": {"title", "message"}}
                error, text = error.get("title"), error.get("message")
            details = body.get("details")
            if isinstance(details, dict):
                flat = [d.get("description") for v in details.values() if isinstance(v, list)
                        for d in v if isinstance(d, dict)]
                text = "; ".join(filter(None, [text, *flat]))
            if error or text:
                return ": ".join(str(p) for p in (error, text) if p)
        return super().error_message(response, body)

    def request_id(self, response: httpx.Response, body: Any) -> str | None:
        return response.headers.get("x-zendesk-request-id") or response.headers.get("x-request-id")

    def observe(self, response: httpx.Response, limiter: RateLimiter) -> None:
        """Learn the account's per-minute limit; when none is left, hold requests until the window resets."""
        if "/api/v2/incremental/" in response.request.url.path:
            return   # the exports' answers describe the account's limit, not their own stricter one
        headers = response.headers
        limit = _number(headers.get("ratelimit-limit") or headers.get("x-rate-limit"))
        remaining = _number(headers.get("ratelimit-remaining") or headers.get("x-rate-limit-remaining"))
        reset = _number(headers.get("ratelimit-reset"))
        if limit:
            limiter.learn(int(limit), 60.0)
        if remaining is not None and remaining <= 0:
            limiter.pause(reset if reset is not None else 60.0)


def api_token_auth(email: str, token: Secret) -> httpx.Auth:
    """Basic auth with an API token: ``{email}/token`` as user name, the token as password (registered as a secret,
    so the header never shows in output)."""
    import base64

    import httpx

    from hub.secrets import register

    encoded = base64.b64encode(f"{email}/token:{token.reveal()}".encode()).decode()
    register(encoded)
    return httpx.BasicAuth(f"{email}/token", token.reveal())


class Zendesk(Connector):
    """Zendesk Support's tickets, users and organizations."""

    type = "zendesk"
    vendor = ZendeskVendor
    default_base_url = None
    base_url_example = "https://yourcompany.zendesk.com"
    streams = Connector.declare(
        Stream("tickets", "tickets", cursor_field="generated_timestamp", deleted_flag="deleted",
               expects=("subject", "status", "priority", "requester_id", "organization_id")),
        Stream("users", "users", cursor_field="updated_at", deleted_flag="deleted",
               expects=("email", "name", "phone", "organization_id")),
        Stream("organizations", "organizations", cursor_field="updated_at", deleted_flag="deleted",
               expects=("name", "external_id")),
    )
    default_streams = ("tickets", "users", "organizations")
    hidden_cause = "no exported record has them: the API user's role or the account's settings may hide them"
    options = ("email", "subdomain", "page_size", "export_limit")
    secret_keys = ("token",)

    @classmethod
    def check_config(cls, name: str, body: dict[str, Any], text: str) -> None:
        where = ["connections", name]
        if not body.get("base_url") and not body.get("subdomain"):
            raise ConfigError(f"[connections.{name}] needs subdomain (or base_url)", file=CONFIG_FILE,
                              line=line_of(text, where, "type"),
                              hint='e.g. subdomain = "yourcompany" for https://yourcompany.zendesk.com')
        subdomain = body.get("subdomain")
        if subdomain is not None and (not isinstance(subdomain, str) or not subdomain.replace("-", "").isalnum()):
            raise ConfigError(f"[connections.{name}] subdomain must be the name before .zendesk.com, like "
                              f"\"yourcompany\"", file=CONFIG_FILE, line=line_of(text, where, "subdomain"))
        email = body.get("email")
        if email is not None and (not isinstance(email, str) or "@" not in email):
            raise ConfigError(f"[connections.{name}] email must be the e-mail address of the user the API token "
                              "belongs to", file=CONFIG_FILE, line=line_of(text, where, "email"),
                              hint="leave email out when token is an OAuth access token")
        size = body.get("page_size", EXPORT_PAGE)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= EXPORT_PAGE:
            raise ConfigError(f"[connections.{name}] page_size must be a whole number from 1 to {EXPORT_PAGE}",
                              file=CONFIG_FILE, line=line_of(text, where, "page_size"))
        limit = body.get("export_limit", EXPORT_LIMIT)
        if isinstance(limit, bool) or limit not in (EXPORT_LIMIT, EXPORT_LIMIT_HIGH):
            raise ConfigError(f"[connections.{name}] export_limit must be {EXPORT_LIMIT} (requests a minute to the "
                              f"incremental exports) or {EXPORT_LIMIT_HIGH} (with the High Volume API add-on)",
                              file=CONFIG_FILE, line=line_of(text, where, "export_limit"))

    @classmethod
    def api_client(cls, config: ConnectionConfig, *, http: httpx.Client | None = None,
                   **client_options: Any) -> ApiClient:
        """The client: Basic auth with ``email`` + API token, or Bearer with an OAuth access token."""
        from hub.sources.base import client_settings
        from hub.sources.transport import BearerAuth

        base_url = config.base_url
        if not base_url and config.options.get("subdomain"):
            base_url = f"https://{config.options['subdomain']}.zendesk.com"
        if not base_url:
            raise ConfigError(f"[connections.{config.name}] needs subdomain (or base_url)", file=CONFIG_FILE)
        token = config.secret("token")
        email = config.options.get("email")
        vendor = cls.vendor()
        vendor.path_limits = {"/api/v2/incremental/": (int(config.options.get("export_limit", EXPORT_LIMIT)), 60.0)}
        if email:
            auth: httpx.Auth = api_token_auth(str(email), token)
            vendor.auth_hint = (f"check the API token of connection '{config.name}' and that email is the address "
                                "of the user it belongs to (Admin Center > Apps and integrations > Zendesk API)")
        else:
            auth = BearerAuth(token)
            vendor.auth_hint = f"check the OAuth access token of connection '{config.name}' (or set email to use " \
                               "an API token)"
        client_options.pop("auth_clock", None)
        return ApiClient(config.name, base_url, auth=auth, http=http, vendor=vendor, notes_root=config.root,
                         **{**client_settings(config), **client_options})

    def read(self, stream: Stream, since: datetime | None, state: ReadState) -> Iterator[pa.Table]:
        """The stream's records changed at or after ``since`` (all when None), each once, newest version."""
        path, cursor_based = EXPORTS[stream.name]
        per_page = int(self.config.options.get("page_size", EXPORT_PAGE))
        start = 0 if since is None else int(since.timestamp())
        latest: dict[Any, dict[str, Any]] = {}   # id -> the last version exported
        listed: set[str] = set()                  # every field any record carried
        pages = self._cursor_pages(path, start, per_page) if cursor_based else self._time_pages(path, start, per_page)
        for records in pages:
            for record in records.get(stream.name) or []:
                listed.update(record)
                key = record.get("id")
                if key is None:
                    continue
                seen = latest.get(key)
                # the later of two versions wins, and a version stamped earlier than one already held never does
                if seen is None or _stamp(stream.name, record) >= _stamp(stream.name, seen):
                    latest.pop(key, None)   # re-inserted: dicts keep the order of the last version
                    latest[key] = record
        if latest:
            self.absent(stream, sorted(listed), state)   # a field no record has: hidden from this API user
        rows = [_row(stream.name, r) for r in latest.values()]
        for row in rows:
            state.see(_changed_at(stream.name, row))
        schema = schema_of(stream.name)
        for begin in range(0, len(rows), BATCH_ROWS):
            table = records_to_table(rows[begin:begin + BATCH_ROWS], schema)
            state.rows += table.num_rows
            yield table

    def _cursor_pages(self, path: str, start: int, per_page: int) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"start_time": start, "per_page": per_page}
        while True:
            body = self._get(path, params)
            yield body
            cursor = body.get("after_cursor")
            if body.get("end_of_stream") or not cursor:
                return
            params = {"cursor": cursor, "per_page": per_page}

    def _time_pages(self, path: str, start: int, per_page: int) -> Iterator[dict[str, Any]]:
        while True:
            body = self._get(path, {"start_time": start, "per_page": per_page})
            yield body
            if body.get("end_of_stream"):
                return
            end = body.get("end_time")
            if not isinstance(end, int) or end <= start:
                # a whole page of one second: the next page would start at the same second and return it again
                raise SourceError(f"Zendesk's organization export did not move past {start} (more than {per_page} "
                                  "records changed in that second)", connection=self.config.name,
                                  hint="raise page_size (up to 1000) for this connection")
            start = end

    def _get(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        try:
            body = self.client.get(path, params=params)
        except SourceError as exc:
            if exc.status == 403:
                raise SourceError(f"{exc.message}: Zendesk's incremental exports are for admins only",
                                  connection=self.config.name, status=403,
                                  hint="use the API token or OAuth token of an admin") from None
            raise
        if not isinstance(body, dict):
            raise SourceError(f"Zendesk answered {path} with something that is not a JSON object",
                              connection=self.config.name, retriable=True)
        return body


def schema_of(stream: str) -> pa.Schema:
    """The raw table's Arrow schema of ``stream`` (JSON columns are text; ``id`` is never null)."""
    import pyarrow as pa

    kinds = {S: pa.string(), I: pa.int64(), B: pa.bool_(), J: pa.string()}
    return pa.schema([pa.field(name, kinds[kind], nullable=name != "id") for name, kind in COLUMNS[stream]])


def _row(stream: str, record: dict[str, Any]) -> dict[str, Any]:
    row = {name: record.get(name) for name, _ in COLUMNS[stream]}
    for name, kind in COLUMNS[stream]:
        if kind == J and row[name] is not None:
            row[name] = orjson.dumps(row[name]).decode()
    if stream == "tickets":
        row["deleted"] = record.get("status") == "deleted"
    elif stream == "users":
        row["deleted"] = record.get("active") is False
    else:
        row["deleted"] = record.get("deleted_at") is not None
    return row


def _changed_at(stream: str, row: dict[str, Any]) -> datetime | None:
    if stream == "tickets" and isinstance(row.get("generated_timestamp"), int):
        return datetime.fromtimestamp(row["generated_timestamp"], tz=timezone.utc)
    return parse_time(row.get("updated_at"))


def _stamp(stream: str, record: dict[str, Any]) -> tuple[int, str]:
    """What orders two exported versions of one record: the ticket export's ``generated_timestamp``, then
    ``updated_at`` (ISO 8601 in one format, so text order is time order)."""
    generated = record.get("generated_timestamp") if stream == "tickets" else None
    return (generated if isinstance(generated, int) else 0, str(record.get("updated_at") or ""))


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None
