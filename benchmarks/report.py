"""Report rendering at scale: render time and file size of every format, and the browser's
load time of the HTML report, for 1,000, 10,000 and 50,000 findings side by side.

Findings come from ``tests.reports.large_report`` (the renderer tests' generator). The
HTML report is opened from disk in headless Chromium (Debian's /usr/bin/chromium, driven
by playwright, with the flags the browser test uses); the load figures are
DOMContentLoaded and the moment the first page of table rows is in the DOM, both from
navigation start. Each render is timed once after one warm-up of the smallest size.

    python benchmarks/report.py
    python benchmarks/report.py --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from costscan.reports.formats import FORMATS, renderer_for
from tests.reports.sample import large_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
# The time the page has reached each mark, read from inside it after the first rows show.
LOAD_MARKS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return {dom: nav.domContentLoadedEventEnd, rows: window.__firstRows};
}"""
# Recorded by a MutationObserver installed before the page's own script runs.
FIRST_ROWS_OBSERVER = """
new MutationObserver((changes, observer) => {
  if (document.querySelector("#findings-body tr.finding")) {
    window.__firstRows = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


def render_all(size: int, out_dir: Path) -> dict[str, tuple[float, int]]:
    report = large_report(size)
    figures = {}
    for name in FORMATS:
        renderer = renderer_for(name)
        started = time.perf_counter()
        data = renderer.render(report)
        figures[name] = (time.perf_counter() - started, len(data))
        (out_dir / f"report-{size}.{renderer.extension}").write_bytes(data)
    return figures


def browser_load(paths: list[Path]) -> dict[Path, tuple[float, float]] | str:
    if not CHROMIUM.exists():
        return f"no chromium at {CHROMIUM}"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "playwright is not installed"
    out = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            for path in paths:
                page = browser.new_page()
                # add_init_script runs through the DevTools protocol: the page's CSP allows
                # only its own script, and this observer is not part of the page.
                page.add_init_script(FIRST_ROWS_OBSERVER)
                page.goto(path.resolve().as_uri(), wait_until="load")
                page.wait_for_selector("#findings-body tr.finding")
                marks = page.evaluate(LOAD_MARKS)
                out[path] = (marks["dom"] / 1000, (marks["rows"] or float("nan")) / 1000)
                page.close()
        finally:
            browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="costscan-bench-") as tmp:
        out_dir = Path(tmp)
        render_all(min(sizes), out_dir)  # warm-up: imports, template compilation
        results = {size: render_all(size, out_dir) for size in sizes}
        html_paths = [out_dir / f"report-{size}.html" for size in sizes]
        loads = browser_load(html_paths)

    header = f"{'':<26}" + "".join(f"{size:>16,}" for size in sizes)
    print(header)
    print("-" * len(header))
    for name in FORMATS:
        print(
            f"{name + ' render (s)':<26}"
            + "".join(f"{results[size][name][0]:>16.3f}" for size in sizes)
        )
        print(
            f"{name + ' size (MB)':<26}"
            + "".join(f"{results[size][name][1] / 1e6:>16.2f}" for size in sizes)
        )
    if isinstance(loads, str):
        print(f"browser load: skipped ({loads})")
        return
    print(
        f"{'html DOMContentLoaded (s)':<26}"
        + "".join(f"{loads[path][0]:>16.3f}" for path in html_paths)
    )
    print(
        f"{'html first rows (s)':<26}" + "".join(f"{loads[path][1]:>16.3f}" for path in html_paths)
    )


if __name__ == "__main__":
    main()
