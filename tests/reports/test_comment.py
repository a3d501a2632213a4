"""The report as a GitHub comment: the marker line, the report after it, trimmed to fit.

Nothing here talks to GitHub; tests/publish posts these bodies to the fake GitHub API.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from costscan.reports.comment import (
    MAX_BODY_CHARS,
    comment_body,
    marker_line,
    tracking_issue_body,
)
from costscan.reports.markdown import GITHUB_COMMENT_LIMIT, MARKER, render_markdown
from costscan.scanner.contracts.errors import UsageError
from tests.reports.sample import SAMPLE_BOTTLENECKS, large_report, ranked_frame

GOLDEN = Path(__file__).parent / "golden"


def sample_markdown() -> str:
    return (GOLDEN / "sample.md").read_text(encoding="utf-8")


def headline(markdown: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith("**"))


def finding_rows(text: str) -> list[str]:
    """The data rows of the "Top findings" table."""
    lines = text.splitlines()
    start = lines.index("### Top findings") + 4  # heading, blank, header, separator
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_a_report_that_fits_is_posted_exactly_after_the_marker() -> None:
    markdown = sample_markdown()
    body, trimmed = comment_body(markdown, marker_id="prod")
    assert trimmed is False
    # The renderer's own marker is replaced, not repeated.
    assert body == markdown.replace(MARKER, "<!-- costscan:prod -->", 1)


def test_the_default_marker_line_is_costscan() -> None:
    body, _ = comment_body(sample_markdown())
    assert body.splitlines()[0] == "<!-- costscan:costscan -->" == marker_line()


@pytest.mark.parametrize("marker_id", ["x -->", "", "-leading-dash", "a" * 65, "ünïcode"])
def test_a_marker_id_that_could_break_the_hidden_line_is_a_usage_error(marker_id: str) -> None:
    with pytest.raises(UsageError, match="marker id"):
        marker_line(marker_id)
    with pytest.raises(UsageError, match="marker id"):
        comment_body(sample_markdown(), marker_id=marker_id)


def test_the_tracking_issue_body_carries_the_marker_and_says_how_reports_arrive() -> None:
    edited = tracking_issue_body("staging", edited_in_place=True)
    added = tracking_issue_body("staging", edited_in_place=False)
    assert edited.splitlines()[0] == added.splitlines()[0] == "<!-- costscan:staging -->"
    assert "each run's report is edited in place." in edited
    assert "each run's report is added as a new comment each run." in added


def test_a_70000_character_report_is_trimmed_under_the_limit_keeping_headline_and_top_rows() -> (
    None
):
    markdown = render_markdown(large_report(600), max_chars=500_000)
    assert len(markdown) > 70_000
    run_url = "https://github.com/acme/infra/actions/runs/123"

    body, trimmed = comment_body(markdown, report_url=run_url)

    assert trimmed is True
    assert len(body) < GITHUB_COMMENT_LIMIT
    assert body.splitlines()[0] == marker_line()
    assert headline(markdown) in body
    assert "### Savings by family" in body
    kept = finding_rows(body)
    all_rows = finding_rows(markdown)
    assert 100 < len(kept) < len(all_rows)
    assert kept == all_rows[: len(kept)]  # the top rows, in rank order, each whole
    cut = len(all_rows) - len(kept)
    assert f"_{cut:,} findings not shown, to fit GitHub's comment limit; " in body
    assert f"the full report is at <{run_url}>" in body


def test_the_report_url_cannot_end_its_autolink_early() -> None:
    markdown = render_markdown(large_report(600), max_chars=500_000)
    body, _ = comment_body(markdown, report_url="https://ci.example/run?a=1&b=<2> x")
    assert "the full report is at <https://ci.example/run?a=1&b=%3C2%3E%20x>." in body


def test_trimming_keeps_the_sections_after_the_findings_table_when_they_fit() -> None:
    report = dataclasses.replace(large_report(600), bottlenecks=ranked_frame(SAMPLE_BOTTLENECKS))
    markdown = render_markdown(report, max_chars=500_000)

    body, trimmed = comment_body(markdown)

    assert trimmed and len(body) <= MAX_BODY_CHARS
    assert "### Bottlenecks (" in body
    assert "checkout-db (i-0f9a00000000009)" in body
    assert body.index("not shown, to fit") < body.index("### Bottlenecks")


def test_trimming_folds_in_the_rows_the_renderer_already_left_out() -> None:
    markdown = render_markdown(large_report(600), max_chars=20_000)
    renderer_note = re.search(r"_([\d,]+) findings not shown;", markdown)
    assert renderer_note is not None
    already = int(renderer_note.group(1).replace(",", ""))
    shown_by_renderer = len(finding_rows(markdown))

    body, trimmed = comment_body(markdown, max_chars=10_000)

    assert trimmed and len(body) <= 10_000
    kept = len(finding_rows(body))
    assert f"_{already + shown_by_renderer - kept:,} findings not shown" in body
    assert "findings not shown;" not in body  # the renderer's stale note is gone
    assert "the HTML, CSV and JSON reports list them all" in body


def test_trimming_drops_the_later_sections_before_the_top_ten_findings() -> None:
    markdown = render_markdown(large_report(40), max_chars=500_000)
    long_tail = "\n".join(f"| e{n} | {'x' * 200} |" for n in range(40))
    markdown += "\n### Collector errors (40)\n\n| Collector | Message |\n| --- | --- |\n"
    markdown += long_tail + "\n"
    # Keeping the errors table would leave fewer than ten findings; dropping it leaves all.
    limit = len(markdown) - 5_500

    body, trimmed = comment_body(markdown, max_chars=limit)

    assert trimmed and len(body) <= limit
    assert finding_rows(body) == finding_rows(markdown)
    assert "### Collector errors" not in body
    assert "_the sections after this table were cut, to fit GitHub's comment limit; " in body
    assert "not shown" not in body


def test_a_report_without_a_findings_table_is_cut_at_a_line_with_a_note() -> None:
    markdown = "**headline**\n\n" + "\n".join(f"line {n} " + "y" * 90 for n in range(200))

    body, trimmed = comment_body(markdown, max_chars=5_000)

    assert trimmed and len(body) <= 5_000
    lines = body.rstrip("\n").splitlines()
    assert lines[:2] == [marker_line(), "**headline**"]
    assert lines[-1] == (
        "_The report was cut here to fit GitHub's comment limit; "
        "the HTML, CSV and JSON reports list them all._"
    )
    kept = [line for line in lines if line.startswith("line ")]
    assert kept == markdown.splitlines()[2 : 2 + len(kept)]  # whole lines, in order
