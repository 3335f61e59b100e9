"""hold_known: an incremental read whose records were all loaded last time yields nothing (no Arrow is built); one
with anything new yields every page, in order, for the engine's boundary to filter as usual."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

from hub.sources.base import ReadState, hold_known

KNOWN = {("1", "2024-05-01T10:00:00Z"), ("2", "2024-05-01T10:00:00Z")}


def read(pages: list[list[dict]], known: set[tuple[str, str]]) -> tuple[list[list[dict]], ReadState]:
    state = ReadState(known=set(known))
    out = list(hold_known(iter(pages), state, lambda page: page, key=lambda r: r.get("id"),
                          cursor=lambda r: r.get("updated")))
    return out, state


def test_a_read_of_known_records_only_yields_nothing_and_hands_them_to_the_boundary():
    pages = [[{"id": 1, "updated": "2024-05-01T10:00:00Z"}], [{"id": "2", "updated": "2024-05-01T10:00:00Z"}], []]
    out, state = read(pages, KNOWN)
    assert out == []
    assert state.held == [("1", "2024-05-01T10:00:00Z"), ("2", "2024-05-01T10:00:00Z")]
    assert state.max_cursor == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)


def test_anything_new_yields_every_page_in_order():
    edited = {"id": 2, "updated": "2024-05-01T10:05:00Z"}    # a known key with a new cursor value is new
    pages = [[{"id": 1, "updated": "2024-05-01T10:00:00Z"}], [edited], [{"id": 3, "updated": "2024-05-01T10:06:00Z"}]]
    out, state = read(pages, KNOWN)
    assert out == pages
    assert state.held == [] and state.max_cursor is None   # the Arrow path sees them all, as before


def test_a_record_without_a_key_is_never_held_back():
    pages = [[{"id": None, "updated": "2024-05-01T10:00:00Z"}]]
    assert read(pages, {("None", "2024-05-01T10:00:00Z")})[0] == pages


def test_without_known_records_pages_pass_through():
    pages = [[{"id": 1, "updated": "2024-05-01T10:00:00Z"}]]
    out, state = read(pages, set())
    assert out == pages and state.held == []


def test_the_hub_process_loads_httpcore_without_trio_and_trio_stays_importable():
    code = ("import sys; from hub.startup import load_httpcore_without_trio; load_httpcore_without_trio(); "
            "import httpx; assert not any(m == 'trio' or m.startswith('trio.') for m in sys.modules), "
            "sorted(m for m in sys.modules if 'trio' in m); "
            "import httpcore._synchronization as s; assert s.trio is None; "
            "httpx.Client().close(); import trio; print(trio.__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "trio"
