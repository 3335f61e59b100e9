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
