"""Fixtures for the docs tests: a project with real runs (one failed, one rejected row) and a headless Chromium."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_hub

WRONG_TOKEN = "pat-na1-00000000-wrong-token-1234"


@dataclass
class Built:
    """A project after ingest, build, a push with a rejected row, a failed push, and `hub docs`."""

    root: Path
    site: Path
    docs_stdout: str
    tokens: tuple[str, ...]


def _hub_toml(sb: object, fields: str) -> str:
    return textwrap.dedent(f"""
        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"

        [connections.salesforce]
        type = "salesforce"
        base_url = "{sb.salesforce.url}"

        [syncs.person_to_hubspot]
        model = "canonical.person"
        to = "hubspot"
        object = "contacts"
        match = {{ email = "email" }}
        fields = {{ {fields} }}

        [schedules.nightly]
        cron = "0 2 * * *"
        steps = ["ingest", "build", "push"]

        [triggers.contact_changed]
        on = "hubspot:contact.propertyChange"
        do = ["push:person_to_hubspot", "notify:https://hooks.example.com/services/T0/B0/secretpath"]
        """)


@pytest.fixture(scope="package")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """Real runs through the CLI against the sandbox: the first push rejects a row (an invalid email), a second push
    with a re-mapped sync and a wrong token fails at HubSpot (401); then `hub docs` builds the site."""
    from hub.sandbox import Sandbox

    root = tmp_path_factory.mktemp("docs") / "proj"
    root.mkdir()
    with Sandbox(seed=5, people=120, hubspot_rate_limit=None) as sb:
        fields = 'first_name = "firstname", last_name = "lastname", phone = "phone"'
        (root / "hub.toml").write_text(_hub_toml(sb, fields))
        (root / "secrets.toml").write_text(f'[connections.hubspot]\ntoken = "{sb.hubspot.token}"\n'
                                           f'[connections.salesforce]\ntoken = "{sb.salesforce.token}"\n')
        for step in ("ingest", "build", "push"):
            done = run_hub("-C", str(root), step)
            assert done.returncode == 0, done.stderr
        assert "rejected 1" in done.stdout
        # a new field re-sends every row, which meets HubSpot's 401 for the wrong token: a failed push run
        (root / "hub.toml").write_text(_hub_toml(sb, fields + ', job_title = "jobtitle"'))
        failed = run_hub("-C", str(root), "push", env={"HUB__CONNECTIONS__HUBSPOT__TOKEN": WRONG_TOKEN})
        assert failed.returncode == 1 and "401" in failed.stderr, failed.stderr
        docs = run_hub("-C", str(root), "docs")
        assert docs.returncode == 0, docs.stderr
        yield Built(root, root / ".hub" / "docs", docs.stdout, (sb.hubspot.token, sb.salesforce.token, WRONG_TOKEN))


def browser_paths() -> tuple[str, str] | None:
    """Chromium and its driver, when installed (scripts/ensure-browser.sh installs them)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    return (binary, driver) if binary and driver else None


def new_driver(width: int = 1280, height: int = 900) -> object:
    """A headless Chromium driven through selenium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    found = browser_paths()
    if found is None:
        pytest.skip("Chromium and chromedriver are missing: run scripts/ensure-browser.sh (make test does)")
    binary, driver = found
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.binary_location = binary
    return webdriver.Chrome(options=options, service=Service(driver))


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    driver = new_driver()
    try:
        yield driver
    finally:
        driver.quit()
