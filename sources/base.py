"""What every connector is: declarative streams plus a ``read`` that yields Arrow tables.

A connector module declares its streams (name, table, primary key, cursor field) as data and implements
:meth:`Connector.read`, which pages through one stream and yields ``pyarrow.Table`` batches of ~``BATCH_ROWS`` records.
Arrow batches go to dlt as they are, which is what keeps ingest close to the speed of the bare HTTP fetch (dlt's
row-by-row normalizer is bypassed). The connector also reports the highest cursor value it saw; the ingest engine turns
that into the next run's starting point only after the data is committed.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import orjson

from hub.config import ConnectionConfig
from hub.errors import ConfigError
from hub.sources.auth import OAuthProfile, connection_auth
from hub.sources.http import ApiClient, RetryPolicy, VendorProfile

if TYPE_CHECKING:  # pyarrow and httpx load when a stream is read, not when connector classes are declared
    import httpx
    import pyarrow as pa

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
    #: the vendor's deleted flag (raw column): rows a read reports in ``ReadState.deleted`` get it set to true
    deleted_flag: str | None = None
    #: the vendor fields the built-in staging models read. The vendor may not list some (field-level
    #: security, an account without the property): they land as NULL columns, with one warning naming them.
    expects: tuple[str, ...] = ()


@dataclass
class ReadState:
    """What a read learned that the engine needs afterwards."""

    max_cursor: datetime | None = None
    rows: int = 0
    #: ids the vendor reports deleted since ``since`` whose records it no longer returns (marked in raw after the load)
    deleted: list[str] = field(default_factory=list)
    #: where the vendor's delete log is to be read from: when the previous successful pull started (set by ingest)
    deleted_since: datetime | None = None
    #: warnings for the user, one line each (fields the vendor did not list, and why that is likely)
    notices: list[str] = field(default_factory=list)
    #: set by the ingest engine for an incremental read: the (key, cursor value) pairs, as text, of the records it
    #: loaded at the cursor last time, which the vendor sends again (see :func:`hold_known`)
    known: set[tuple[str, str]] = field(default_factory=set)
    #: the pairs of the records a read held back because each one it read was known: it yielded nothing
    held: list[tuple[str, str]] = field(default_factory=list)

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
    #: how long the vendor can still tell which records were deleted; a stream last pulled longer ago than this is
    #: pulled whole again (None: deletions are in the records themselves, or not reported at all)
    deletions_kept: ClassVar[timedelta | None] = None

    #: what a base_url looks like, for the error when a connector without a default one has none
    base_url_example: ClassVar[str] = "https://api.example.com"

    #: ``[connections.X] streams`` declares the streams (a table, as ``type = "rest"`` does) instead of choosing some
    declares_streams: ClassVar[bool] = False
    #: every table :meth:`read` yields holds only text, integer, double and boolean columns (nested values as JSON
    #: text): a DuckDB warehouse loads them as they come, without dlt (:mod:`hub.warehouse.direct`)
    flat_batches: ClassVar[bool] = False

    def __init__(self, config: ConnectionConfig, client: ApiClient) -> None:
        self.config = config
        self.client = client

    @classmethod
    def configure(cls, name: str, body: Mapping[str, Any], text: str) -> dict[str, Any]:
        """Parse and check the connector's own keys of ``[connections.<name>]`` (its ``options``) when the
        configuration loads; the result joins the connection's options. ``text`` is hub.toml, for error lines."""
        return {}

    @classmethod
    def stream_catalog(cls, config: ConnectionConfig) -> dict[str, Stream]:
        """The streams one connection offers, by name: the class's, unless the connection declares its own."""
        return cls.streams

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
                              file="hub.toml", hint=f"e.g. base_url = \"{cls.base_url_example}\"")
        vendor = cls.vendor()
        auth, vendor.auth_hint = connection_auth(config, base_url, cls.oauth,
                                                 clock=client_options.pop("auth_clock", None))
        return ApiClient(config.name, base_url, auth=auth, http=http, vendor=vendor, notes_root=config.root,
                         **{**client_settings(config), **client_options})

    @classmethod
    def check_config(cls, name: str, body: dict[str, Any], text: str) -> None:
        """Check what is this connector's own in ``[connections.<name>]``: return None, or raise ConfigError with
        hub.toml:LINE (``text`` is hub.toml's, for ``hub.config.line_of``).

        ``body`` is the merged table (hub.toml, secrets.toml, environment; secrets as :class:`hub.secrets.Secret`).
        Its keys, streams and API version were checked already (hub/integrations/checks.py).
        """

    @classmethod
    def declare(cls, *streams: Stream) -> dict[str, Stream]:
        return {s.name: s for s in streams}

    def read(self, stream: Stream, since: datetime | None, state: ReadState) -> Iterator[pa.Table]:
        """Yield the stream's records changed at or after ``since`` (all when None) as Arrow tables."""
        raise NotImplementedError

    #: why the vendor may leave out a field staging reads: the second half of the warning about them
    hidden_cause: ClassVar[str] = "the API does not list them"

    def absent(self, stream: Stream, listed: Sequence[str], state: ReadState) -> list[str]:
        """The fields of ``stream.expects`` the vendor did not list; one notice in ``state`` names them and the
        likely cause. The read lands them as NULL columns, so staging models still build."""
        have = set(listed)
        missing = [name for name in stream.expects if name not in have]
        if missing:
            state.notices.append(f"warning: {self.config.name}.{stream.name}: {self.vendor.name} did not list "
                                 f"{', '.join(missing)} ({self.hidden_cause}); they are NULL in "
                                 f"raw_{self.config.name}.{stream.table} and in staging")
        return missing

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
            yield concat_tables(buffer)
            buffer, rows = [], 0
    if buffer:
        yield concat_tables(buffer)


def concat_tables(tables: list[pa.Table]) -> pa.Table:
    """One table of ``tables``; a column that one page had to widen to text is text in all of them."""
    import pyarrow as pa

    first = tables[0].schema
    if all(t.schema == first for t in tables):
        return pa.concat_tables(tables)
    text = {f.name for t in tables for f, g in zip(t.schema, first) if f.type != g.type}
    schema = pa.schema([f.with_type(pa.string()) if f.name in text else f for f in first])
    return pa.concat_tables([t.cast(schema) for t in tables])


def fit_schema(schema: pa.Schema, columns: list[pa.Array]) -> pa.Schema:
    """``schema`` with each field typed as its column is (:func:`records_to_arrow` may have widened it to text)."""
    import pyarrow as pa

    return pa.schema([f if f.type == c.type else f.with_type(c.type) for f, c in zip(schema, columns)])


def records_to_table(records: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Flat records as a table of ``schema`` (a field :func:`records_to_arrow` had to widen is text)."""
    import pyarrow as pa

    columns = records_to_arrow(records, pa.struct(list(schema))).flatten()
    return pa.Table.from_arrays(columns, schema=fit_schema(schema, columns))


def records_to_arrow(records: list[dict[str, Any]], record_type: pa.StructType) -> pa.StructArray:
    """Records (parsed JSON objects) as one Arrow struct array, converted in C++ by pyarrow.

    Converting each page as it arrives keeps few Python objects alive, which matters: holding thousands of parsed
    records makes the garbage collector rescan them over and over (measured: 4x slower). A value of the wrong type is
    never dropped: numbers and booleans sent as text are parsed when that is exact, objects in a text field become
    JSON text, and a field holding any value that does not fit its declared type is widened to text for this page
    (the loader then keeps the column's type and lands such values in a text variant column, see
    :mod:`hub.warehouse.schema_changes`).
    """
    import pyarrow as pa

    try:
        return pa.array(records, type=record_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    misfits: set[tuple[str, ...]] = set()
    rows = [_stringify(r, record_type, misfits, ()) for r in records]
    if misfits:
        record_type = _widen(record_type, misfits, ())
        rows = [_stringify(r, record_type, set(), ()) for r in records]
    return pa.array(rows, type=record_type)


def json_records_to_arrow(pages: Sequence[bytes], member: str, record_type: pa.StructType, *,
                          strict: bool = False) -> pa.StructArray | None:
    """The records of each page's array ``member`` (pages: JSON objects, one per line), parsed by pyarrow in C++.

    That reader runs without the GIL, so pages parse while the fetch thread talks HTTP; a group of pages is parsed in
    one call, as each call has to win the GIL back from the fetch thread. It is strict: None when a value does not fit
    ``record_type`` (a number where text is declared, say) or a page is not a JSON object; the caller then takes
    the Python path, which keeps such values (:func:`records_to_arrow`). Fields ``record_type`` does not declare are
    left out, or, when ``strict``, give None too (a page must then hold ``member`` alone: the rule holds at every
    level).
    """
    import pyarrow as pa
    import pyarrow.json as pa_json

    data = b"\n".join(pages)
    try:
        table = pa_json.read_json(pa.BufferReader(data),
                                  read_options=pa_json.ReadOptions(use_threads=False, block_size=len(data) + 64),
                                  parse_options=pa_json.ParseOptions(
                                      explicit_schema=pa.schema([pa.field(member, pa.list_(record_type))]),
                                      unexpected_field_behavior="error" if strict else "ignore"))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if table.num_rows != len(pages):
        return None
    chunks = [chunk.flatten() for chunk in table.column(member).chunks]
    return chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks)


def hold_known(pages: Iterator[T], state: ReadState, records: Callable[[T], Sequence[Mapping[str, Any]]],
               key: Callable[[Mapping[str, Any]], Any], cursor: Callable[[Mapping[str, Any]], Any]) -> Iterator[T]:
    """The pages of an incremental read, unless every record in them is one ``state.known`` lists.

    Vendors filter on ``cursor >= since``, so a read that finds nothing new still returns the records at the cursor,
    which the last run loaded. Pages holding only those are held back, as parsed JSON: when the read ends with nothing
    else, nothing is yielded (no Arrow is built, pyarrow is not even imported), their pairs go to ``state.held`` for
    the engine's boundary, and their newest cursor value to ``state.see``. At the first page with any other record,
    the pages held back are yielded first, then every page as it comes: the engine leaves the known records out of
    the Arrow tables, as it does for every read. ``key`` and ``cursor`` give a record's key and cursor value as the
    Arrow table will hold them (their text is compared, as the engine does).
    """
    if not state.known:
        yield from pages
        return
    held: list[T] = []
    for page in pages:
        if all(key(r) is not None and (str(key(r)), str(cursor(r))) in state.known for r in records(page)):
            held.append(page)
            continue
        yield from held
        yield page
        yield from pages
        return
    values = [cursor(r) for page in held for r in records(page)]
    state.held = [(str(key(r)), str(cursor(r))) for page in held for r in records(page)]
    state.see(max_time(values))


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


_BOOLS = {"true": True, "false": False, "1": True, "0": False}


def _stringify(record: dict[str, Any], record_type: pa.StructType, misfits: set[tuple[str, ...]],
               path: tuple[str, ...]) -> dict[str, Any]:
    """``record`` with every value converted to its field's type; fields it cannot convert go into ``misfits``."""
    import pyarrow as pa

    out = {}
    for f in record_type:
        value = record.get(f.name)
        out[f.name] = value
        if value is None:
            continue
        if pa.types.is_struct(f.type):
            if isinstance(value, dict):
                out[f.name] = _stringify(value, f.type, misfits, (*path, f.name))
            else:
                misfits.add((*path, f.name))
        elif pa.types.is_string(f.type):
            out[f.name] = value if isinstance(value, str) else orjson.dumps(value).decode() \
                if isinstance(value, (dict, list, bool)) else str(value)
        elif pa.types.is_boolean(f.type):
            if not isinstance(value, bool):
                out[f.name] = _BOOLS.get(str(value).lower())
                if out[f.name] is None:
                    misfits.add((*path, f.name))
        elif pa.types.is_integer(f.type) or pa.types.is_floating(f.type):
            out[f.name] = _number(value, pa.types.is_integer(f.type))
            if out[f.name] is None:
                misfits.add((*path, f.name))
    return out


def _number(value: Any, integer: bool) -> int | float | None:
    """``value`` as the number it exactly denotes, or None when it is not one (so it is kept as text instead)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value) if isinstance(value, str) else value
    except ValueError:
        return None
    if integer:
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                return None
        return int(number) if float(number).is_integer() else None
    return float(number)


def _widen(record_type: pa.StructType, misfits: set[tuple[str, ...]], path: tuple[str, ...]) -> pa.StructType:
    import pyarrow as pa

    fields = []
    for f in record_type:
        here = (*path, f.name)
        if here in misfits:
            f = f.with_type(pa.string())
        elif pa.types.is_struct(f.type):
            f = f.with_type(_widen(f.type, misfits, here))
        fields.append(f)
    return pa.struct(fields)


def prefetch(iterator: Iterator[T], depth: int = 8, *, size: Callable[[T], int] | None = None,
             budget: int = 0) -> Iterator[T]:
    """Run ``iterator`` (HTTP paging) in a thread, ``depth`` items ahead, so waiting on the API overlaps our own work.

    With ``size``, the items waiting also stay within ``budget`` (their sizes summed; one item always gets through),
    so that a deep queue of small pages cannot hold as many large ones. Exceptions raised by the producer are re-raised
    in the consumer; closing the consumer stops the producer.
    """
    items: queue.Queue[Any] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()
    room = threading.Condition()
    held = [0]   # the summed size of the items waiting

    def produce() -> None:
        try:
            for item in iterator:
                if size is not None:
                    weight = size(item)
                    with room:
                        while held[0] and held[0] + weight > budget and not stop.is_set():
                            room.wait(0.1)
                        held[0] += weight
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
            if size is not None:
                with room:
                    held[0] -= size(item)
                    room.notify()
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

