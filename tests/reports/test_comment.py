"""The report as a GitHub comment: the marker line, the report after it, trimmed to fit.

Nothing here talks to GitHub; tests/publish posts these bodies to the fake GitHub API.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from costscan.reports.comment import (
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
    """The data rows of the top changes table."""
    lines = text.splitlines()
    heading = next(i for i, line in enumerate(lines) if line.startswith("### Top "))
    start = heading + 4  # heading, blank, header, separator
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
    markdown = render_markdown(large_report(900), max_chars=500_000, family_rows=None)
    assert len(markdown) > 70_000
    run_url = "https://github.com/acme/infra/actions/runs/123"

    body, trimmed = comment_body(markdown, report_url=run_url)

    assert trimmed is True
    assert len(body) < GITHUB_COMMENT_LIMIT
    assert body.splitlines()[0] == marker_line()
    assert headline(markdown) in body
    # The top changes stay whole and in rank order; the folded families after them go.
    assert finding_rows(body) == finding_rows(markdown)
    assert len(finding_rows(body)) == 10
    assert "<summary>rightsizing:" in markdown and "<summary>rightsizing:" not in body
    assert (
        "_the sections after this table were cut, to fit GitHub's comment limit; "
        f"the full report is at <{run_url}>._"
    ) in body


def test_the_report_url_cannot_end_its_autolink_early() -> None:
    markdown = render_markdown(large_report(900), max_chars=500_000, family_rows=None)
    body, _ = comment_body(markdown, report_url="https://ci.example/run?a=1&b=<2> x")
    assert "the full report is at <https://ci.example/run?a=1&b=%3C2%3E%20x>." in body


def test_trimming_keeps_the_sections_after_the_top_changes_when_they_fit() -> None:
    report = dataclasses.replace(large_report(60), bottlenecks=ranked_frame(SAMPLE_BOTTLENECKS))
    markdown = render_markdown(report, max_chars=500_000)
    long_line = "x" * 3_000
    padded = markdown.replace("### Top 10 changes", f"{long_line}\n\n### Top 10 changes", 1)

    body, trimmed = comment_body(padded, max_chars=len(padded) - 1)

    # Too long by a little: the top changes lose nothing and the sections after them stay
    # only if they fit, which here they do not; with room they do.
    assert trimmed and len(body) <= len(padded) - 1
    roomy, cut = comment_body(markdown, max_chars=len(markdown) + 100)
    assert not cut
    assert "### Bottlenecks (" in roomy
    assert "checkout-db (i-0f9a00000000009)" in roomy


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


def test_each_family_folds_at_most_its_top_rows_and_says_how_many_it_left_out() -> None:
    """The comment is read, not searched: a family of many findings shows its first
    FAMILY_ROWS and points at the reports that hold them all."""
    import re

    from costscan.reports.markdown import FAMILY_ROWS

    markdown = render_markdown(large_report(900))
    sections = re.findall(r"<summary>(\w+): ([\d,]+) findings.*?</summary>(.*?)</details>",
                          markdown, flags=re.S)  # fmt: skip
    assert sections
    for _family, total, body in sections:
        rows = [line for line in body.splitlines() if re.match(r"\| (alt\. to )?#?\u200b?\d", line)]
        count = int(total.replace(",", ""))
        assert len(rows) == min(count, FAMILY_ROWS)
        if count > FAMILY_ROWS:
            assert f"_{count - FAMILY_ROWS:,} findings not shown;" in body
    assert len(markdown) < 20_000
