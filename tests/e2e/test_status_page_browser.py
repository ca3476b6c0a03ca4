"""The status page in a real browser: Debian's Chromium, headless, driven by selenium through Debian's chromedriver.

A post created and published through the command API shows up in the page's live feed (the WebSocket stream), the
charts (server-rendered SVG) draw a line per read model and, without a reload, gain the samples of those writes, and
the command database is named for what it is; the page is kept as a screenshot in `test-artifacts/`, passed or failed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import REPO_ROOT, System

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = REPO_ROOT / "test-artifacts" / "status-page.png"
PAGE_TIMEOUT = 30  # seconds for the page to load its status and open the stream
FEED_TIMEOUT = 30  # seconds from the publish to the feed item
CHART_TIMEOUT = 60  # seconds for the writes to reach the charts: a projector heartbeat, then the page's next fetch
CHARTS = ("lag", "events-per-second", "searchable-age")
READ_MODELS = {"authors", "posts", "comments"}
# Each chart's lines and what they show, read in one go (the page replaces the charts' markup every few seconds).
CHART_LINES_SCRIPT = """
return Object.fromEntries([...document.querySelectorAll("#charts figure[data-chart]")].map(figure => [
  figure.dataset.chart,
  Object.fromEntries([...figure.querySelectorAll("svg g.series")].map(g => [g.dataset.series, {...g.dataset}])),
]));
"""


@pytest.fixture(scope="session")
def chromium_installed() -> None:
    """Fails (never skips) when the browser is missing, before the system starts: bootstrap installs it."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} missing: run `make bootstrap` (Debian chromium, chromium-driver)",
                    pytrace=False)  # fmt: skip


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium (no sandbox and no /dev/shm: CI runs as root in a container)."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1400"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def _text(driver: webdriver.Chrome, selector: str) -> str:
    """The text of the first element matching a CSS selector, or "" when there is none yet."""
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0].text.strip() if found else ""


def _service_health(driver: webdriver.Chrome, service: str) -> str:
    """The health cell of a row of the services table ("ok", "down", "unknown"), "" before the first refresh."""
    return _text(driver, f'#services tr[data-service="{service}"] td:nth-child(2)')


def _feed_item(driver: webdriver.Chrome, post_id: str, title: str) -> WebElement | None:
    """The feed item of the post's publication, once it shows the post's title."""
    selector = f'#feed li[data-aggregate-id="{post_id}"][data-event-type="post.published"]'
    return next((li for li in driver.find_elements(By.CSS_SELECTOR, selector) if title in li.text), None)


def _chart_lines(driver: webdriver.Chrome) -> dict[str, dict[str, dict[str, str]]]:
    """Per chart, per read model: the line's `points`, `lastAt` and `lastValue` ({} for a chart without data)."""
    return driver.execute_script(CHART_LINES_SCRIPT)


def _charted_after(driver: webdriver.Chrome, before: dict[str, str]) -> dict[str, Any] | None:
    """The charts once lag and events/s have a line for every read model and each read model's commit → searchable
    age has a sample newer than `before` (its latest when the writes began)."""
    lines = _chart_lines(driver)
    if not all(set(lines.get(chart, {})) >= READ_MODELS for chart in CHARTS[:2]):
        return None
    ages = lines.get("searchable-age", {})
    if not all(model in ages and ages[model]["lastAt"] > before.get(model, "") for model in READ_MODELS):
        return None
    return lines


def _page_state(driver: webdriver.Chrome, system: System) -> str:
    """What the page showed when a wait ran out, for the failure message."""
    feed = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#feed li")][:10]
    try:
        console = [entry["message"] for entry in driver.get_log("browser")][-10:]
    except WebDriverException:
        console = []
    return (
        f"stream state: {_text(driver, '#stream-state')!r}; services: {_text(driver, '#services')!r}; "
        f"feed (newest first): {feed}; charts: {_chart_lines(driver)}; browser console: {console}; "
        "system log tail:\n" + system.log.read_text(errors="replace")[-2000:]
    )


def _wait(driver: webdriver.Chrome, system: System, timeout: float, condition: Callable[[Any], Any], what: str) -> Any:
    """WebDriverWait for `condition`, failing with what the page showed instead."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)
    except TimeoutException:
        raise AssertionError(f"{what} not within {timeout} s; {_page_state(driver, system)}") from None


def _screenshot(driver: webdriver.Chrome) -> bool:
    """Save the page to SCREENSHOT; False when the browser could not (a failure already being reported wins)."""
    SCREENSHOT.parent.mkdir(exist_ok=True)
    try:
        return driver.save_screenshot(str(SCREENSHOT))
    except WebDriverException:
        return False


@pytest.mark.usefixtures("chromium_installed")
def test_a_published_post_appears_in_the_live_feed_and_the_charts(system: System, browser: webdriver.Chrome) -> None:
    try:
        browser.get(f"http://127.0.0.1:{system.query_port}/status/")
        _wait(browser, system, PAGE_TIMEOUT, lambda d: _text(d, "#stream-state") == "open", "live stream open")
        _wait(browser, system, PAGE_TIMEOUT,
              lambda d: _service_health(d, "opensearch") == "ok" and _service_health(d, "redis") == "ok",
              "opensearch and redis ok")  # fmt: skip
        database = '#services tr[data-service="command_database"] td:first-child'
        _wait(browser, system, PAGE_TIMEOUT, lambda d: _text(d, database) == "command database (PostgreSQL)",
              "the command database named PostgreSQL (e2e runs on a scratch PostgreSQL database)")  # fmt: skip
        assert set(_chart_lines(browser)) == set(CHARTS)
        before = {model: line["lastAt"] for model, line in _chart_lines(browser)["searchable-age"].items()}

        _, token = system.user(f"browser_{uuid.uuid4().hex[:8]}", "Browser Watcher")
        title = f"Seen in the browser {uuid.uuid4().hex[:8]}"
        created = system.command("POST", "posts/", {"title": title, "content": "Live.", "tags": ["e2e"]}, token)
        assert created.status == 201, created.body
        post_id = str(created.body["id"])
        published = system.command("POST", f"posts/{post_id}/publish/", {}, token)
        assert published.status == 200, published.body

        item = _wait(browser, system, FEED_TIMEOUT, lambda d: _feed_item(d, post_id, title),
                     f"feed item post.published for post {post_id} ({title!r})")  # fmt: skip
        assert title in item.text
        commented = system.command("POST", f"posts/{post_id}/comments/", {"body": "Charted."}, token)
        assert commented.status == 201, commented.body

        _wait(browser, system, CHART_TIMEOUT, lambda d: _charted_after(d, before),
              "a line per read model, with the new writes' commit → searchable ages")  # fmt: skip
        axes = browser.execute_script(
            'return [...document.querySelectorAll(\'#charts figure[data-chart="lag"] svg .x-axis, '
            '#charts figure[data-chart="lag"] svg .y-axis\')].map(t => t.textContent)'
        )
        assert axes == ["time (UTC)", "events"]
    except BaseException:
        _screenshot(browser)  # the page as it was when the test failed
        raise
    assert _screenshot(browser), f"could not write {SCREENSHOT}"
    print(f"status page screenshot: {SCREENSHOT}")
