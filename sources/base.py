"""What every connector is: declarative streams plus a ``read`` that yields Arrow tables.

A connector module declares its streams (name, table, primary key, cursor field) as data and implements
:meth:`Connector.read`, which pages through one stream and yields ``pyarrow.Table`` batches of ~``BATCH_ROWS`` records.
Arrow batches go to dlt as they are, which is what keeps ingest close to the speed of the bare HTTP fetch (dlt's
row-by-row normalizer is bypassed). The connector also reports the highest cursor value it saw; the ingest engine turns
that into the next run's starting point only after the data is committed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar, TypeVar

import pyarrow as pa

import httpx
import orjson

from hub.config import ConnectionConfig
from hub.errors import ConfigError
from sources.auth import OAuthProfile, connection_auth
from sources.http import ApiClient, RetryPolicy, VendorProfile

BATCH_ROWS = 10_000
T = TypeVar("T")


@dataclass(frozen=True)
class ClientOption:
    """A ``[connections.<name>]`` key every connector accepts: it tunes the connection's API client."""

    kind: type            # int or float; hub.config checks and converts the value
    minimum: float
    help: str


#: Declared once for all connectors; hub.config validates them, :meth:`Connector.api_client` applies them.
CLIENT_OPTIONS = {
    "max_retries": ClientOption(int, 0, f"retries of a transient failure (default {RetryPolicy.max_attempts - 1})"),
    "retry_base_delay": ClientOption(float, 0.0, f"seconds of the first backoff, doubled per retry "
                                                 f"(default {RetryPolicy.base_delay})"),
    "timeout": ClientOption(float, 0.001, "seconds to wait for each response (default 30)"),
}


def client_settings(config: ConnectionConfig) -> dict[str, Any]:
    """ApiClient arguments from the connection's client options (none set: the client's defaults)."""
    options = config.options
    settings: dict[str, Any] = {}
    if "max_retries" in options or "retry_base_delay" in options:
        settings["retry"] = RetryPolicy(max_attempts=options.get("max_retries", RetryPolicy.max_attempts - 1) + 1,
                                        base_delay=options.get("retry_base_delay", RetryPolicy.base_delay))
    if "timeout" in options:
        settings["timeout"] = options["timeout"]
    return settings


@dataclass(frozen=True)
class Stream:
    """One endpoint of a connector: ``name`` as users write it, ``table`` as it lands in ``raw_<connection>``."""

    name: str
    table: str
    primary_key: str = "id"
    cursor_field: str | None = None


@dataclass
class ReadState:
    """What a read learned that the engine needs afterwards."""

    max_cursor: datetime | None = None
    rows: int = 0

    def see(self, value: datetime | None) -> None:
        if value is not None and (self.max_cursor is None or value > self.max_cursor):
            self.max_cursor = value


class Connector:
    """Base of every connector; subclasses set the class attributes and implement :meth:`read`."""

    type: ClassVar[str]
    vendor: ClassVar[type[VendorProfile]] = VendorProfile
    default_base_url: ClassVar[str | None]
    streams: ClassVar[dict[str, Stream]]
    default_streams: ClassVar[tuple[str, ...]]
    options: ClassVar[tuple[str, ...]] = ()
    secret_keys: ClassVar[tuple[str, ...]] = ("token",)
    #: how the vendor's OAuth refresh works; None: the connector takes a static token only
    oauth: ClassVar[OAuthProfile | None] = None

    def __init__(self, config: ConnectionConfig, client: ApiClient) -> None:
        self.config = config
        self.client = client

    @classmethod
    def connect(cls, config: ConnectionConfig, *, http: httpx.Client | None = None, **client_options: Any) -> Connector:
        """Build the connector with its API client."""
        return cls(config, cls.api_client(config, http=http, **client_options))

    @classmethod
    def api_client(cls, config: ConnectionConfig, *, http: httpx.Client | None = None,
                   **client_options: Any) -> ApiClient:
        """The connection's API client: the one place its auth, vendor profile and base URL are wired.

        Connectors and reverse-ETL pushers both build their clients here, so they share one rate limiter.
        """
        base_url = config.base_url or cls.default_base_url
        if not base_url:
            raise ConfigError(f"[connections.{config.name}] needs base_url (the {cls.vendor.name} instance URL)",
                              file="hub.toml", hint="e.g. base_url = \"https://yourcompany.my.salesforce.com\"")
        vendor = cls.vendor()
        auth, vendor.auth_hint = connection_auth(config, base_url, cls.oauth,
                                                 clock=client_options.pop("auth_clock", None))
        return ApiClient(config.name, base_url, auth=auth, http=http,
                         vendor=vendor, **{**client_settings(config), **client_options})

    @classmethod
    def declare(cls, *streams: Stream) -> dict[str, Stream]:
        return {s.name: s for s in streams}

    def read(self, stream: Stream, since: datetime | None, state: ReadState) -> Iterator[pa.Table]:
        """Yield the stream's records changed at or after ``since`` (all when None) as Arrow tables."""
        raise NotImplementedError

    def selected_streams(self) -> list[Stream]:
        names = self.config.streams if self.config.streams is not None else self.default_streams
        return [self.streams[n] for n in names]


def batched(tables: Iterable[pa.Table], size: int = BATCH_ROWS) -> Iterator[pa.Table]:
    """Regroup per-page Arrow tables into tables of about ``size`` rows (pages become chunks; no copying)."""
    buffer: list[pa.Table] = []
    rows = 0
    for table in tables:
        if table.num_rows:
            buffer.append(table)
            rows += table.num_rows
        if rows >= size:
            yield pa.concat_tables(buffer)
            buffer, rows = [], 0
    if buffer:
        yield pa.concat_tables(buffer)


def records_to_arrow(records: list[dict[str, Any]], record_type: pa.StructType) -> pa.StructArray:
    """Records (parsed JSON objects) as one Arrow struct array, converted in C++ by pyarrow.

    Converting each page as it arrives keeps few Python objects alive, which matters: holding thousands of parsed
    records makes the garbage collector rescan them over and over (measured: 4x slower). A value of the wrong type
    (a number where the vendor promises a string) falls back to text rather than failing the whole page.
    """
    try:
        return pa.array(records, type=record_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([_stringify(r, record_type) for r in records], type=record_type)


def _stringify(record: dict[str, Any], record_type: pa.StructType) -> dict[str, Any]:
    out = {}
    for f in record_type:
        value = record.get(f.name)
        if pa.types.is_struct(f.type) and isinstance(value, dict):
            out[f.name] = _stringify(value, f.type)
        elif pa.types.is_string(f.type) and value is not None and not isinstance(value, str):
            out[f.name] = value if isinstance(value, str) else orjson.dumps(value).decode() \
                if isinstance(value, (dict, list)) else str(value)
        elif pa.types.is_boolean(f.type) and not (value is None or isinstance(value, bool)):
            out[f.name] = str(value).lower() in ("true", "1")
        elif (pa.types.is_integer(f.type) or pa.types.is_floating(f.type)) and isinstance(value, str):
            try:
                out[f.name] = float(value) if pa.types.is_floating(f.type) else int(float(value))
            except ValueError:
                out[f.name] = None
        else:
            out[f.name] = value
    return out


def prefetch(iterator: Iterator[T], depth: int = 8) -> Iterator[T]:
    """Run ``iterator`` (HTTP paging) in a thread, ``depth`` items ahead, so waiting on the API overlaps our own work.

    Exceptions raised by the producer are re-raised in the consumer; closing the consumer stops the producer.
    """
    items: queue.Queue[Any] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in iterator:
                while not stop.is_set():
                    try:
                        items.put((True, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put((True, done))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            items.put((False, exc))

    thread = threading.Thread(target=produce, name="hub-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = items.get()
            if not ok:
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()


def parse_time(value: Any) -> datetime | None:
    """Parse the vendors' ISO-8601 timestamps (``...Z``, ``...+0000``, ``...+00:00``) to aware UTC datetimes."""
    if value is None or value == "":
        return None
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def max_time(values: Iterable[Any], parse: Callable[[Any], datetime | None] = parse_time) -> datetime | None:
    """The latest timestamp among ``values``; ISO strings of one format sort like the times they denote."""
    best = max((v for v in values if v), default=None)
    return parse(best) if best is not None else None

