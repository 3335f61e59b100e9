"""Salesforce REST: Contact and Account through SOQL, fields discovered by describe, incremental on SystemModstamp.

Queries go to ``/queryAll`` so that records deleted since the last run arrive with ``IsDeleted = true`` instead of
silently vanishing, and page through ``nextRecordsUrl`` exactly as given. Column types follow describe (booleans,
integers and decimals typed; text, ids, dates and datetimes kept as the strings Salesforce sends, to be typed by staging
models).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.compute as pc

from sources.auth import OAUTH_KEYS, OAuthProfile
from sources.base import Connector, ReadState, Stream, batched, max_time, prefetch, records_to_table
from sources import notices, versions
from sources.http import VendorProfile

DEFAULT_API_VERSION = versions.TESTED["salesforce"]
SKIPPED_TYPES = frozenset({"address", "location", "base64"})  # compound and binary fields cannot be selected as-is
ARROW_TYPES = {"boolean": pa.bool_(), "int": pa.int64(), "long": pa.int64(), "double": pa.float64(),
               "currency": pa.float64(), "percent": pa.float64()}


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
        Stream("Contact", "contact", primary_key="Id", cursor_field="SystemModstamp"),
        Stream("Account", "account", primary_key="Id", cursor_field="SystemModstamp"),
    )
    default_streams = ("Contact", "Account")
    options = ("api_version", "auth_url")
    secret_keys = ("token", *OAUTH_KEYS)
    # Sessions carry no expiry: one is good until the API answers 401 INVALID_SESSION_ID. The token endpoint is on
    # the login host (auth_url: login.salesforce.com, test.salesforce.com for sandboxes, or a My Domain URL).
    # The token answer's instance_url is where the org's API lives; base_url may be the login host.
    oauth = OAuthProfile(token_path="/services/oauth2/token", expired_marker="INVALID_SESSION_ID",
                         url_option="auth_url", default_url="https://login.salesforce.com", vendor="Salesforce",
                         instance_url=True)

    @property
    def api(self) -> str:
        return f"/services/data/v{versions.api_version('salesforce', self.config.options)}"

    def describe(self, stream: Stream) -> list[dict[str, Any]]:
        """The object's selectable fields, from describe."""
        body = self.client.get(f"{self.api}/sobjects/{stream.name}/describe")
        return [f for f in body.get("fields", []) if f.get("type") not in SKIPPED_TYPES]

    def read(self, stream: Stream, since: datetime | None, state: ReadState) -> Iterator[pa.Table]:
        fields = self.describe(stream)
        names = [f["name"] for f in fields]
        schema = pa.schema([pa.field(f["name"], ARROW_TYPES.get(f.get("type"), pa.string()),
                                     nullable=f["name"] != stream.primary_key) for f in fields])
        soql = f"SELECT {', '.join(names)} FROM {stream.name}"
        if since is not None:
            soql += f" WHERE {stream.cursor_field} >= {since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        soql += f" ORDER BY {stream.cursor_field} ASC"
        tables = (records_to_table(records, schema) for records in prefetch(self._query(soql)))
        for table in batched(tables):
            state.rows += table.num_rows
            state.see(max_time([pc.max(table.column(stream.cursor_field)).as_py()]))
            yield table

    def _query(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        headers = {"Sforce-Query-Options": "batchSize=2000"}
        body = self.client.get(f"{self.api}/queryAll", params={"q": soql}, headers=headers)
        while True:
            yield body.get("records", [])
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            body = self.client.get(next_url, headers=headers)
