"""Salesforce REST API emulator: describe, SOQL query/queryAll, sObject rows, upserts, collections, OAuth."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from hub.integrations.salesforce.emulator import collections
from hub.sandbox.clock import AnyClock, parse_iso, iso_millis_offset
from hub.sandbox.ratelimit import DailyQuota
from hub.integrations.salesforce.emulator.auth import SalesforceAuth
from hub.integrations.salesforce.emulator.faults import SalesforceFaults
from hub.integrations.salesforce.emulator.query import QueryService, batch_size
from hub.integrations.salesforce.emulator.schema import to_18
from hub.sandbox.routing import Route
from hub.integrations.salesforce.emulator.store import RecordError, SalesforceStore, SObjectTable
from hub.sandbox.server import EmulatorError, HTTPEmulator, Request, Response
from hub.integrations.salesforce.emulator.soql import SOQLError

CONTENT_TYPE = "application/json;charset=UTF-8"
API_VERSIONS = [("Winter '23", "56.0"), ("Spring '23", "57.0"), ("Summer '23", "58.0"), ("Winter '24", "59.0"),
                ("Spring '24", "60.0"), ("Summer '24", "61.0"), ("Winter '25", "62.0")]
_LISTED = frozenset(v for _, v in API_VERSIONS)
RETIRED_THROUGH = 30.0
DATA = r"/services/data/{version:v\d+\.\d+}"
MAX_DELETED_IDS = 600_000
UPDATED_DAYS = 30   # getUpdated looks back 30 days; getDeleted 15 (the Recycle Bin, salesforce_store)


def sf_error(status: int, code: str, message: str, fields: list[str] | None = None) -> EmulatorError:
    """Salesforce's error array [{message, errorCode, fields?}] as a raisable response."""
    entry: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        entry["fields"] = fields
    return EmulatorError(Response(status, orjson.dumps([entry]), content_type=CONTENT_TYPE))


def _json(status: int, payload: Any) -> Response:
    return Response(status, orjson.dumps(payload), content_type=CONTENT_TYPE)


def _record_errors(status: int, errors: list[RecordError]) -> EmulatorError:
    body = [{"message": e["message"], "errorCode": e["statusCode"], "fields": e["fields"]} for e in errors]
    return EmulatorError(Response(status, orjson.dumps(body), content_type=CONTENT_TYPE))


class SalesforceEmulator(HTTPEmulator):
    """A stateful Salesforce REST API on loopback for the org's sObjects (objects.ORG)."""

    server_name = "salesforce"
    fault_style = SalesforceFaults

    def __init__(self, store: SalesforceStore, clock: AnyClock, *, seed: int = 7, host: str = "127.0.0.1",
                 port: int = 0, tls: ssl.SSLContext | None = None, api_limit: int = 100_000) -> None:
        super().__init__(host, port, tls)
        self.store = store
        self.clock = clock
        self.auth = SalesforceAuth(seed, clock)
        self.usage = DailyQuota(api_limit, clock.seconds)
        self.queries = QueryService(store)
        self._describe_cache: dict[tuple[str, str], bytes] = {}
        add = self.router.add
        public = {"public": True}
        add("POST", "/services/oauth2/token", self.oauth_token, public)
        add("GET", "/services/data", self.versions, public)
        add("GET", DATA, self.resources)
        add("GET", DATA + "/limits", self.limits)
        add("GET", DATA + "/sobjects", self.describe_global)
        add("GET", DATA + "/sobjects/{sobject}", self.sobject_info)
        add("GET", DATA + "/sobjects/{sobject}/describe", self.describe)
        add("GET", DATA + "/sobjects/{sobject}/deleted", self.deleted)
        add("GET", DATA + "/sobjects/{sobject}/updated", self.updated)
        add("POST", DATA + "/sobjects/{sobject}", self.create_record)
        add("GET", DATA + "/sobjects/{sobject}/{recordId}", self.get_record)
        add("PATCH", DATA + "/sobjects/{sobject}/{recordId}", self.update_record)
        add("DELETE", DATA + "/sobjects/{sobject}/{recordId}", self.delete_record)
        add("GET", DATA + "/sobjects/{sobject}/{field}/{value}", self.get_by_external_id)
        add("PATCH", DATA + "/sobjects/{sobject}/{field}/{value}", self.upsert_record)
        for endpoint in ("query", "queryAll"):
            add("GET", f"{DATA}/{endpoint}", self.query)
            add("GET", f"{DATA}/{endpoint}/{{locator}}", self.query_more)
        add("POST", DATA + "/composite/sobjects", self.collection_create)
        add("PATCH", DATA + "/composite/sobjects", self.collection_update)
        add("DELETE", DATA + "/composite/sobjects", self.collection_delete)
        add("GET", DATA + "/composite/sobjects/{sobject}", self.collection_retrieve)
        add("PATCH", DATA + "/composite/sobjects/{sobject}/{field}", self.collection_upsert)

    @property
    def token(self) -> str:
        """A valid access token (session id) for the Authorization: Bearer header."""
        return self.auth.access_token

    def to_state(self) -> dict[str, Any]:
        """The org's records (recycle bin included), for the sandbox's state file."""
        return self.store.to_state()

    def credentials(self) -> dict[str, str]:
        """A connection's ``token``: a session id."""
        return {"token": self.token}

    # --- cross-cutting -------------------------------------------------------------------------

    def dispatch(self, request: Request, route: Route) -> Response:
        """Check the session, count the call against the daily API limit, add Sforce-Limit-Info."""
        if (route.meta or {}).get("public"):
            return route.handler(request)
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not self.auth.valid(token.strip()):
            raise sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        version = request.params.get("version")
        if version is not None and version[1:] not in _LISTED:
            # retired versions (up to 30.0) answer 410 GONE (Salesforce's API End-of-Life Policy); unknown ones 404
            if float(version[1:]) <= RETIRED_THROUGH:
                raise sf_error(410, "GONE", f"API version {version[1:]} is retired and unavailable")
            raise sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        usage = self.usage.hit()
        limit_info = {"Sforce-Limit-Info": f"api-usage={usage.limit - usage.remaining}/{usage.limit}"}
        if not usage.allowed:
            response = sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.").response
        else:
            try:
                response = route.handler(request)
            except EmulatorError as exc:
                response = exc.response
            except SOQLError as exc:
                response = sf_error(400, exc.code, exc.message).response
        response.headers.update(limit_info)
        return response

    def no_route(self, request: Request, other_method: bool) -> Response:
        """Salesforce's 404 NOT_FOUND / 405 METHOD_NOT_ALLOWED arrays."""
        if other_method:
            return sf_error(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed. Allowed are "
                                                       "GET,PATCH,POST,DELETE,HEAD").response
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist").response

    def uri_too_long(self) -> Response:
        """Salesforce's front end (Jetty) refuses a URI over 16,384 bytes with this HTML page, not a JSON array."""
        return Response(414, b"<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>", content_type="text/html")

    def internal_error(self, request: Request) -> Response:
        """Salesforce's 500 array."""
        return sf_error(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if "
                                                  "you contact support: 1234567890-12345 (-1234567890)").response

    # --- helpers -------------------------------------------------------------------------------

    def _table(self, request: Request) -> SObjectTable:
        name = request.params["sobject"]
        table = self.store.table(name)
        if table is None:
            raise sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        return table

    @staticmethod
    def _body(request: Request) -> Any:
        try:
            return request.json()
        except ValueError as exc:
            raise sf_error(400, "JSON_PARSER_ERROR", f"Unexpected character in request body: {exc}") from None

    def _render(self, table: SObjectTable, record: dict[str, Any], version: str,
                fields: list[str] | None = None) -> dict[str, Any]:
        name = table.sobject.name
        out: dict[str, Any] = {"attributes": {"type": name,
                                              "url": f"/services/data/{version}/sobjects/{name}/{record['Id']}"}}
        for fld in table.sobject.fields:
            if fields is None or fld.name.lower() in fields:
                out[fld.name] = record.get(fld.name)
        return out

    def _live_record(self, table: SObjectTable, raw_id: str) -> dict[str, Any]:
        rid = to_18(raw_id)
        if rid is None:
            raise sf_error(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: "
                                             f"{raw_id}")
        record = table.records.get(rid)
        if record is None:
            raise sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        if record["IsDeleted"]:
            raise sf_error(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        return record

    # --- metadata ------------------------------------------------------------------------------

    def oauth_token(self, request: Request) -> Response:
        """POST /services/oauth2/token with grant_type=refresh_token."""
        form = request.form()
        if form.get("grant_type") != "refresh_token":
            return _json(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        if form.get("client_id") != self.auth.client_id:
            return _json(400, {"error": "invalid_client_id", "error_description": "client identifier invalid"})
        if "client_secret" in form and form["client_secret"] != self.auth.client_secret:
            return _json(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
        if not self.auth.valid_refresh_token(form.get("refresh_token")):
            return _json(400, {"error": "invalid_grant", "error_description": "expired access/refresh token"})
        issued_at = str(self.clock.millis())
        identity = f"https://login.salesforce.com/id/{self.auth.org_id}AAA/{self.store.user_id}"
        return _json(200, {"access_token": self.auth.issue(), "signature": self.auth.signature(identity, issued_at),
                           "scope": "refresh_token api", "instance_url": self.url, "id": identity,
                           "token_type": "Bearer", "issued_at": issued_at})

    def versions(self, request: Request) -> Response:
        """GET /services/data/."""
        return _json(200, [{"label": label, "url": f"/services/data/v{v}", "version": v} for label, v in API_VERSIONS])

    def resources(self, request: Request) -> Response:
        """GET /services/data/vXX.X/."""
        base = f"/services/data/{request.params['version']}"
        names = ("sobjects", "query", "queryAll", "composite", "limits", "search", "recent", "tooling")
        return _json(200, {name: f"{base}/{name}" for name in names})

    def limits(self, request: Request) -> Response:
        """GET /services/data/vXX.X/limits."""
        remaining = max(self.usage.limit - self.usage.used, 0)
        return _json(200, {"DailyApiRequests": {"Max": self.usage.limit, "Remaining": remaining}})

    def describe_global(self, request: Request) -> Response:
        """GET /services/data/vXX.X/sobjects/."""
        version = request.params["version"]
        return _json(200, {"encoding": "UTF-8", "maxBatchSize": 200,
                           "sobjects": [t.summary(version) for t in self.store.sobjects.values()]})

    def sobject_info(self, request: Request) -> Response:
        """GET /services/data/vXX.X/sobjects/{Object}/."""
        table = self._table(request)
        return _json(200, {"objectDescribe": table.sobject.summary(request.params["version"]), "recentItems": []})

    def describe(self, request: Request) -> Response:
        """GET /services/data/vXX.X/sobjects/{Object}/describe."""
        table = self._table(request)
        key = (table.sobject.name, request.params["version"])
        if key not in self._describe_cache:
            self._describe_cache[key] = orjson.dumps(table.sobject.describe(key[1]))
        return Response(200, self._describe_cache[key], content_type=CONTENT_TYPE)

    def _window(self, request: Request, earliest_ms: int) -> tuple[int, int, int]:
        try:
            start = parse_iso(request.arg("start") or "")
            end = parse_iso(request.arg("end") or "")
        except ValueError:
            raise sf_error(400, "MISSING_ARGUMENT", "start and end must be ISO-8601 datetimes, e.g. "
                                                    "2024-05-01T00:00:00+00:00") from None
        now = self.clock.now()
        # the API ignores seconds, and wants start more than a minute before end
        start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
        earliest = datetime.fromtimestamp(earliest_ms / 1000, tz=UTC).replace(second=0, microsecond=0)
        if end - start <= timedelta(minutes=1):
            raise sf_error(400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate by "
                                                            "more than one minute")
        if start < earliest:
            raise sf_error(400, "INVALID_REPLICATION_DATE", f"startDate is before the earliest date available "
                                                            f"({iso_millis_offset(int(earliest.timestamp() * 1000))})")
        latest = min(end, now).replace(second=0, microsecond=0)
        return int(start.timestamp() * 1000), int(latest.timestamp() * 1000), int(earliest.timestamp() * 1000)

    def deleted(self, request: Request) -> Response:
        """GET .../sobjects/{Object}/deleted/?start=&end=: the delete log, 15 days back (less once the Recycle Bin
        was emptied); it lists records erased from the bin too, but not those undeleted since."""
        table = self._table(request)
        with self.store.lock:
            earliest_ms = self.store.earliest_deleted_ms(table)
        start, latest, earliest = self._window(request, earliest_ms)
        with self.store.lock:
            self.store.records(table.sobject.name)   # ages out what has sat in the bin for 15 days
            rows = [{"id": rid, "deletedDate": iso_millis_offset(ms)} for rid, ms in table.deleted_log
                    if start <= ms <= latest and table.records.get(rid, {"IsDeleted": True})["IsDeleted"]]
            if len(rows) > MAX_DELETED_IDS:
                raise sf_error(400, "EXCEEDED_ID_LIMIT", f"More than {MAX_DELETED_IDS:,} ids were found; choose "
                                                         "start and end dates closer together")
        return _json(200, {"deletedRecords": rows, "earliestDateAvailable": iso_millis_offset(earliest),
                           "latestDateCovered": iso_millis_offset(latest)})

    def updated(self, request: Request) -> Response:
        """GET .../sobjects/{Object}/updated/?start=&end=."""
        table = self._table(request)
        start, latest, _ = self._window(request, self.clock.millis() - UPDATED_DAYS * 86_400_000)
        low, high = iso_millis_offset(start), iso_millis_offset(latest)
        with self.store.lock:
            ids = [r["Id"] for r in self.store.records(table.sobject.name)
                   if not r["IsDeleted"] and low <= r["SystemModstamp"] <= high]
        return _json(200, {"ids": ids, "latestDateCovered": high})

    # --- query ---------------------------------------------------------------------------------

    def query(self, request: Request) -> Response:
        """GET .../query?q= and .../queryAll?q=."""
        text = request.arg("q")
        if not text:
            raise sf_error(400, "MALFORMED_QUERY", "A query string has to be specified")
        endpoint = "queryAll" if request.template.endswith("/queryAll") else "query"
        body = self.queries.run(text, endpoint=endpoint, batch=batch_size(request.header("sforce-query-options")),
                                version=request.params["version"])
        return Response(200, body, content_type=CONTENT_TYPE)

    def query_more(self, request: Request) -> Response:
        """GET .../query/{locator}-{offset} (the nextRecordsUrl of a previous page)."""
        body = self.queries.more(request.params["locator"], request.params["version"])
        return Response(200, body, content_type=CONTENT_TYPE)

    # --- single records ------------------------------------------------------------------------

    def get_record(self, request: Request) -> Response:
        """GET .../sobjects/{Object}/{Id}?fields=."""
        table = self._table(request)
        wanted = request.arg("fields")
        fields = [f.strip().lower() for f in wanted.split(",")] if wanted else None
        with self.store.lock:
            record = self._live_record(table, request.params["recordId"])
            return _json(200, self._render(table, record, request.params["version"], fields))

    def create_record(self, request: Request) -> Response:
        """POST .../sobjects/{Object}/ -> 201 {id, success, errors}."""
        table = self._table(request)
        body = self._body(request)
        if not isinstance(body, dict):
            raise sf_error(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        with self.store.lock:
            values, errors = self.store.check(table, body, creating=True)
            if errors:
                raise _record_errors(400, errors)
            record = self.store.insert(table, values)
        return _json(201, {"id": record["Id"], "success": True, "errors": []})

    def update_record(self, request: Request) -> Response:
        """PATCH .../sobjects/{Object}/{Id} -> 204."""
        table = self._table(request)
        body = self._body(request)
        with self.store.lock:
            record = self._live_record(table, request.params["recordId"])
            values, errors = self.store.check(table, body if isinstance(body, dict) else {}, creating=False,
                                              own_id=record["Id"])
            if errors:
                raise _record_errors(400, errors)
            self.store.apply(table, record["Id"], values)
        return Response(204)

    def delete_record(self, request: Request) -> Response:
        """DELETE .../sobjects/{Object}/{Id} -> 204."""
        table = self._table(request)
        with self.store.lock:
            record = self._live_record(table, request.params["recordId"])
            self.store.remove(table, record["Id"])
        return Response(204)

    def _external_field(self, table: SObjectTable, name: str) -> str:
        fld = table.sobject.external_id_field(name)
        if fld is None or fld.type == "id":
            raise sf_error(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}")
        return fld.name

    def get_by_external_id(self, request: Request) -> Response:
        """GET .../sobjects/{Object}/{ExternalIdField}/{value}."""
        table = self._table(request)
        field_name = self._external_field(table, request.params["field"])
        version = request.params["version"]
        with self.store.lock:
            matches = table.by_external(field_name, request.params["value"])
            if len(matches) > 1:
                return _json(300, [f"/services/data/{version}/sobjects/{table.sobject.name}/{m}" for m in matches])
            if not matches:
                raise sf_error(404, "NOT_FOUND", "The requested resource does not exist")
            return _json(200, self._render(table, table.records[matches[0]], version))

    def upsert_record(self, request: Request) -> Response:
        """PATCH .../sobjects/{Object}/{ExternalIdField}/{value}: 201 created, 200 updated, 300 ambiguous."""
        table = self._table(request)
        field_name = self._external_field(table, request.params["field"])
        body = self._body(request)
        value, version = request.params["value"], request.params["version"]
        fields = {k: v for k, v in (body or {}).items() if k.lower() != field_name.lower()}
        with self.store.lock:
            matches = table.by_external(field_name, value)
            if len(matches) > 1:
                return _json(300, [f"/services/data/{version}/sobjects/{table.sobject.name}/{m}" for m in matches])
            if matches:
                values, errors = self.store.check(table, fields, creating=False, own_id=matches[0])
                if errors:
                    raise _record_errors(400, errors)
                self.store.apply(table, matches[0], values)
                return _json(200, {"id": matches[0], "success": True, "errors": [], "created": False})
            values, errors = self.store.check(table, {**fields, field_name: value}, creating=True)
            if errors:
                raise _record_errors(400, errors)
            record = self.store.insert(table, values)
        return _json(201, {"id": record["Id"], "success": True, "errors": [], "created": True})

    # --- sObject Collections -------------------------------------------------------------------

    def _records(self, request: Request) -> tuple[list[Any], bool]:
        body = self._body(request)
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise sf_error(400, "JSON_PARSER_ERROR", "The request body needs a records array")
        if len(records) > collections.MAX_RECORDS:
            raise sf_error(400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than "
                                                     f"{collections.MAX_RECORDS} records into this call")
        return records, bool(body.get("allOrNone", False))

    def collection_create(self, request: Request) -> Response:
        """POST .../composite/sobjects."""
        records, all_or_none = self._records(request)
        with self.store.lock:
            return _json(200, collections.create_many(self.store, records, all_or_none))

    def collection_update(self, request: Request) -> Response:
        """PATCH .../composite/sobjects (by Id)."""
        records, all_or_none = self._records(request)
        with self.store.lock:
            return _json(200, collections.update_many(self.store, records, all_or_none))

    def collection_upsert(self, request: Request) -> Response:
        """PATCH .../composite/sobjects/{Object}/{ExternalIdField}."""
        table = self._table(request)
        field_name = self._external_field(table, request.params["field"])
        records, all_or_none = self._records(request)
        with self.store.lock:
            return _json(200, collections.upsert_many(self.store, table, field_name, records, all_or_none))

    def collection_delete(self, request: Request) -> Response:
        """DELETE .../composite/sobjects?ids=a,b&allOrNone=false."""
        ids = [i.strip() for i in (request.arg("ids") or "").split(",") if i.strip()]
        if not ids or len(ids) > collections.MAX_RECORDS:
            raise sf_error(400, "EXCEEDED_ID_LIMIT" if ids else "MISSING_ARGUMENT",
                           f"ids must list between 1 and {collections.MAX_RECORDS} record Ids")
        all_or_none = (request.arg("allOrNone") or "false").lower() == "true"
        with self.store.lock:
            return _json(200, collections.delete_many(self.store, ids, all_or_none))

    def collection_retrieve(self, request: Request) -> Response:
        """GET .../composite/sobjects/{Object}?ids=&fields= -> records (null where not found)."""
        table = self._table(request)
        ids = [i.strip() for i in (request.arg("ids") or "").split(",") if i.strip()]
        fields = [f.strip().lower() for f in (request.arg("fields") or "").split(",") if f.strip()]
        if not ids or not fields:
            raise sf_error(400, "MISSING_ARGUMENT", "ids and fields are both required")
        version = request.params["version"]
        with self.store.lock:
            return _json(200, [None if (r := table.live(i)) is None else self._render(table, r, version, fields)
                               for i in ids])
