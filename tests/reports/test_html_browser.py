"""The HTML report in a real browser: headless Chromium driven by playwright.

The page must load offline with no console error and no request beyond its own file,
sort and filter its table, expand a finding to its evidence, show hostile data as text
without running it, and open a 50,000-finding report with its first rows drawn.

Needs the ``playwright`` package and Debian's chromium at /usr/bin/chromium (``.ci/run``
provides both; ``playwright install`` is never needed).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from costscan.reports.html import HtmlRenderer
from costscan.reports.interface import Report
from tests.reports.sample import (
    HOSTILE_OWNER,
    HOSTILE_SCRIPT,
    history_report,
    large_report,
    sample_report,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
HOSTILE_IMAGE = "<img src=x onerror=alert(2)>"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM}"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="the playwright package is not installed (pip install playwright)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclasses.dataclass
class Opened:
    page: Page
    url: str
    requests: list[str]
    console_errors: list[str]
    dialogs: list[str]


def open_report(browser: Browser, report: Report, path: Path) -> Iterator[Opened]:
    path.write_bytes(HtmlRenderer().render(report))
    url = path.resolve().as_uri()
    page = browser.new_page()
    opened = Opened(page, url, [], [], [])
    page.on("request", lambda request: opened.requests.append(request.url))
    page.on(
        "console",
        lambda message: (
            opened.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: opened.console_errors.append(str(error)))

    def on_dialog(dialog: Any) -> None:
        opened.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url, wait_until="load")
    page.wait_for_selector("#findings-body tr.finding")
    try:
        yield opened
    finally:
        page.close()


@pytest.fixture
def sample_page(browser: Browser, tmp_path: Path) -> Iterator[Opened]:
    yield from open_report(browser, history_report(), tmp_path / "report.html")


def titles(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#findings-body tr.finding td:nth-child(4)", "cells => cells.map(c => c.firstChild.data)"
    )


def net_savings(page: Page) -> list[float]:
    texts = page.eval_on_selector_all(
        "#findings-body tr.finding", "rows => rows.map(r => r.children[9].textContent)"
    )
    return [float(t.replace("$", "").replace(",", "")) for t in texts]


def test_the_page_loads_offline_without_errors(sample_page: Opened) -> None:
    page = sample_page.page
    page.wait_for_timeout(200)  # anything the page would fetch late has had its chance
    assert sample_page.requests == [sample_page.url]
    assert sample_page.console_errors == []
    assert page.locator("#findings-body tr.finding").count() == 8
    assert page.locator("#card-new .value").inner_text() == "+$205.71"
    assert page.locator("#card-realized .value").inner_text() == "$73.68"
    assert page.locator("#resolved tbody tr").count() == 2
    assert page.locator("#suppressed tbody tr").count() == 2
    assert page.locator("#warnings .notice").count() == 2
    assert page.locator("svg[aria-label='Monthly savings by service'] rect").count() >= 3
    status = page.locator("#status").inner_text()
    assert status == "Showing 1–8 of 8 findings"


def test_sorting_by_net_savings_reorders_rows_both_ways(sample_page: Opened) -> None:
    page = sample_page.page
    header = page.locator("th[data-key='net_monthly_savings'] button")
    header.click()
    descending = net_savings(page)
    assert descending == sorted(descending, reverse=True)
    assert descending[0] == 400.0
    assert page.locator("th[data-key='net_monthly_savings']").get_attribute("aria-sort") == (
        "descending"
    )
    header.click()
    ascending = net_savings(page)
    assert ascending == sorted(ascending)
    assert ascending == list(reversed(descending))
    assert ascending[0] == 9.0


def test_filtering_by_family_status_and_text_narrows_rows(sample_page: Opened) -> None:
    from playwright.sync_api import expect

    page = sample_page.page
    page.select_option("#filter-family", label="storage")
    assert titles(page) == ["Unattached volume for 41 days", "gp2 volume can move to gp3"]
    page.select_option("#filter-status", label="new")
    assert titles(page) == ["gp2 volume can move to gp3"]
    page.select_option("#filter-family", label="all")
    page.select_option("#filter-status", label="all")
    page.fill("#filter-text", "LOG GROUP")
    # expect() polls without evaluating strings, which the page's CSP (rightly) forbids.
    expect(page.locator("#findings-body tr.finding")).to_have_count(1)
    assert titles(page) == ["Log group never expires"]
    assert "filtered from 8" in page.locator("#status").inner_text()
    page.fill("#filter-text", "")
    expect(page.locator("#findings-body tr.finding")).to_have_count(8)


def test_expanding_a_row_shows_its_evidence_and_recommendation(sample_page: Opened) -> None:
    page = sample_page.page
    row = page.locator("#findings-body tr.finding").nth(2)
    assert row.get_attribute("aria-expanded") == "false"
    row.click()
    assert row.get_attribute("aria-expanded") == "true"
    detail = page.locator("#findings-body tr.detail")
    assert detail.count() == 1
    text = detail.inner_text()
    assert "cpu_max_pct" in text and "0.6" in text and "336" in text
    assert "Stop or terminate batch-runner-old." in text
    row.click()
    assert page.locator("#findings-body tr.detail").count() == 0


def test_hostile_data_shows_as_text_and_never_runs(browser: Browser, tmp_path: Path) -> None:
    report = history_report()
    second = pl.col("rank") == 2
    findings = report.findings.with_columns(
        pl.when(second).then(pl.lit(HOSTILE_IMAGE)).otherwise(pl.col("title")).alias("title"),
        pl.when(second)
        .then(pl.lit(json.dumps({"note": HOSTILE_SCRIPT, HOSTILE_IMAGE: 1})))
        .otherwise(pl.col("evidence"))
        .alias("evidence"),
    )
    hostile = dataclasses.replace(report, findings=findings)
    for opened in open_report(browser, hostile, tmp_path / "hostile.html"):
        page = opened.page
        assert HOSTILE_IMAGE in titles(page)
        page.locator("#findings-body tr.finding").nth(1).click()
        evidence = page.locator("#findings-body tr.detail").inner_text()
        assert HOSTILE_SCRIPT in evidence and HOSTILE_IMAGE in evidence
        assert HOSTILE_OWNER in page.locator("#suppressed").inner_text()
        assert HOSTILE_SCRIPT in page.locator("#warnings").inner_text()
        # Only the page's own two script elements exist, and no <img> was ever created.
        assert page.locator("script").count() == 2
        assert page.locator("img").count() == 0
        page.wait_for_timeout(200)
        assert opened.dialogs == []
        assert opened.console_errors == []
        assert opened.requests == [opened.url]


def test_a_report_without_history_has_no_status_column(browser: Browser, tmp_path: Path) -> None:
    for opened in open_report(browser, sample_report(), tmp_path / "plain.html"):
        page = opened.page
        assert page.locator("#filter-status").count() == 0
        assert page.locator("#findings-table th").count() == 12
        assert page.locator("#findings-body tr.finding").first.locator("td").count() == 12
        assert opened.console_errors == []


@pytest.mark.slow
def test_a_50000_finding_report_loads_and_draws_its_first_page(
    browser: Browser, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    for opened in open_report(browser, large_report(50_000), tmp_path / "large.html"):
        page = opened.page
        assert page.locator("#findings-body tr.finding").count() == 100
        assert page.locator("#status").inner_text() == "Showing 1–100 of 50,000 findings"
        page.select_option("#filter-family", label="network")
        expect(page.locator("#status")).to_contain_text("of 8,333 findings")
        page.click("#page-next")
        assert page.locator("#page-info").inner_text() == "Page 2 of 84"
        assert opened.console_errors == []
        assert opened.requests == [opened.url]
