"""The HTML report in a real browser: headless Chromium driven by playwright.

The page must load offline with no console error and no request beyond its own file,
sort and filter its table (the totals following the filters, a message when nothing
matches), expand a finding to its remediation, evidence and CPU chart, copy a command,
show hostile data as text without running it, fit 1440 and 390 px wide without
horizontal scrolling (screenshots of both are taken and checked), and open a
50,000-finding report with its first rows drawn.

Screenshots go to ``COSTSCAN_SCREENSHOTS`` when it names a folder (to look at them),
else to the test's own temporary folder.

Needs the ``playwright`` package and Debian's chromium at /usr/bin/chromium (``.ci/run``
provides both; ``playwright install`` is never needed).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
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


def open_report(
    browser: Browser, report: Report, path: Path, width: int = 1280, height: int = 900
) -> Iterator[Opened]:
    path.write_bytes(HtmlRenderer().render(report))
    url = path.resolve().as_uri()
    page = browser.new_page(viewport={"width": width, "height": height})
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
        "#findings-body tr.finding", "rows => rows.map(r => r.children[7].textContent)"
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
    assert page.locator("ol.bars[aria-label='Monthly savings by service'] li").count() >= 3
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
    # The evidence as labelled figures with units, not JSON.
    assert "CPU max pct" not in text and "cpu_max_pct" not in text
    assert "CPU max\n0.60%" in text and "Lookback hours\n336 h" in text
    assert "Stop or terminate batch-runner-old." in text
    assert "Stop batch-runner-old (i-0a1b00000000001): idle over the lookback" in text
    assert "aws ec2 stop-instances --region us-east-1 --instance-ids i-0a1b00000000001" in text
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
        assert page.locator("#findings-table th").count() == 10
        assert page.locator("#findings-body tr.finding").first.locator("td").count() == 10
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


def filter_total(page: Page, key: str) -> float:
    text = page.locator(f"#filter-totals [data-total='{key}'] strong").inner_text()
    return float(text.replace("$", "").replace(",", ""))


def test_the_totals_follow_the_filters(sample_page: Opened) -> None:
    from playwright.sync_api import expect

    page = sample_page.page
    # Unfiltered, the savings total is the summary's: the counted findings' net savings.
    assert filter_total(page, "monthly_savings") == 860.87
    page.select_option("#filter-family", label="storage")
    # Storage: the unattached volume counts ($50.00); its gp3 alternative does not.
    expect(page.locator("#filter-totals")).to_contain_text("These 2 findings:")
    assert filter_total(page, "monthly_savings") == 50.0
    page.select_option("#filter-family", label="observability")
    assert filter_total(page, "monthly_savings") == 34.5  # 25.50 + 9.00


def test_an_empty_filter_says_so_and_clears(sample_page: Opened) -> None:
    from playwright.sync_api import expect

    page = sample_page.page
    page.fill("#filter-text", "nothing matches this")
    expect(page.locator("#empty")).to_be_visible()
    assert "No finding matches these filters." in page.locator("#empty").inner_text()
    assert page.locator("#findings-body tr.finding").count() == 0
    assert filter_total(page, "monthly_savings") == 0.0
    page.click("#clear-filters")
    expect(page.locator("#findings-body tr.finding")).to_have_count(8)
    expect(page.locator("#empty")).to_be_hidden()


def test_a_top_change_opens_its_finding_with_its_cpu_chart(
    browser: Browser, tmp_path: Path
) -> None:
    for opened in open_report(browser, sample_report(), tmp_path / "top.html"):
        page = opened.page
        top = page.locator("ol.top-changes li")
        assert top.count() == 5
        assert (
            top.nth(2)
            .inner_text()
            .startswith("Stop batch-runner-old (i-0a1b00000000001): idle over the lookback")
        )
        top.nth(2).locator("a").click()
        detail = page.locator("#findings-body tr.detail")
        assert detail.count() == 1
        chart = detail.locator("figure.cpu")
        assert chart.count() == 1
        assert chart.get_attribute("data-resource") == "i-0a1b00000000001"
        # Two lines of data, the target and alert lines and p99 (from the series: the
        # evidence has none): the 99th of the 99 hours with data, 1.0%.
        assert chart.locator("svg path").count() == 2
        assert chart.locator("svg line").count() == 3
        legend = chart.locator(".cpu-legend").inner_text()
        assert "target 70%" in legend and "alert 85%" in legend
        assert "p99 1.0% (of the hourly average)" in legend
        # The average path breaks at the missing hour: two runs of points.
        average = chart.locator("svg path").nth(1).get_attribute("d") or ""
        assert average.count("M") == 2
        assert opened.console_errors == []


def test_the_copy_button_copies_the_command(browser: Browser, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    for opened in open_report(browser, sample_report(), tmp_path / "copy.html"):
        page = opened.page
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.locator("#findings-body tr.finding").nth(2).click()
        button = page.locator("#findings-body tr.detail button.copy").first
        button.click()
        # expect() polls without evaluating strings, which the page's CSP forbids.
        expect(button).to_have_text("Copied")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == (
            "aws ec2 stop-instances --region us-east-1 --instance-ids i-0a1b00000000001"
            "  # terminate-instances once nobody misses it"
        )


def _screenshots(tmp_path: Path) -> Path:
    folder = os.environ.get("COSTSCAN_SCREENSHOTS")
    out = Path(folder) if folder else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    return out


def _inside(page: Page, selector: str, width: int) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (selector, box)


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_page_fits_desktop_and_phone_widths(
    browser: Browser, tmp_path: Path, width: int, height: int
) -> None:
    shots = _screenshots(tmp_path)
    for opened in open_report(browser, history_report(), tmp_path / "fit.html", width, height):
        page = opened.page
        # The headline, the totals and the top changes are on the first screen.
        for selector in ("#headline", "#total-monthly_savings", "ol.top-changes li"):
            box = page.locator(selector).first.bounding_box()
            assert box is not None and box["y"] < height, selector
            _inside(page, selector, width)
        page.screenshot(path=str(shots / f"report-{width}-top.png"))
        page.locator("ol.top-changes a").nth(2).click()
        figure = page.locator("#findings-body tr.detail figure.cpu")
        figure.scroll_into_view_if_needed()
        for selector in (
            "#findings-body tr.detail",
            "#findings-body tr.detail figure.cpu",
            "#findings-body tr.detail pre.code",
            "#findings-body tr.detail dl.kv",
        ):
            _inside(page, selector, width)
        page.screenshot(path=str(shots / f"report-{width}-finding.png"))
        # Nothing scrolls sideways: not the page, not the table.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        wrap = page.evaluate(
            "(() => { const w = document.querySelector('.table-wrap');"
            " return [w.scrollWidth, w.clientWidth]; })()"
        )
        assert wrap[0] <= wrap[1]
        if width < 700:
            # A phone shows cards: no table header, each cell labelled.
            assert not page.locator("#findings-table thead").is_visible()
            cell = page.locator("#findings-body tr.finding td[data-label='Net/mo']").first
            assert cell.is_visible()
        for name in (f"report-{width}-top.png", f"report-{width}-finding.png"):
            data = (shots / name).read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
        assert opened.console_errors == []
        assert opened.requests == [opened.url]
