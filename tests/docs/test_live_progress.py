"""The pages show the run in progress with its live progress: `hub serve` answers while a `hub push` in another
process holds the warehouse, and a headless Chromium sees the "In progress" panel fill from live.json; the static
site shows the state it was built with."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from hub.project import Project
from hub.serve import Service
from hub.warehouse.lock import lock_path, read_holder
from tests.conftest import run_hub, sandbox_project
from tests.docs.test_site import shot
from tests.reliability.test_writer_lock import PARK_LIMIT_S
from tests.warehouse.test_readers_never_wait import SYNC, ParkedWrite


def test_pages_show_a_push_in_progress_live(make_project, fresh_sandbox, browser) -> None:
    root = sandbox_project(make_project, fresh_sandbox, extra=SYNC)
    for step in ("ingest", "build"):
        done = run_hub(step, cwd=root)
        assert done.returncode == 0, done.stderr
    parked = ParkedWrite(fresh_sandbox)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
    writer = subprocess.Popen([sys.executable, "-m", "hub", "push"], cwd=root, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert parked.entered.wait(PARK_LIMIT_S), writer.communicate()
        assert read_holder(lock_path(root / "warehouse.duckdb")).pid == writer.pid
        # the static site, built while the push runs, shows it as of the build
        built = run_hub("docs", cwd=root)
        assert built.returncode == 0, built.stderr
        static = (root / ".hub" / "docs" / "index.html").read_text()
        assert "In progress" in static and "now at push person_to_hubspot" in static

        with Service(Project(root), port=0, schedules=False) as service:
            with httpx.Client(base_url=service.url, timeout=30) as http:
                live = http.get("/live.json")
                assert live.status_code == 200
                running = live.json()["running"]
                assert [r["command"] for r in running] == ["push"]
                assert running[0]["progress"]["target"] == "person_to_hubspot"
            wait = WebDriverWait(browser, 30)
            browser.get(service.url + "/runs.html")
            wait.until(lambda d: d.find_element(By.ID, "live").get_attribute("data-live-state") == "live")
            panel = browser.find_element(By.ID, "live-runs").text
            assert "push" in panel and "now at push person_to_hubspot:" in panel and " rows" in panel
            assert "live, as of" in browser.find_element(By.ID, "live-note").text
            shot(browser, "5-run-in-progress")

            parked.restore()
            out, err = writer.communicate(timeout=PARK_LIMIT_S)
            assert writer.returncode == 0, err
            # the panel follows: the push is done, nothing is running
            wait.until(lambda d: "Nothing is running." in d.find_element(By.ID, "live-runs").text)
    finally:
        parked.restore()
        if writer.poll() is None:
            writer.communicate(timeout=PARK_LIMIT_S)

    # opened from disk, the static site keeps the state it was built with
    browser.get((root / ".hub" / "docs" / "runs.html").as_uri())
    assert "now at push person_to_hubspot" in browser.find_element(By.ID, "live-runs").text


HOLDER = """
import sys
from hub.project import Project

with Project(sys.argv[1]).writing():
    with Project(sys.argv[1]).warehouse() as wh:
        wh.execute("CREATE TABLE IF NOT EXISTS held AS SELECT 1 AS x")
    print("holding", flush=True)
    sys.stdin.readline()
"""


def test_the_first_page_does_not_wait_for_a_writer(built, tmp_path) -> None:
    """No rendering yet, a writer holds the warehouse and no snapshot stands in: the first request gets the holding
    page (runs in progress, the assets, live.json) at once; once the writer lets go, the pages themselves."""
    from hub.docs.live import LivePages
    from hub.serve.inbox import Inbox
    from hub.serve.server import WebhookServer
    from hub.warehouse.duck import snapshot_path

    snapshot_path(built.root / "warehouse.duckdb").unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(built.root)], env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    inbox = Inbox(tmp_path / "inbox.sqlite")
    server = WebhookServer(inbox, {}, port=0, pages=LivePages(Project(built.root)))
    server.start()
    try:
        assert holder.stdout.readline().strip() == "holding", holder.stderr.read()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            first = http.get("/runs.html")
            assert first.status_code == 200
            assert "which hub" in first.text and f"(pid {holder.pid})" in first.text
            assert 'data-reload-when-ready="1"' in first.text and 'id="live-runs"' in first.text
            assert http.get("/assets/hub.js").status_code == 200
            assert http.get("/live.json").json()["pages_ready"] is False
            holder.stdin.write("\n")
            holder.stdin.flush()
            assert holder.wait(timeout=PARK_LIMIT_S) == 0
            after = http.get("/runs.html")   # no writer now: this one waits for the rendering
            assert after.status_code == 200 and "data-reload-when-ready" not in after.text
            assert 'id="runs"' in after.text
            assert http.get("/live.json").json()["pages_ready"] is True
    finally:
        server.stop()
        inbox.close()
        if holder.poll() is None:
            holder.kill()
            holder.wait()
