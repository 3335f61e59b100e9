"""`hub docs` as a person uses it: the CLI writes the site, and a headless Chromium clicks from the flow map to a
sync, to its failed run, to a rejected row, with a screenshot of each page checked to be non-blank."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as when
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import run_hub
from tests.docs import png
from tests.docs.conftest import Built

SHOTS = Path(__file__).resolve().parents[2] / ".hub" / "test-screenshots"
#: a page of text, tables and a map has a grey-level variance in the thousands; a blank page has 0
MIN_VARIANCE = 200.0


def shot(driver: object, name: str) -> Path:
    """Save a screenshot and check it shows something (pixel variance well above a blank page's)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    data = driver.get_screenshot_as_png()
    path.write_bytes(data)
    assert png.variance(data) > MIN_VARIANCE, f"screenshot {path} is blank"
    return path


def test_cli_writes_a_site_that_names_its_path(built: Built) -> None:
    assert f"open: {built.site / 'index.html'}" in built.docs_stdout
    names = {p.name for p in built.site.iterdir()}
    assert {"index.html", "runs.html", "models.html", "operations.html", "sync-person_to_hubspot.html",
            "model-canonical.person.html", "connection-hubspot.html", "assets"} <= names
    assert (built.site / "assets" / "hub.css").stat().st_size > 0


def test_no_secret_reaches_any_page(built: Built) -> None:
    text = "\n".join(p.read_text() for p in built.site.glob("*.html"))
    for token in built.tokens:
        assert token not in text
    assert "secretpath" not in text          # a notify URL is shown by its host only
    assert "rejected the credentials (401" in text   # the failed run's error is there, masked


def test_no_page_loads_anything_from_another_host(built: Built) -> None:
    for page in built.site.glob("*.html"):
        text = page.read_text()
        assert not re.search(r"""(src|href)=["']https?://""", text), page.name


def test_out_refuses_a_folder_it_did_not_write(built: Built, tmp_path: Path) -> None:
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("keep me")
    done = run_hub("-C", str(built.root), "docs", "--out", str(keep))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert (keep / "notes.txt").read_text() == "keep me" and sorted(p.name for p in keep.iterdir()) == ["notes.txt"]
    again = run_hub("-C", str(built.root), "docs", "--out", str(tmp_path / "site"))
    assert again.returncode == 0 and (tmp_path / "site" / "index.html").exists()


def test_click_from_the_flow_map_to_a_sync_a_failed_run_and_a_rejected_row(built: Built, browser: object) -> None:
    wait = WebDriverWait(browser, 20)
    browser.get((built.site / "index.html").as_uri())
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("data-flowmap") == "drawn")
    assert browser.execute_script("return performance.getEntriesByName('flowmap-drawn').length") == 1
    nodes = browser.find_elements(By.CSS_SELECTOR, "#flowmap a.node")
    kinds = {n.get_attribute("class").split()[-1] for n in nodes}
    assert {"connection", "stream", "model", "sync", "target", "schedule", "trigger", "action"} <= kinds
    failing = browser.find_elements(By.CSS_SELECTOR, "#flowmap path.edge.failing")
    assert failing, "the failed push shows as a failing arrow"
    shot(browser, "1-flow-map")

    sync = browser.find_element(By.CSS_SELECTOR, 'a.node[data-node="sync:person_to_hubspot"]')
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'})", sync)
    sync.click()
    wait.until(when.title_contains("Sync person_to_hubspot"))
    assert "failed" in browser.find_element(By.ID, "sync-runs").text
    shot(browser, "2-sync")

    browser.find_element(By.CSS_SELECTOR, "#sync-runs a.run-link.failed").click()
    wait.until(when.title_contains("Run "))
    main = browser.find_element(By.ID, "main").text
    assert "failed" in main and "401" in main
    for token in built.tokens:
        assert token not in browser.page_source
    shot(browser, "3-failed-run")

    link = browser.find_element(By.CSS_SELECTOR, "a.rejected-link")
    key = link.text
    link.click()
    wait.until(when.title_contains("Sync person_to_hubspot"))
    assert browser.current_url.endswith(f"#rejected-{key}")
    row = browser.find_element(By.ID, f"rejected-{key}")
    assert row.is_displayed() and "email" in row.text.lower()
    assert browser.execute_script("return document.activeElement.id") == f"rejected-{key}"
    shot(browser, "4-rejected-row")


def test_rejected_rows_are_searchable_by_key(built: Built, browser: object) -> None:
    browser.get((built.site / "sync-person_to_hubspot.html").as_uri())
    rows = browser.find_elements(By.CSS_SELECTOR, "#rejected-rows tbody tr")
    key = rows[0].get_attribute("id").removeprefix("rejected-")
    box = browser.find_element(By.CSS_SELECTOR, 'input[data-filter="rejected-rows"]')
    assert browser.find_element(By.CSS_SELECTOR, f'label[for="{box.get_attribute("id")}"]').text
    box.send_keys("no-such-key-anywhere")
    assert not any(r.is_displayed() for r in rows)
    box.clear()
    box.send_keys(key)
    assert rows[0].is_displayed()


def test_keyboard_reaches_the_flow_map_nodes(built: Built, browser: object) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.get((built.site / "index.html").as_uri())
    body = browser.find_element(By.TAG_NAME, "body")
    seen = set()
    for _ in range(40):
        body.send_keys(Keys.TAB)
        seen.add(browser.execute_script("var a = document.activeElement; return a.getAttribute('data-node')"))
    assert any(s and s.startswith("connection:") for s in seen)
