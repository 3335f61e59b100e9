"""REST records to Arrow: pyarrow's C++ JSON reader and the Python path must make the same tables.

:class:`~hub.sources.rest.records.TableBuilder` parses flat batches with pyarrow's JSON reader and sends anything that
reader cannot type the way the Python path would back to the Python path. Each test feeds the same pages to a builder
and to one held to the Python path (its guess of a record type always None) and compares the tables and the columns
they leave behind; the cases name the path each batch has to take.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.sources.rest.records import PARSE_PAGES, TableBuilder, page_json


class PythonOnly(TableBuilder):
    """The builder held to the Python path: what every batch must come out as."""

    def _guess(self, records: list[Any]) -> pa.StructType | None:
        return None


def payload(page: list[Any], builder: TableBuilder, sent: str) -> bytes | list[Any]:
    """A page as the fetch thread sends it: its JSON, its records, or whichever the builder wants (json_pages)."""
    if sent == "follow":
        sent = "json" if builder.wants_json else "records"
    return page_json(page) if sent == "json" and page else page


def both(pages: list[list[Any]], batch_rows: int = 10_000, sent: str = "follow") -> tuple[list[pa.Table],
                                                                                      TableBuilder]:
    """The tables of ``pages`` from a builder, checked equal (types, values, nulls, order) to the Python path's."""
    builder, reference = TableBuilder("id", batch_rows), PythonOnly("id", batch_rows)
    got, want = [], []
    for page in pages:
        for out, b in ((got, builder), (want, reference)):
            table = b.add_page(payload(page, b, sent), len(page))
            if table is not None:
                out.append(table)
    for out, b in ((got, builder), (want, reference)):
        table = b.flush()
        if table is not None:
            out.append(table)
    assert len(got) == len(want)
    for table, expected in zip(got, want):
        assert table.schema == expected.schema
        assert table.to_pylist() == expected.to_pylist()
        assert table.equals(expected)
    assert builder.columns == reference.columns
    return got, builder


def tickets(first: int, n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": i, "subject": f"Ticket {i}", "score": i / 4, "open": i % 2 == 0, "updated_at":
             f"2025-06-01T10:{i % 60:02d}:00Z", **extra} for i in range(first, first + n)]


def test_flat_pages_are_parsed_by_the_reader():
    pages = [tickets(i * 40, 40) for i in range(2 * PARSE_PAGES + 3)]   # groups parsed as they come, and the rest
    tables, builder = both(pages)
    assert builder.batches == {"reader": 1, "python": 0}
    assert tables[0].num_rows == 40 * len(pages)
    assert tables[0].schema.types == [pa.int64(), pa.string(), pa.float64(), pa.bool_(), pa.string()]


def test_batches_end_where_the_python_path_ends_them():
    pages = [tickets(i * 30, 30) for i in range(10)]
    tables, builder = both(pages, batch_rows=100)
    assert [t.num_rows for t in tables] == [120, 120, 60] and builder.batches == {"reader": 3, "python": 0}


def test_a_nested_field_on_a_later_page_sends_the_batch_to_the_python_path():
    pages = [tickets(0, 40), tickets(40, 40), [*tickets(80, 39), {**tickets(119, 1)[0], "subject": {"en": "Hi"}}]]
    tables, builder = both(pages)
    assert builder.batches == {"reader": 0, "python": 1}
    assert tables[0].column("subject").to_pylist()[-1] == '{"en":"Hi"}'


def test_a_nested_field_on_the_first_page_is_never_given_to_the_reader():
    tables, builder = both([tickets(0, 10, tags=["a", "b"], owner={"name": "x", "n": 1.0}), tickets(10, 10)])
    assert builder.batches == {"reader": 0, "python": 1}
    assert tables[0].column("tags").to_pylist()[0] == '["a","b"]'
    assert tables[0].column("owner").to_pylist()[0] == '{"name":"x","n":1.0}'


@pytest.mark.parametrize(("drifted", "kind"), [({"score": "n/a"}, pa.string()), ({"open": 1}, pa.string()),
                                              ({"id": "7a"}, pa.string()), ({"subject": 12}, pa.string()),
                                              ({"score": True}, pa.float64())])   # pyarrow takes true for 1.0 there
def test_a_drifted_type_takes_the_python_path(drifted, kind):
    pages = [tickets(0, 40), [*tickets(40, 39), {**tickets(79, 1)[0], **drifted}], tickets(80, 40)]
    tables, builder = both(pages, batch_rows=80)
    assert builder.batches == {"reader": 1, "python": 1}
    (name, _), = drifted.items()
    assert tables[0].column(name).type == kind


def test_a_field_first_seen_on_a_later_page_is_a_new_column():
    pages = [tickets(0, 40), [*tickets(40, 39), {**tickets(79, 1)[0], "priority": "high"}]]
    tables, builder = both(pages)
    assert builder.batches == {"reader": 0, "python": 1}
    assert tables[0].column_names[-1] == "priority"


def test_empty_pages_and_an_empty_read():
    tables, builder = both([[], tickets(0, 5), [], [], tickets(5, 5), []])
    assert [t.num_rows for t in tables] == [10] and builder.batches == {"reader": 1, "python": 0}
    assert both([[], []])[0] == []


@pytest.mark.parametrize("odd", [None, 42, "text", ["a"]])
def test_a_record_that_is_not_an_object_is_a_value_column(odd):
    tables, builder = both([tickets(0, 5), [*tickets(5, 4), odd]])
    assert builder.batches == {"reader": 0, "python": 1}
    assert "value" in tables[0].column_names


def test_whole_numbers_in_a_float_column_are_typed_by_the_python_path():
    # ints where the last batch had fractions: the Python path types them int64, the reader would say double
    pages = [tickets(0, 40), [{**r, "score": r["id"]} for r in tickets(40, 40)],
             [{**r, "score": float(r["id"])} for r in tickets(80, 40)]]
    tables, builder = both(pages, batch_rows=40)
    assert [t.column("score").type for t in tables] == [pa.float64(), pa.int64(), pa.float64()]
    assert builder.batches == {"reader": 1, "python": 2}


def test_integers_beyond_exact_doubles_next_to_fractions_are_text():
    tables, builder = both([[{"id": 1, "n": 0.5}, {"id": 2, "n": 2 ** 53 + 1}]])
    assert builder.batches == {"reader": 0, "python": 1} and tables[0].column("n").type == pa.string()


def test_columns_without_values_take_the_type_seen_before():
    pages = [tickets(0, 40, note=None), tickets(40, 40, note=None), [{"id": 80 + i, "note": 5} for i in range(40)],
             tickets(120, 40)]
    tables, _ = both(pages, batch_rows=40)
    assert [t.column("note").type for t in tables] == [pa.string(), pa.string(), pa.int64(), pa.int64()]


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 63, 2 ** 63 - 1), st.integers(-2 ** 60, 2 ** 60),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
FIELDS = st.sampled_from(["id", "a", "b", "c", "updated_at"])
VALUES = st.one_of(SCALARS, SCALARS, SCALARS, st.lists(SCALARS, max_size=2), st.dictionaries(st.text(max_size=3),
                                                                                              SCALARS, max_size=2))


@st.composite
def api_pages(draw: st.DrawFn) -> list[list[Any]]:
    """Pages of records that mostly share one shape, with drift: a field's type, nested values, missing and new
    fields, nulls, now and then a record that is not an object."""
    shape = draw(st.dictionaries(FIELDS, SCALARS, min_size=1, max_size=5))
    pages = []
    for _ in range(draw(st.integers(0, 14))):
        page = []
        for _ in range(draw(st.integers(0, 6))):
            if draw(st.integers(0, 40)) == 0:
                page.append(draw(SCALARS))
                continue
            record = {k: (draw(VALUES) if draw(st.integers(0, 8)) == 0 else _like(v, draw))
                      for k, v in shape.items() if draw(st.integers(0, 12))}
            if draw(st.integers(0, 15)) == 0:
                record[draw(FIELDS)] = draw(VALUES)
            page.append(record)
        pages.append(page)
    return pages


def _like(value: Any, draw: st.DrawFn) -> Any:
    """A value of the same JSON type as ``value`` (sometimes null)."""
    if value is None or draw(st.integers(0, 10)) == 0:
        return None
    kind = type(value)
    return draw({bool: st.booleans(), int: st.integers(-2 ** 40, 2 ** 40), float: st.floats(-1e6, 1e6),
                 str: st.text(max_size=8)}[kind])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages=api_pages(), batch_rows=st.integers(1, 25), sent=st.sampled_from(["follow", "json", "records"]))
def test_the_reader_and_the_python_path_make_the_same_tables(pages, batch_rows, sent):
    both(pages, batch_rows, sent)


def test_pages_come_as_json_while_batches_go_to_the_reader():
    nested = [{**r, "tags": ["a"]} for r in tickets(0, 40)]
    builder = TableBuilder("id", 40)
    assert builder.wants_json
    builder.add(nested)
    assert not builder.wants_json   # that batch went the Python path: parsed records are passed on as they are
    builder.add(tickets(40, 40))
    assert builder.wants_json and builder.batches == {"reader": 1, "python": 1}
    for sent in ("json", "records"):   # either way, in either path
        both([nested, tickets(40, 40), nested, tickets(120, 40)], 40, sent)


def test_prefetch_keeps_what_waits_within_its_budget():
    import threading

    from hub.sources.base import prefetch

    asked: list[int] = []
    beyond = threading.Event()

    def pages():
        for i in range(12):
            asked.append(i)
            if i >= 6:
                beyond.set()
            yield b"x" * (250 if i != 8 else 2_000)   # one page larger than the whole budget still gets through

    items = prefetch(pages(), depth=100, size=len, budget=1_000)
    assert next(items) == b"x" * 250
    # 4 pages of 250 fill the budget: the producer holds the 5th (and has asked for no more) until one is taken;
    # with the queue's depth alone it would have asked for all 12 at once
    assert not beyond.wait(timeout=0.5) and len(asked) <= 6
    assert [len(p) for p in items] == [250] * 7 + [2_000] + [250] * 3


def test_prefetch_hands_the_producers_error_to_the_consumer():
    from hub.errors import BadResponseError
    from hub.sources.base import prefetch

    def pages():
        yield b"{}"
        raise BadResponseError("a page is not JSON", connection="api")

    items = prefetch(pages(), size=len, budget=10)
    assert next(items) == b"{}"
    with pytest.raises(BadResponseError):
        next(items)


def test_runs_land_what_the_python_path_lands(make_project, rest_emulator, monkeypatch):
    """Two projects read the same emulator, one held to the Python path: the same rows, column types, cursors and
    schema-change reports, over a full run and an incremental one with drift."""
    from functools import partial

    from hub.project import Project
    from tests.rest.test_engine import rows, write_project

    monkeypatch.setattr(TableBuilder.__init__, "__defaults__", (100,))   # 250 tickets, 40 a page: 3 batches
    paths: list[bool] = []   # per batch: whether the reader's table was taken
    reader_table = TableBuilder._reader_table

    def spy(self: TableBuilder) -> pa.Table | None:
        table = reader_table(self)
        paths.append(table is not None)
        return table

    monkeypatch.setattr(TableBuilder, "_reader_table", spy)
    store = rest_emulator.store
    store.edit_ticket(130, tags=["vip"], priority=3)   # nested and drifted, in the second batch
    projects = {name: Project(write_project(partial(make_project, name=name), rest_emulator))
                for name in ("reader", "python")}

    def run(name: str) -> None:
        with monkeypatch.context() as patch:
            if name == "python":
                patch.setattr(TableBuilder, "_guess", lambda self, records: None)
            report = projects[name].ingest(["helpdesk.tickets"])
        assert report.ok, report.errors

    def landed(name: str) -> list[Any]:
        project = projects[name]
        return [rows(project, "SELECT * FROM raw_helpdesk.tickets ORDER BY id"),
                rows(project, "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
                              "'raw_helpdesk' AND table_name = 'tickets' ORDER BY ordinal_position"),
                rows(project, "SELECT stream, cursor_value, loaded_keys FROM _hub.cursors"),
                rows(project, "SELECT column_name, change, old_type, new_type FROM _hub.schema_changes "
                              "ORDER BY detected_at, column_name")]

    run("reader")
    assert paths == [True, True]   # the first and the last batch; the second (ticket 130) was never given to it
    run("python")
    assert landed("reader") == landed("python")
    assert {"column_name": "tags", "data_type": "VARCHAR"} in landed("reader")[1]
    # an incremental run of flat records: numbers where priority was text, a new column of fractions
    for n, ticket in enumerate((130, 140, 141, 142)):
        store.edit_ticket(ticket, tags=None, priority=n, score=n + 0.5)
    paths.clear()
    run("reader")
    assert paths == [True]
    run("python")
    assert landed("reader") == landed("python")
    changes = {(r["column_name"], r["change"]) for r in landed("reader")[3]}
    assert {("priority", "type_changed"), ("score", "added")} <= changes
    # and one with an object and a number in a text field: the Python path's
    store.edit_ticket(140, owner={"id": 1, "name": "Ann"})
    store.edit_ticket(141, subject=7)
    paths.clear()
    run("reader")
    assert paths == []
    run("python")
    assert landed("reader") == landed("python")
