"""Salesforce REST: any sObject through SOQL, fields discovered by describe, incremental on SystemModstamp.

Contact, Account, Lead, Opportunity and Case are declared (the built-in staging models read them); a connection's
``streams`` may also name any other object the org has (Task, a custom ``Thing__c``): it lands in
``raw_<connection>.<name lower-cased>``. An object the org does not have fails its read with the closest names from
describeGlobal.

Queries go to ``/queryAll`` so that records deleted since the last run arrive with ``IsDeleted = true`` instead of
silently vanishing, and page through ``nextRecordsUrl`` exactly as given. Column types follow describe (booleans,
integers and decimals typed; text, ids, dates and datetimes kept as the strings Salesforce sends, to be typed by staging
models).

A SOQL query travels in the URL, and Salesforce refuses a URI over 16,384 bytes with 414: an org with a few hundred
custom fields has more field names than that. Then the fields are split into groups; the first group pages the records
as usual, and each page's other fields are read by ``Id IN (...)`` per group and joined on Id (the way around that
simple-salesforce #271 and most ETL tools settled on).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any


from hub.errors import SourceError
from hub.sources.auth import OAUTH_KEYS, OAuthProfile
from hub.integrations.salesforce import versions as salesforce_versions
from hub.sources import notices, versions
from hub.sources.base import (Connector, ReadState, Stream, batched, chunks, hold_known, max_time, prefetch,
                              records_to_table)
from hub.sources.http import VendorProfile

if TYPE_CHECKING:  # pyarrow and httpx load when a stream is read: `hub status` declares connectors without them
    import httpx
    import pyarrow as pa

    from hub.config import ConnectionConfig
    from hub.sources.http import ApiClient

DEFAULT_API_VERSION = salesforce_versions.TESTED
DELETED_MIN_WINDOW = timedelta(minutes=3)
#: URL-encoded characters of field names one query may carry. Salesforce takes 16,384 bytes of URI and headers
#: together; a group this size plus an Id list (below) and the headers stays well inside it.
FIELD_BUDGET = 6_000
IDS_PER_QUERY = 200     # Ids of one ``Id IN (...)``: about 4,800 characters of URL
SKIPPED_TYPES = frozenset({"address", "location", "base64"})  # compound and binary fields cannot be selected as-is
#: the pyarrow type (its factory's name) of each Salesforce field type that is not text
ARROW_TYPES = {"boolean": "bool_", "int": "int64", "long": "int64", "double": "float64", "currency": "float64",
               "percent": "float64"}


class SalesforceVendor(VendorProfile):
    """Salesforce's array error bodies; 403 REQUEST_LIMIT_EXCEEDED is the daily API limit, not worth a retry."""

    name = "Salesforce"

    def notice(self, response: httpx.Response, seen: notices.Seen) -> None:
        """Besides deprecation headers, ``Sforce-Limit-Info: api-usage=N/M`` (the org's daily API usage)."""
        info = response.headers.get("sforce-limit-info")
        if info:
            usage = _api_usage(info)
            if usage is not None:
                seen.note_usage(*usage)
        super().notice(response, seen)

    def request_id(self, response: httpx.Response, body: Any) -> str | None:
        """The ErrorId Salesforce puts in an unexpected error's message ("include this ErrorId if you contact
        support: 1234567890-12345 (-1234567890)")."""
        if isinstance(body, list) and body and isinstance(body[0], dict):
            found = _ERROR_ID.search(str(body[0].get("message", "")))
            return found.group(1) if found else None
        return None

    def error_message(self, response: httpx.Response, body: Any) -> str:
        if response.status_code == 410 and "/services/data/v" in response.request.url.path:
            version = response.request.url.path.split("/")[3]
            return (f"API version {version} is retired (410 Gone): pin a supported api_version in hub.toml "
                    f"(tested: {DEFAULT_API_VERSION})")
        if isinstance(body, list) and body and isinstance(body[0], dict):
            first = body[0]
            return f"{first.get('errorCode', 'ERROR')}: {first.get('message', '')}".strip()
        return super().error_message(response, body)


_ERROR_ID = re.compile(r"ErrorId[^:]*:\s*(-?\d+-\d+(?: \(-?\d+\))?)")


def _api_usage(info: str) -> tuple[int, int] | None:
    """``(used, limit)`` from ``api-usage=10018/100000; api-bursts=1/750``."""
    for part in info.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "api-usage":
            used, _, limit = value.partition("/")
            if used.isdigit() and limit.isdigit():
                return int(used), int(limit)
    return None


class Salesforce(Connector):
    """Salesforce sObjects over the REST API."""

    type = "salesforce"
    vendor = SalesforceVendor
    default_base_url = None   # every org has its own instance URL
    streams = Connector.declare(
        Stream("Contact", "contact", primary_key="Id", cursor_field="SystemModstamp", deleted_flag="IsDeleted",
               expects=("Email", "FirstName", "LastName", "Phone", "MobilePhone", "AccountId", "Title",
                        "MailingCity", "MailingCountry", "LeadSource", "CreatedDate", "LastModifiedDate")),
        Stream("Account", "account", primary_key="Id", cursor_field="SystemModstamp", deleted_flag="IsDeleted",
               expects=("Name", "Website", "Phone", "Industry", "BillingCity", "BillingCountry", "NumberOfEmployees",
                        "AnnualRevenue", "CreatedDate", "LastModifiedDate")),
        Stream("Lead", "lead", primary_key="Id", cursor_field="SystemModstamp", deleted_flag="IsDeleted",
               expects=("Email", "FirstName", "LastName", "Phone", "Company", "Status", "LeadSource", "IsConverted",
                        "ConvertedContactId", "CreatedDate", "LastModifiedDate")),
        Stream("Opportunity", "opportunity", primary_key="Id", cursor_field="SystemModstamp",
               deleted_flag="IsDeleted",
               expects=("Name", "StageName", "IsClosed", "IsWon", "Amount", "CloseDate", "AccountId", "ContactId",
                        "CreatedDate", "LastModifiedDate")),
        Stream("Case", "case", primary_key="Id", cursor_field="SystemModstamp", deleted_flag="IsDeleted",
               expects=("Subject", "Status", "Priority", "SuppliedEmail", "ContactId", "AccountId", "CreatedDate",
                        "LastModifiedDate")),
    )
    hidden_cause = ("most likely field-level security: the integration user's profile or permission sets cannot "
                    "read them; grant Read in Setup > Object Manager > the object > Fields > Set Field-Level Security")
    default_streams = ("Contact", "Account")
    options = ("api_version", "auth_url")
    # the delete log and the Recycle Bin keep 15 days; a day's margin for clocks and long runs
    deletions_kept = timedelta(days=14)
    secret_keys = ("token", *OAUTH_KEYS)
    base_url_example = "https://yourcompany.my.salesforce.com"
    # Sessions carry no expiry: one is good until the API answers 401 INVALID_SESSION_ID. The token endpoint is on
    # the login host (auth_url: login.salesforce.com, test.salesforce.com for sandboxes, or a My Domain URL).
    # The token answer's instance_url is where the org's API lives; base_url may be the login host.
    oauth = OAuthProfile(token_path="/services/oauth2/token", expired_marker="INVALID_SESSION_ID",
                         url_option="auth_url", default_url="https://login.salesforce.com", vendor="Salesforce",
                         instance_url=True)

    def __init__(self, config: ConnectionConfig, client: ApiClient) -> None:
        super().__init__(config, client)
        self.streams = self.stream_catalog(config)  # type: ignore[misc]  # this connection's objects, not the class's

    @classmethod
    def stream_catalog(cls, config: ConnectionConfig) -> dict[str, Stream]:
        """The declared objects plus any other the connection's ``streams`` names (whether the org has it is for
        describe to say: names that are not sObject API names are left out, so the config check refuses them)."""
        extra = {name: any_object(name) for name in config.streams or () if name not in cls.streams
                 and API_NAME.match(name)}
        return {**cls.streams, **extra}

    @classmethod
    def check_config(cls, name: str, body: dict[str, Any], text: str) -> None:
        """A pinned ``api_version`` must be a Salesforce version Salesforce still serves."""
        from hub.config import line_of

        if "api_version" in body:
            salesforce_versions.check(name, body["api_version"],
                                      line=line_of(text, ["connections", name], "api_version"))

    @property
    def api(self) -> str:
        return f"/services/data/v{versions.api_version('salesforce', self.config.options)}"

    def describe(self, stream: Stream) -> list[dict[str, Any]]:
        """The object's selectable fields, from describe; an object the org lacks fails with the closest names."""
        try:
            body = self.client.get(f"{self.api}/sobjects/{stream.name}/describe")
        except SourceError as exc:
            if exc.status != 404:
                raise
            raise self._no_such_object(stream.name) from None
        fields = [f for f in body.get("fields", []) if f.get("type") not in SKIPPED_TYPES]
        names = {f["name"] for f in fields}
        missing = [n for n in (stream.primary_key, stream.cursor_field) if n and n not in names]
        if missing or not body.get("queryable", True):
            raise SourceError(f"{stream.name}: Salesforce cannot replicate this object (it is not queryable or has "
                              f"no {', '.join(missing) or 'Id'})", connection=self.config.name,
                              hint=f"remove {stream.name} from [connections.{self.config.name}] streams")
        return fields

    def _no_such_object(self, name: str) -> SourceError:
        """The error for an object describe does not know: the org's closest names, from describeGlobal."""
        import difflib

        body = self.client.get(f"{self.api}/sobjects")
        known = {o["name"].lower(): o["name"] for o in body.get("sobjects", []) if o.get("queryable", True)}
        close = difflib.get_close_matches(name.lower(), list(known), n=3, cutoff=0.5)
        hint = (f"did you mean {' or '.join(repr(known[c]) for c in close)}? " if close else "") + \
            f"(the org has {len(known)} queryable objects: GET /services/data/vXX.X/sobjects lists them)"
        return SourceError(f"{name}: the Salesforce org has no sObject '{name}', or this user cannot see it",
                           connection=self.config.name, hint=hint)

    def read(self, stream: Stream, since: datetime | None, state: ReadState) -> Iterator[pa.Table]:
        fields = self.describe(stream)
        names = [f["name"] for f in fields]
        absent = self.absent(stream, names, state)   # not selected (INVALID_FIELD): null columns instead
        keep = tuple(n for n in (stream.primary_key, stream.cursor_field, stream.deleted_flag) if n)
        first, *others = field_groups(names, keep=keep)
        soql = f"SELECT {', '.join(first)} FROM {stream.name}"
        if since is not None:
            soql += f" WHERE {stream.cursor_field} >= {since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        soql += f" ORDER BY {stream.cursor_field} ASC"
        if since is not None:
            # asked first, so a record deleted while the query pages is in queryAll's answer or in this list
            state.deleted = self.deleted_ids(stream, state.deleted_since or since)
        pages = self._query(soql) if not others else self._joined(stream, self._query(soql), others)
        pages = prefetch(pages)
        if since is not None and stream.primary_key in names and stream.cursor_field in names:
            key, cursor = stream.primary_key, stream.cursor_field
            # the records loaded last time, sent again at the cursor, need no Arrow
            pages = hold_known(pages, state, lambda records: records, key=lambda r: r.get(key),
                               cursor=lambda r: r.get(cursor))
        yield from self._tables(stream, fields, absent, pages, state)

    def _tables(self, stream: Stream, fields: list[dict[str, Any]], absent: list[str],
                pages: Iterator[list[dict[str, Any]]], state: ReadState) -> Iterator[pa.Table]:
        """``pages`` as Arrow tables typed after describe, of about BATCH_ROWS rows; no page, no pyarrow import."""
        first = next(pages, None)
        if first is None:
            return
        import pyarrow as pa
        import pyarrow.compute as pc

        schema = pa.schema([*(pa.field(f["name"], getattr(pa, ARROW_TYPES.get(f.get("type"), "string"))(),
                                       nullable=f["name"] != stream.primary_key) for f in fields),
                            *(pa.field(name, pa.string()) for name in absent)])
        tables = (records_to_table(records, schema) for records in itertools.chain([first], pages))
        for table in batched(tables):
            state.rows += table.num_rows
            state.see(max_time([pc.max(table.column(stream.cursor_field)).as_py()]))
            yield table

    def deleted_ids(self, stream: Stream, since: datetime) -> list[str]:
        """Ids deleted since ``since``, from the delete log (it also holds records purged from the Recycle Bin).

        queryAll shows a deleted record only while it sits in the Recycle Bin (15 days, less if emptied); the delete
        log covers the same 15 days and records purged early. A start the log no longer covers is refused with
        INVALID_REPLICATION_DATE: the only safe way on is a full pull, which the error says.
        """
        # the log counts whole minutes: end at the next one, so a deletion in the current minute is asked for too
        end = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)
        # the log ignores seconds and wants start more than a minute before end: widen a short window backwards
        # (reading a deletion twice is harmless, missing one is not)
        since = min(since, end - DELETED_MIN_WINDOW)
        params = {"start": _sf_time(since), "end": _sf_time(end)}
        try:
            body = self.client.get(f"{self.api}/sobjects/{stream.name}/deleted/", params=params)
        except SourceError as exc:
            if "INVALID_REPLICATION_DATE" not in exc.message:
                raise
            reason = exc.message.removeprefix(f"connection '{self.config.name}': ")
            raise SourceError(f"{stream.name}: Salesforce no longer lists the records deleted "
                              f"since {_sf_time(since)} ({reason})", connection=self.config.name,
                              hint=f"run `hub ingest --full-refresh {self.config.name}.{stream.name}`") from None
        earliest = body.get("earliestDateAvailable")
        if earliest and max_time([earliest]) > since:
            raise SourceError(f"{stream.name}: Salesforce purged deleted records up to {earliest}, "
                              f"after the last ingest ({_sf_time(since)}): some deletions can no longer be seen",
                              connection=self.config.name,
                              hint=f"run `hub ingest --full-refresh {self.config.name}.{stream.name}`")
        return [r["id"] for r in body.get("deletedRecords") or [] if r.get("id")]

    def _joined(self, stream: Stream, pages: Iterator[list[dict[str, Any]]],
                groups: list[list[str]]) -> Iterator[list[dict[str, Any]]]:
        """Each page of records with the fields of ``groups`` added, read by Id (queryAll: deleted ones too).

        A record changed between the page and a group's read gets that group's newer values under the page's older
        SystemModstamp; the change is after the pull started, so the next pull reads the record whole again.
        """
        key = stream.primary_key
        for records in pages:
            by_id = {r[key]: r for r in records}
            for group in groups:
                for ids in chunks(list(by_id), IDS_PER_QUERY):
                    quoted = ", ".join(f"'{i}'" for i in ids)   # Ids are [A-Za-z0-9]{18}: nothing to escape
                    soql = f"SELECT {key}, {', '.join(group)} FROM {stream.name} WHERE {key} IN ({quoted})"
                    for rows in self._query(soql):
                        for row in rows:
                            record = by_id.get(row.get(key))
                            if record is not None:
                                record.update((name, row.get(name)) for name in group)
            yield records

    def _query(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        headers = {"Sforce-Query-Options": "batchSize=2000"}
        body = self.client.get(f"{self.api}/queryAll", params={"q": soql}, headers=headers)
        while True:
            yield body.get("records", [])
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            body = self.client.get(next_url, headers=headers)


#: an sObject API name: standard (``Lead``), custom (``Subscription__c``), namespaced (``ns__Thing__c``)
API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")


def any_object(name: str) -> Stream:
    """The stream of an sObject the connector does not declare: keyed and paged like every replicable object."""
    return Stream(name, name.lower(), primary_key="Id", cursor_field="SystemModstamp", deleted_flag="IsDeleted")


def field_groups(names: list[str], keep: tuple[str, ...]) -> list[list[str]]:
    """``names`` in groups of at most :data:`FIELD_BUDGET` URL characters, the ``keep`` fields first in the first."""
    groups: list[list[str]] = [[n for n in keep if n in names]]
    size = sum(len(n) + 4 for n in groups[0])   # ", " is 4 characters in a URL (%2C+)
    for name in names:
        if name in keep:
            continue
        if size + len(name) + 4 > FIELD_BUDGET:
            groups.append([])
            size = 0
        groups[-1].append(name)
        size += len(name) + 4
    return groups


def _sf_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
