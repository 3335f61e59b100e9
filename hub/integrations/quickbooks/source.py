"""QuickBooks Online Accounting API v3: customers, invoices, payments, items and credit memos of one company.

Every request names the company (``/v3/company/<realm_id>/...``) and the pinned ``minorversion`` (75 unless the
connection pins another; Intuit retired 1-74 in 2025). Access tokens last an hour and each refresh hands back a new
refresh token that replaces the spent one: the OAuth layer saves it before using the new access token
(:mod:`hub.sources.auth`), and the token endpoint takes the client credentials as HTTP Basic only.

Full pulls page ``query`` by key, not by offset: ``SELECT * FROM X WHERE MetaData.LastUpdatedTime >= 't'
ORDERBY MetaData.LastUpdatedTime MAXRESULTS 1000``, each page a fresh query from the last time seen (records of that
very second already read are skipped). A record edited meanwhile moves to the end and is read again; a record deleted
meanwhile cannot shift the rest, as it would shift a ``STARTPOSITION`` offset. A second holding more than a page of
records is paged by ``STARTPOSITION`` within that second alone.

Incremental pulls read change data capture (``/cdc?entities=X&changedSince=t``): every record changed since, in full,
and the records deleted since (``status: Deleted``), which the ingest marks ``deleted`` in raw. CDC looks back 30
days (``deletions_kept``: a stream last pulled longer ago is pulled whole again) and answers at most 1,000 objects:
a full answer is read again through ``query`` for the records, with a warning that some deletions may be missed.

Raw rows hold the scalars staging reads as typed columns (amounts as exact text, never floats) and nested lists
(lines, custom fields) as JSON text; fields QuickBooks leaves out (empty, or hidden from the connected user) are NULL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import orjson

from hub.config import ConnectionConfig
from hub.errors import ConfigError
from hub.sources import versions
from hub.sources.auth import OAUTH_KEYS, OAuthProfile
from hub.sources.base import Connector, ReadState, Stream, batched, parse_time, prefetch, records_to_table
from hub.sources.http import ApiClient, VendorProfile, limiter_for

if TYPE_CHECKING:
    import httpx
    import pyarrow as pa

PAGE = 1000                   # MAXRESULTS' ceiling
CDC_MAX = 1000                # objects in one CDC answer, all entities together
RATE, WINDOW = 500, 60.0      # requests a minute per company (realm)
PACE_SHARE = 0.98             # the vendor counts arrivals, the client counts starts
MIN_MINOR_VERSION = 75
THROTTLE_PAUSE = 15.0         # seconds every request waits after a 429; five retries outlast the minute
S, B = "string", "bool"

# stream -> (entity, ((column, dotted path in the record, kind), ...)); kind "json" keeps the value as JSON text
COMMON = (("id", "Id", S), ("sync_token", "SyncToken", S), ("created_time", "MetaData.CreateTime", S),
          ("last_updated_time", "MetaData.LastUpdatedTime", S))
STREAMS: dict[str, tuple[str, tuple[tuple[str, str, str], ...]]] = {
    "customers": ("Customer", (*COMMON,
        ("display_name", "DisplayName", S), ("given_name", "GivenName", S), ("family_name", "FamilyName", S),
        ("company_name", "CompanyName", S), ("email", "PrimaryEmailAddr.Address", S),
        ("phone", "PrimaryPhone.FreeFormNumber", S), ("mobile", "Mobile.FreeFormNumber", S), ("active", "Active", B),
        ("balance", "Balance", S), ("currency", "CurrencyRef.value", S), ("bill_city", "BillAddr.City", S),
        ("bill_country", "BillAddr.Country", S), ("notes", "Notes", S))),
    "invoices": ("Invoice", (*COMMON,
        ("doc_number", "DocNumber", S), ("txn_date", "TxnDate", S), ("due_date", "DueDate", S),
        ("customer_id", "CustomerRef.value", S), ("customer_name", "CustomerRef.name", S),
        ("email", "BillEmail.Address", S), ("total_amt", "TotalAmt", S), ("balance", "Balance", S),
        ("currency", "CurrencyRef.value", S), ("private_note", "PrivateNote", S), ("custom_fields", "CustomField", "json"),
        ("lines", "Line", "json"))),
    "payments": ("Payment", (*COMMON,
        ("txn_date", "TxnDate", S), ("customer_id", "CustomerRef.value", S), ("total_amt", "TotalAmt", S),
        ("unapplied_amt", "UnappliedAmt", S), ("currency", "CurrencyRef.value", S),
        ("payment_ref_num", "PaymentRefNum", S), ("private_note", "PrivateNote", S), ("lines", "Line", "json"))),
    "items": ("Item", (*COMMON,
        ("name", "Name", S), ("type", "Type", S), ("unit_price", "UnitPrice", S), ("active", "Active", B),
        ("sku", "Sku", S))),
    "credit_memos": ("CreditMemo", (*COMMON,
        ("doc_number", "DocNumber", S), ("txn_date", "TxnDate", S), ("customer_id", "CustomerRef.value", S),
        ("total_amt", "TotalAmt", S), ("remaining_credit", "RemainingCredit", S), ("currency", "CurrencyRef.value", S),
        ("private_note", "PrivateNote", S), ("lines", "Line", "json"))),
}


def minorversion_lifecycle(version: str) -> str | None:
    """What Intuit's schedule says of a minor version (1-74 were retired on 1 August 2025)."""
    if version.isdigit() and int(version) < MIN_MINOR_VERSION:
        return (f"QuickBooks minor version {version} was retired on 1 August 2025; requests are answered as "
                f"{MIN_MINOR_VERSION}")
    return None


class QuickBooksVendor(VendorProfile):
    """Intuit's ``Fault`` bodies and its ``intuit_tid`` request ids."""

    name = "QuickBooks"

    def error_message(self, response: httpx.Response, body: Any) -> str:
        errors = fault_errors(body)
        if errors:
            first = errors[0]
            message = str(first.get("Message") or first.get("message") or "")
            detail = str(first.get("Detail") or first.get("detail") or "")
            code = str(first.get("code") or "")
            text = f"{message}: {detail}" if detail and detail not in message else message
            return f"{text} (code {code})" if code else text
        return super().error_message(response, body)

    def request_id(self, response: httpx.Response, body: Any) -> str | None:
        return response.headers.get("intuit_tid")

    #: seconds every request waits after a 429: a quarter of the company's window (of the shortest one configured)
    throttle_pause = THROTTLE_PAUSE

    def retry_delay(self, response: httpx.Response) -> float | None:
        """A 429 (ThrottleExceeded) comes with no Retry-After. hub never runs more than 8 requests at once, so it
        means the company's minute is used up (by this run, or by another app or process on the same company):
        every request of the connection waits 15 s, and the retries span more than the 60-second window."""
        if response.status_code == 429:
            return self.throttle_pause
        return super().retry_delay(response)


def rate_limit(value: Any) -> tuple[int, float] | None:
    """``[requests, seconds]`` from a connection's ``rate_limit`` / ``batch_rate_limit``; None when unset or bad."""
    if not isinstance(value, (list, tuple)) or len(value) != 2 or any(isinstance(v, bool) for v in value):
        return None
    count, window = value
    if not isinstance(count, int) or not isinstance(window, (int, float)) or count < 1 or window <= 0:
        return None
    return count, float(window)


def fault_errors(body: Any) -> list[dict[str, Any]]:
    """The ``Error`` list of a ``Fault`` (the gateway writes ``fault``/``error`` in lower case)."""
    if not isinstance(body, dict):
        return []
    fault = body.get("Fault") or body.get("fault")
    if not isinstance(fault, dict):
        return []
    errors = fault.get("Error") or fault.get("error") or []
    return [e for e in errors if isinstance(e, dict)]


class QuickBooks(Connector):
    """One QuickBooks Online company, through OAuth 2.0 (client id and secret, a refresh token, the realm id)."""

    type = "quickbooks"
    vendor = QuickBooksVendor
    default_base_url = "https://quickbooks.api.intuit.com"
    base_url_example = "https://quickbooks.api.intuit.com (or https://sandbox-quickbooks.api.intuit.com)"
    streams = Connector.declare(*(Stream(name, name, primary_key="id", cursor_field="last_updated_time",
                                         deleted_flag="deleted") for name in STREAMS))
    default_streams = ("customers", "invoices", "payments")
    options = ("api_version", "realm_id", "auth_url", "batch_size", "rate_limit", "batch_rate_limit")
    secret_keys = ("token", *OAUTH_KEYS)
    deletions_kept = timedelta(days=29)   # CDC looks back 30 days; a day's margin for clocks and long runs
    oauth = OAuthProfile(token_path="/oauth2/v1/tokens/bearer", expired_marker="AuthenticationFailed",
                         url_option="auth_url", default_url="https://oauth.platform.intuit.com", vendor="QuickBooks",
                         request_id_headers=("intuit_tid",), client_auth="basic")

    @classmethod
    def check_config(cls, name: str, body: dict[str, Any], text: str) -> None:
        """``realm_id`` is the company's id (digits); a pinned ``api_version`` is a minor version Intuit serves."""
        from hub.config import line_of

        realm = body.get("realm_id")
        if realm is None or not str(realm).isdigit():
            raise ConfigError(f"[connections.{name}] realm_id must be the QuickBooks company id (digits), "
                              f"not {realm!r}" if realm is not None else
                              f"[connections.{name}] needs realm_id (the QuickBooks company id)",
                              file="hub.toml", line=line_of(text, ["connections", name], "realm_id"), key="realm_id",
                              hint="copy the Company ID from QuickBooks > Settings > Account and settings > "
                                   "Billing & subscription, e.g. realm_id = \"9341453050298431\"")
        size = body.get("batch_size")
        if size is not None and (not str(size).isdigit() or not 1 <= int(str(size)) <= 30):
            raise ConfigError(f"[connections.{name}] batch_size must be a whole number from 1 to 30, not {size!r}",
                              file="hub.toml", key="batch_size",
                              line=line_of(text, ["connections", name], "batch_size"),
                              hint="QuickBooks takes at most 30 operations per batch request (default 30)")
        for key, example in (("rate_limit", "[500, 60] (the company's 500 requests a minute, the default)"),
                             ("batch_rate_limit", "[40, 60] (Intuit's limits page: 40 batch requests a minute per "
                                                  "company and app)")):
            if key in body and rate_limit(body[key]) is None:
                raise ConfigError(f"[connections.{name}] {key} must be [requests, seconds] (two numbers above 0), "
                                  f"not {body[key]!r}", file="hub.toml", key=key,
                                  line=line_of(text, ["connections", name], key), hint=f"e.g. {key} = {example}")
        if "api_version" in body:
            value = str(body["api_version"])
            if not value.isdigit() or int(value) < MIN_MINOR_VERSION:
                raise ConfigError(f"[connections.{name}] api_version {value!r} is not a QuickBooks minor version "
                                  f"Intuit still serves", file="hub.toml", key="api_version",
                                  line=line_of(text, ["connections", name], "api_version"),
                                  hint=f"set it to {MIN_MINOR_VERSION} or later, or remove the key")

    @classmethod
    def api_client(cls, config: ConnectionConfig, *, http: httpx.Client | None = None,
                   **client_options: Any) -> ApiClient:
        """The connection's client, paced below the company's limit (``rate_limit``, 500 requests a minute unless
        set; shared by ingest and push), and below ``batch_rate_limit`` for batch requests when that is set.

        The client counts the requests it starts within a window a little longer than the company's (``PACE_SHARE``):
        the company counts arrivals, which come later than starts."""
        base_url = (config.base_url or cls.default_base_url).rstrip("/")
        key = f"{config.name}@{base_url}/{config.options.get('realm_id')}"
        if "limiter" not in client_options:
            count, window = rate_limit(config.options.get("rate_limit")) or (RATE, WINDOW)
            client_options["limiter"] = limiter_for(key, count, window / PACE_SHARE)
        client = super().api_client(config, http=http, **client_options)
        batches = rate_limit(config.options.get("batch_rate_limit"))
        if batches is not None:
            count, window = batches
            client.limit_path("/batch", limiter_for(f"{key}/batch", count, window / PACE_SHARE))
        windows = [limit[1] for limit in (rate_limit(config.options.get("rate_limit")), batches) if limit]
        if windows and isinstance(client.vendor, QuickBooksVendor):
            client.vendor.throttle_pause = min(windows) * THROTTLE_PAUSE / WINDOW
        return client

    # --- requests ---------------------------------------------------------------------------------------------

    @property
    def company(self) -> str:
        return f"/v3/company/{self.config.options['realm_id']}"

    @property
    def minorversion(self) -> str:
        return str(versions.api_version("quickbooks", self.config.options))

    def query(self, statement: str) -> dict[str, Any]:
        """One ``query`` answer's ``QueryResponse`` (sent in the body: an IN list can be long)."""
        return run_query(self.client, self.company, self.minorversion, statement)

    # --- reading ----------------------------------------------------------------------------------------------

    def read(self, stream: Stream, since: datetime | None, state: ReadState) -> Iterator[pa.Table]:
        entity, columns = STREAMS[stream.name]
        schema = schema_of(stream.name)
        if since is None:
            pages = self._by_time(entity, None)
        else:
            changed = since if state.deleted_since is None else min(since, state.deleted_since)
            pages = self._changes(entity, changed, state)
        tables = (records_to_table([flat(r, columns) for r in page], schema) for page in prefetch(pages) if page)
        for table in batched(tables):
            state.rows += table.num_rows
            state.see(max((t for t in map(parse_time, table.column("last_updated_time").to_pylist()) if t),
                          default=None))
            yield table

    def _by_time(self, entity: str, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        """Every record (changed at or after ``since``), paged by its last-updated time."""
        lower, seen = since, set()   # ids already read whose time is ``lower``: the next query returns them again
        while True:
            where = f" WHERE MetaData.LastUpdatedTime >= '{_stamp(lower)}'" if lower else ""
            rows = self.query(f"SELECT * FROM {entity}{where} ORDERBY MetaData.LastUpdatedTime "
                              f"STARTPOSITION 1 MAXRESULTS {PAGE}").get(entity) or []
            fresh = [r for r in rows if not (r.get("Id") in seen and _updated(r) == lower)]
            yield fresh
            if len(rows) < PAGE:
                return
            last = _updated(rows[-1])
            if last is not None and (lower is None or last > lower):
                seen = {r.get("Id") for r in rows if _updated(r) == last}
                lower = last
                continue
            # a whole page of one second (a bulk import): read that second by position, then go on after it
            instant = last or lower
            assert instant is not None
            seen |= {r.get("Id") for r in fresh if _updated(r) == instant}
            yield from self._same_second(entity, instant, seen)
            lower, seen = instant + timedelta(seconds=1), set()

    def _same_second(self, entity: str, instant: datetime, seen: set[Any]) -> Iterator[list[dict[str, Any]]]:
        """The records of one second not read yet, paged by position in Id order. A record leaving this second by an
        edit is read later at its new time; a deletion meanwhile could shift the offset by one, which only a second
        holding over 1,000 records (a bulk import) exposes to."""
        start = 1
        while True:
            rows = self.query(f"SELECT * FROM {entity} WHERE MetaData.LastUpdatedTime = '{_stamp(instant)}' "
                              f"ORDERBY Id STARTPOSITION {start} MAXRESULTS {PAGE}").get(entity) or []
            yield [r for r in rows if r.get("Id") not in seen]
            seen |= {r.get("Id") for r in rows}
            if len(rows) < PAGE:
                return
            start += PAGE

    def _changes(self, entity: str, since: datetime, state: ReadState) -> Iterator[list[dict[str, Any]]]:
        """Change data capture since ``since``: changed records, and the ids of deleted ones into ``state``."""
        body = self.client.get(f"{self.company}/cdc", params={
            "entities": entity, "changedSince": _stamp(since), "minorversion": self.minorversion})
        rows: list[dict[str, Any]] = []
        for answer in body.get("CDCResponse") or []:
            for part in answer.get("QueryResponse") or []:
                rows += part.get(entity) or []
        deleted = [str(r["Id"]) for r in rows if r.get("status") == "Deleted"]
        live = [r for r in rows if r.get("status") != "Deleted"]
        state.deleted = deleted
        if len(rows) >= CDC_MAX:
            state.notices.append(
                f"warning: {self.config.name}: more than {CDC_MAX} {entity} records changed since {_stamp(since)}; "
                f"QuickBooks' change data capture answers {CDC_MAX} at most, so the records were read through query "
                f"and deletions beyond the first {len(deleted)} may be missed until the next full pull "
                f"(hub ingest --full-refresh)")
            yield from self._by_time(entity, since)
            return
        yield live


def run_query(client: ApiClient, company: str, minorversion: str, statement: str) -> dict[str, Any]:
    """POST ``statement`` to ``query`` (``application/text``, as Intuit's SDKs send it); a read, safe to resend."""
    response = client.request("POST", f"{company}/query", params={"minorversion": minorversion},
                              content=statement.encode(), headers={"Content-Type": "application/text"},
                              idempotent=True)
    body = client.json(response)
    return (body or {}).get("QueryResponse") or {}


def schema_of(stream: str) -> pa.Schema:
    import pyarrow as pa

    _, columns = STREAMS[stream]
    fields = [pa.field(name, pa.bool_() if kind == B else pa.string(), nullable=name != "id")
              for name, _, kind in columns]
    return pa.schema([*fields, pa.field("deleted", pa.bool_())])


def flat(record: dict[str, Any], columns: tuple[tuple[str, str, str], ...]) -> dict[str, Any]:
    """One record as a raw row: dotted paths looked up, numbers as their exact text, lists as JSON text."""
    row: dict[str, Any] = {"deleted": False}
    for name, path, kind in columns:
        value: Any = record
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            row[name] = None
        elif kind == "json":
            row[name] = orjson.dumps(value).decode()
        elif kind == B:
            row[name] = bool(value) if isinstance(value, bool) else str(value).lower() == "true"
        elif isinstance(value, float):
            row[name] = repr(value) if not value.is_integer() else f"{value:.1f}"
        else:
            row[name] = value if isinstance(value, str) else orjson.dumps(value).decode() \
                if isinstance(value, (dict, list)) else str(value)
    return row


_OFFSET = re.compile(r"[+-]\d\d:\d\d$")


def _stamp(moment: datetime | None) -> str:
    """A time as QuickBooks' query language and CDC take it (ISO 8601 with its offset, whole seconds)."""
    assert moment is not None
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _updated(record: dict[str, Any]) -> datetime | None:
    return parse_time((record.get("MetaData") or {}).get("LastUpdatedTime"))
