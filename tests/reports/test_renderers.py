"""The renderers against golden files, hostile text, big reports and the format registry.

Golden files: ``COSTSCAN_UPDATE_GOLDEN=1 pytest tests/reports`` rewrites them from the
sample report; review the diff before committing it.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import io
import json
import math
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from costscan.reports import html as html_module
from costscan.reports.csv import REMEDIATION_COLUMNS, SORT_COLUMNS, CsvRenderer
from costscan.reports.formats import (
    FORMATS,
    ParquetRenderer,
    read_parquet_report,
    renderer_for,
)
from costscan.reports.html import STATIC_FINDINGS, HtmlRenderer, environment
from costscan.reports.interface import Report
from costscan.reports.json import JsonRenderer, dump, report_document
from costscan.reports.markdown import GITHUB_COMMENT_LIMIT, MarkdownRenderer
from costscan.reports.terminal import closing_lines, summary_lines, top_lines
from costscan.scanner.contracts.errors import InputFileError, UsageError
from costscan.scanner.contracts.files import output_path
from costscan.scanner.contracts.schema import FAMILIES, RANKED, SUPPRESSED
from costscan.scanner.contracts.vocab import ResourceType
from tests.reports.sample import (
    HISTORY,
    HOSTILE_FORMULA,
    HOSTILE_OWNER,
    HOSTILE_PIPE,
    HOSTILE_SCRIPT,
    SAMPLE_FINDINGS,
    SAMPLE_SUPPRESSED,
    history_report,
    large_report,
    sample_report,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("COSTSCAN_UPDATE_GOLDEN") == "1"

HOSTILE = f"{HOSTILE_FORMULA}\n{HOSTILE_SCRIPT} {HOSTILE_PIPE}\r\n@everyone [x](y) `z`"
MONEY_COLUMNS = (
    "current_monthly_cost",
    "monthly_savings",
    "added_monthly_cost",
    "upfront_cost",
    "standalone_monthly_savings",
    "net_monthly_savings",
    "implementation_cost",
)
TEXT_COLUMNS = tuple(name for name, dtype in RANKED.items() if dtype == pl.String)


def hostile_report() -> Report:
    """The sample with every text field of its second finding, and the run's accounts and
    regions, set to hostile text."""
    report = sample_report()
    is_target = pl.col("rank") == 2
    evidence = json.dumps({"tag": HOSTILE, HOSTILE: 1})
    replaced = [
        pl.when(is_target).then(pl.lit(HOSTILE)).otherwise(pl.col(c)).alias(c)
        for c in TEXT_COLUMNS
        if c not in ("evidence", "alternative_to")
    ]
    findings = report.findings.with_columns(
        *replaced,
        pl.when(is_target).then(pl.lit(evidence)).otherwise(pl.col("evidence")).alias("evidence"),
    )
    run = dataclasses.replace(report.run, accounts=[HOSTILE, "222222222222"], regions=[HOSTILE])
    return Report(
        run=run,
        findings=findings,
        bottlenecks=report.bottlenecks,
        summary=report.summary,
        errors=report.errors,
        rejections=report.rejections,
    )


def replace_findings(report: Report, findings: pl.DataFrame) -> Report:
    return Report(
        run=report.run,
        findings=findings,
        bottlenecks=report.bottlenecks,
        summary=report.summary,
        errors=report.errors,
        rejections=report.rejections,
    )


def csv_rows(data: bytes, *, partial: bool = False) -> list[dict[str, str]]:
    """The CSV's rows; without ``partial``, the findings' sections only (a partial report
    leads with one row per collector error, tested on its own)."""
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    return rows if partial else [r for r in rows if r["section"] != "partial"]


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def markdown_tables(text: str) -> list[list[str]]:
    tables: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if line.startswith("| "):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def embedded_data(page: str) -> dict[str, Any]:
    match = re.search(
        r'<script type="application/json" id="costscan-data">(.*?)</script>', page, re.S
    )
    assert match, "the page embeds its data"
    block = match.group(1)
    assert "<" not in block and ">" not in block and "&" not in block
    return json.loads(block)


def decoded_column(data: dict[str, Any], name: str) -> list[Any]:
    column = data["findings"]["columns"][name]
    if isinstance(column, list):
        return column
    return [None if code is None else column["values"][code] for code in column["codes"]]


# --- golden files -------------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["sample", "sample_history"])
@pytest.mark.parametrize("name", ["json", "csv", "md"])
def test_sample_report_renders_exactly_as_its_golden_file(name: str, sample: str) -> None:
    renderer = renderer_for(name)
    report = sample_report() if sample == "sample" else history_report()
    rendered = renderer.render(report)
    golden = GOLDEN / f"{sample}.{renderer.extension}"
    if UPDATE_GOLDEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(rendered)
    assert golden.exists(), f"{golden} is missing: run with COSTSCAN_UPDATE_GOLDEN=1"
    assert rendered == golden.read_bytes()


def test_rendering_twice_gives_the_same_bytes() -> None:
    for name in FORMATS:
        if name == "parquet":
            continue  # parquet files carry writer metadata; the JSON inside is checked below
        renderer = renderer_for(name)
        assert renderer.render(sample_report()) == renderer.render(sample_report()), name


# --- JSON -----------------------------------------------------------------------------------


def test_json_has_the_contract_shape_and_every_ranked_column() -> None:
    document = json.loads(JsonRenderer().render(sample_report()))
    assert list(document) == [
        "schema_version",
        "run",
        "summary",
        "findings",
        "bottlenecks",
        "suppressed",
        "errors",
        "rejected_rows",
        "history",
        "warnings",
    ]
    assert document["schema_version"] == 1
    assert document["suppressed"] == [] and document["history"] is None
    assert document["warnings"] == []
    assert list(document["run"]) == [
        "provider",
        "accounts",
        "regions",
        "started_at",
        "lookback_days",
        "currency",
        "costscan_version",
    ]
    assert list(document["summary"]["by_family"]) == list(FAMILIES)
    for finding in document["findings"] + document["bottlenecks"]:
        assert list(finding) == list(RANKED)
    assert [f["rank"] for f in document["findings"]] == [r["rank"] for r in SAMPLE_FINDINGS]
    assert list(document["errors"][0]) == [
        "collector",
        "account_id",
        "region",
        "message",
        "measures",
        "affects",
        "frames",
        "resource_types",
        "resources",
    ]
    assert document["rejected_rows"] == [
        {"frame": "compute", "reason": "no resource_id", "rows": 2}
    ]


def test_json_summary_monthly_savings_is_the_sum_of_counted_net_savings() -> None:
    document = json.loads(JsonRenderer().render(sample_report()))
    counted = [f for f in document["findings"] if f["counted"]]
    assert counted, "the sample has counted findings"
    total = sum(f["net_monthly_savings"] for f in counted)
    assert document["summary"]["monthly_savings"] == pytest.approx(total, abs=0.005)
    assert document["summary"]["counted_findings"] == len(counted)
    for family, figures in document["summary"]["by_family"].items():
        in_family = [f for f in counted if f["family"] == family]
        family_total = sum(f["net_monthly_savings"] for f in in_family)
        assert figures["monthly_savings"] == pytest.approx(family_total, abs=0.005), family


def test_json_evidence_is_an_object_and_invalid_evidence_is_kept_raw() -> None:
    document = json.loads(JsonRenderer().render(sample_report()))
    by_policy = {f["policy_id"]: f for f in document["findings"]}
    assert by_policy["rightsizing.idle"]["evidence"] == {
        "cpu_max_pct": 0.6,
        "lookback_hours": 336,
        "network_mb_per_day": 1.2,
    }
    assert by_policy["observability.log-retention"]["evidence"] == {"raw": "retention: never {"}


def test_non_finite_figures_are_null_in_json_and_empty_in_csv() -> None:
    report = sample_report()
    first = pl.col("rank") == 1
    findings = report.findings.with_columns(
        pl.when(first)
        .then(float("inf"))
        .otherwise(pl.col("payback_months"))
        .alias("payback_months"),
        pl.when(first).then(float("nan")).otherwise(pl.col("roi_12m")).alias("roi_12m"),
        pl.when(first)
        .then(pl.lit('{"ratio": NaN, "big": 1e999, "ok": 2}'))
        .otherwise(pl.col("evidence"))
        .alias("evidence"),
    )
    report = replace_findings(report, findings)
    document = json.loads(JsonRenderer().render(report))
    top = document["findings"][0]
    assert top["payback_months"] is None
    assert top["roi_12m"] is None
    assert top["evidence"] == {"ratio": None, "big": None, "ok": 2}
    row = csv_rows(CsvRenderer().render(report))[0]
    assert row["payback_months"] == ""
    assert row["roi_12m"] == ""


def test_json_keeps_hostile_text_exactly() -> None:
    document = json.loads(JsonRenderer().render(hostile_report()))
    target = document["findings"][1]
    assert target["title"] == HOSTILE
    assert target["evidence"] == {"tag": HOSTILE, HOSTILE: 1}


def test_json_renderer_writes_exactly_what_the_stdlib_encoder_writes() -> None:
    # The renderer encodes findings column by column for speed; the bytes must not move.
    report = hostile_report()
    odd = report.findings.with_columns(
        pl.when(pl.col("rank") == 3)
        .then(pl.lit(1e-07))
        .otherwise(pl.col("confidence"))
        .alias("confidence"),
        pl.when(pl.col("rank") == 4)
        .then(pl.lit(1.5e17))
        .otherwise(pl.col("current_monthly_cost"))
        .alias("current_monthly_cost"),
        pl.when(pl.col("rank") == 5)
        .then(pl.lit('{"nested": {"a": [1, 2.5e-09, null]}, "text": "tab\\there\\u0001", "x": []}'))
        .otherwise(pl.col("evidence"))
        .alias("evidence"),
        pl.when(pl.col("rank") == 6)
        .then(pl.lit('say "hi"\\ \u2028 é'))
        .otherwise(pl.col("title"))
        .alias("title"),
    )
    for candidate in (replace_findings(report, odd), history_report(), large_report(300)):
        assert JsonRenderer().render(candidate) == dump(report_document(candidate))


def test_json_carries_history_suppressions_and_warnings() -> None:
    document = json.loads(JsonRenderer().render(history_report()))
    assert document["history"]["realized_monthly_savings"] == 73.68
    assert list(document["history"]) == [
        "previous_started_at",
        "new_findings",
        "new_monthly_savings",
        "still_open",
        "resolved",
        "realized_monthly_savings",
    ]
    assert document["history"]["resolved"] == HISTORY["resolved"]
    realized = sum(r["net_monthly_savings"] for r in document["history"]["resolved"])
    assert document["history"]["realized_monthly_savings"] == pytest.approx(realized)
    new = [f for f in document["findings"] if f["status"] == "new" and f["counted"]]
    assert document["history"]["new_monthly_savings"] == pytest.approx(
        sum(f["net_monthly_savings"] for f in new)
    )
    suppressed = document["suppressed"]
    assert [list(s) for s in suppressed] == [list(SUPPRESSED)] * 2
    assert suppressed[1]["suppress_owner"] == HOSTILE_OWNER
    assert suppressed[0]["suppress_expires"] == "2027-03-31"
    assert suppressed[0]["evidence"] == {"size_gb": 250, "age_days": 299}
    assert document["summary"]["suppressed"] == len(suppressed)
    assert document["summary"]["suppressed_monthly_savings"] == pytest.approx(
        sum(s["net_monthly_savings"] for s in suppressed)
    )
    assert list(document["summary"]["spend"]["top_resources"][0]) == [
        "resource_id",
        "service",
        "billed_cost",
    ]
    assert len(document["warnings"]) == 2 and HOSTILE_SCRIPT in document["warnings"][1]


# --- CSV ------------------------------------------------------------------------------------


def test_csv_lists_suppressed_findings_with_their_rule_and_neutralizes_them() -> None:
    rows = csv_rows(CsvRenderer().render(history_report()))
    sections = [r["section"] for r in rows]
    assert sections == ["findings"] * 8 + ["suppressed"] * 2
    for row in rows[:8]:
        assert all(row[c] == "" for c in SUPPRESSED if c.startswith("suppress_"))
    suppressed = rows[8:]
    assert [r["finding_id"] for r in suppressed] == [s["finding_id"] for s in SAMPLE_SUPPRESSED]
    assert suppressed[0]["suppress_reason"] == "Legal hold until the audit closes"
    assert suppressed[0]["suppress_expires"] == "2027-03-31"
    assert suppressed[1]["suppress_owner"] == HOSTILE_OWNER  # starts with "<": not a formula
    assert rows[1]["status"] == "new" and rows[0]["weeks_open"] == "3"


def test_csv_has_one_row_per_finding_with_the_json_column_names() -> None:
    report = sample_report()
    data = CsvRenderer().render(report)
    rows = csv_rows(data)
    header = data.split(b"\r\n", 1)[0].decode().split(",")
    assert header == ["section", *SUPPRESSED, *SORT_COLUMNS, *REMEDIATION_COLUMNS]
    assert [r["section"] for r in rows] == ["findings"] * 8
    assert [r["finding_id"] for r in rows[:8]] == report.findings["finding_id"].to_list()
    assert data.endswith(b"\r\n")
    # Every record ends in CRLF; a bare LF only appears inside a quoted cell.
    assert data.count(b"\r\n") >= len(rows) + 1


def test_csv_money_stays_a_plain_number_including_negative_figures() -> None:
    report = sample_report()
    rows = csv_rows(CsvRenderer().render(report))
    investments = csv_rows(CsvRenderer().render_investments(report))
    expected = pl.concat([report.findings, report.bottlenecks]).to_dicts()
    for row, want in zip([*rows, *investments], expected, strict=True):
        for column in MONEY_COLUMNS:
            assert re.fullmatch(r"-?\d+(\.\d+)?", row[column]), (column, row[column])
            assert float(row[column]) == pytest.approx(want[column])
    bottleneck = investments[-1]
    assert bottleneck["net_monthly_savings"] == "-280.32"
    assert bottleneck["counted"] == "false"
    assert json.loads(rows[0]["evidence"]) == json.loads(SAMPLE_FINDINGS[0]["evidence"])


def test_csv_neutralizes_every_text_cell_that_could_start_a_formula() -> None:
    rows = csv_rows(CsvRenderer().render(hostile_report()))
    target = rows[1]
    for column in TEXT_COLUMNS:
        if column in ("evidence", "alternative_to"):
            continue
        assert target[column] == "'" + HOSTILE, column
    for row in rows:
        for column, value in row.items():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), (column, row)
            # A minus starts a formula too, unless the cell is a number.
            if value.startswith("-"):
                assert re.fullmatch(r"-\d+(\.\d+)?", value), (column, value)
    sample_rows = csv_rows(CsvRenderer().render(sample_report()))
    assert sample_rows[1]["resource_name"] == "'" + HOSTILE_FORMULA
    assert sample_rows[1]["recommendation"].startswith("'-Stop")


# --- Markdown -------------------------------------------------------------------------------


def test_markdown_headline_matches_the_summary() -> None:
    text = MarkdownRenderer().render(sample_report()).decode()
    lines = text.split("\n")
    assert lines[0] == "<!-- costscan -->"
    assert lines[1] == "**$860.87/month in savings found** with 7 changes — $10,330.44/year"


def test_markdown_escapes_hostile_text_and_keeps_tables_whole() -> None:
    text = MarkdownRenderer().render(hostile_report()).decode()
    body = text.split("\n", 1)[1]  # after the <!-- costscan --> marker
    # Our own markup: the folds, and the fenced commands (code: GitHub shows it as text,
    # and the fence is longer than any backtick run inside it).
    body = re.sub(r"</?(details|summary)>", "", body)
    fences = re.findall(r"^(`{3,})sh\n.*?^\1$", body, re.S | re.M)
    assert fences, "the commands of the top changes are fenced"
    body = re.sub(r"^(`{3,})sh\n.*?^\1$", "", body, flags=re.S | re.M)
    assert not re.search(r"(?<!\\)[<>]", body), "every angle bracket is escaped"
    assert "\r" not in text
    assert "\\<script\\>" in text
    assert "a\\|b" in text
    assert "\\[x\\]" in text and "\\`z\\`" in text
    assert "@everyone" not in text  # a zero-width space stops the mention
    for table in markdown_tables(text):
        widths = {unescaped_pipes(line) for line in table}
        assert len(widths) == 1, table


def test_markdown_with_history_gives_the_week_in_its_headline_and_sections() -> None:
    text = MarkdownRenderer().render(history_report()).decode()
    lines = text.split("\n")
    assert lines[1] == (
        "**$860.87/month in savings found** with 7 changes: +$205.71 new this week, "
        "$73.68 realized since last week"
    )
    tables = markdown_tables(text)
    top = next(t for t in tables if t[0].startswith("| # | Change |"))
    assert top[2].startswith("| 1 · open 3 wk | ")
    assert top[3].startswith("| 2 · new | ")
    assert "### Resolved since last run (2)" in text
    assert "Realized savings: $73.68/month" in text
    assert (
        "| Idle instance: CPU never above 1% in 14 days | legacy-worker (i-0e2f00000000007) |"
        in text
    )
    assert "### Suppressed (2)" in text
    suppressed = next(
        t for t in tables if t[0].startswith("| Finding | Resource | Net/month | Reason")
    )
    assert "Legal hold until the audit closes" in suppressed[2]
    assert "2027-03-31" in suppressed[2]
    assert "\\<img src=x onerror=alert(1)\\>" in suppressed[3]
    assert "2 findings suppressed ($152.66/month), not in the totals" in text
    warnings = [line for line in lines if line.startswith("> **Warning:**")]
    assert len(warnings) == 2 and "\\<script\\>" in warnings[1]
    assert "Largest resources by billed cost: i-0d4e00000000004" in text
    for table in tables:
        assert len({unescaped_pipes(line) for line in table}) == 1, table


def test_markdown_without_history_has_no_status_column_or_resolved_section() -> None:
    text = MarkdownRenderer().render(sample_report()).decode()
    assert "Status" not in text and "Resolved since" not in text and "Suppressed" not in text


def test_markdown_with_history_and_5000_findings_still_fits() -> None:
    big = large_report(5000)
    report = dataclasses.replace(
        big,
        findings=big.findings.with_columns(
            pl.lit("open").alias("status"), pl.lit(2, dtype=pl.Int64).alias("weeks_open")
        ),
        history={**HISTORY, "resolved": HISTORY["resolved"] * 1000},
        suppressed=pl.concat([pl.DataFrame(SAMPLE_SUPPRESSED, schema=dict(SUPPRESSED))] * 1000),
        warnings=["a warning " * 20] * 100,
    )
    text = MarkdownRenderer().render(report).decode()
    assert len(text) < GITHUB_COMMENT_LIMIT
    assert "+$205.71 new this week" in text.split("\n")[1]
    assert re.search(r"_[\d,]+ resolved findings not shown", text)
    assert re.search(r"_[\d,]+ suppressed findings not shown", text)
    assert re.search(r"_[\d,]+ findings not shown", text)
    assert "80 more warnings in the JSON report" in text


def test_markdown_notes_alternatives_by_the_rank_they_replace() -> None:
    text = MarkdownRenderer().render(sample_report()).decode()
    row = next(line for line in text.split("\n") if "gp2 volume can move to gp3" in line)
    # A zero-width space keeps "#4" from linking issue 4 on GitHub.
    assert row.startswith("| 8 (alt. to #\u200b4) |")
    assert "do not count toward the totals" in text


def test_markdown_of_5000_findings_fits_a_github_comment_and_keeps_the_top() -> None:
    report = large_report(5000)
    text = MarkdownRenderer().render(report).decode()
    assert len(text) < GITHUB_COMMENT_LIMIT
    counted = report.findings.filter(pl.col("counted"))
    assert text.split("\n")[1].startswith(
        f"**${report.summary['monthly_savings']:,.2f}/month in savings found** with "
        f"{counted.height:,} changes"
    )
    top = next(t for t in markdown_tables(text) if t[0].startswith("| # | Change |"))
    ranks = [int(line.split(" ")[1]) for line in top[2:]]
    assert ranks == counted["rank"].head(10).to_list()
    # Every other finding sits folded under its family, each table saying what it left out.
    shown = 0
    for family in FAMILIES:
        block = re.search(rf"<summary>{family}: ([\d,]+) findings.*?</details>", text, re.S)
        assert block, family
        rows = [line for line in block.group(0).split("\n") if re.match(r"\| \d", line)]
        note = re.search(r"_([\d,]+) findings not shown", block.group(0))
        left_out = int(note.group(1).replace(",", "")) if note else 0
        assert len(rows) + left_out == int(block.group(1).replace(",", "")), family
        shown += int(block.group(1).replace(",", ""))
    assert shown + len(ranks) == 5000


def test_markdown_of_the_sample_folds_each_family_and_lists_the_commands() -> None:
    text = MarkdownRenderer().render(sample_report()).decode()
    assert text.count("<details>") == text.count("</details>")
    assert "<summary>storage: 1 finding, $50.00/month counted</summary>" in text
    # The commands of the top changes, fenced: the idle instance's (rank 3).
    assert "aws ec2 stop-instances --region us-east-1 --instance-ids i-0a1b00000000001" in text
    for table in markdown_tables(text):
        assert table[0].count("|") - 1 <= 7, table[0]  # at most seven columns


def test_markdown_links_the_full_report_when_the_run_says_where_it_is() -> None:
    url = "https://github.com/acme/infra/actions/runs/42"
    report = dataclasses.replace(
        sample_report(), run=dataclasses.replace(sample_report().run, report_url=url)
    )
    text = MarkdownRenderer().render(report).decode()
    assert f"**[Open the full report](<{url}>)**" in text
    assert "](" not in MarkdownRenderer().render(sample_report()).decode().split("###")[0]


def test_markdown_trims_long_error_lists_too() -> None:
    from costscan.scanner.contracts.errors import CollectorError

    report = large_report(2000)
    errors = [
        CollectorError(f"collector-{i}", "111111111111", "us-east-1", "x" * 200)
        for i in range(2000)
    ]
    report = Report(report.run, report.findings, report.bottlenecks, report.summary, errors)
    text = MarkdownRenderer().render(report).decode()
    assert len(text) < GITHUB_COMMENT_LIMIT
    assert re.search(r"_[\d,]+ errors not shown", text)
    assert "| 1 |" in text


# --- HTML -----------------------------------------------------------------------------------


def test_html_fetches_nothing_from_the_network() -> None:
    page = HtmlRenderer().render(sample_report()).decode()
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page


def test_html_escapes_hostile_text_everywhere() -> None:
    page = HtmlRenderer().render(hostile_report()).decode()
    assert HOSTILE_SCRIPT not in page
    assert "<img" not in page
    assert page.count("<script") == 2  # the data block and the page's own script
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the collector error, escaped
    assert "=cmd|&#39; /C calc&#39;!A0" in page  # the noscript table, escaped
    data = embedded_data(page)
    titles = decoded_column(data, "title")
    assert titles[1] == HOSTILE
    # The evidence as labelled figures: the hostile text is in them, as text.
    figures = data["findings"]["columns"]["figures"][1]
    assert HOSTILE_SCRIPT in json.dumps(figures, ensure_ascii=False)


def test_html_autoescapes_and_never_marks_data_safe() -> None:
    env = environment()
    assert env.autoescape("report.html.j2") is True
    assert env.autoescape("anything-else.txt") is True
    assert env.from_string("{{ x }}").render(x=HOSTILE_SCRIPT) == (
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    )
    template = (Path(html_module.__file__).parent / "templates" / "report.html.j2").read_text()
    assert "|safe" not in template.replace(" ", "")
    assert "Markup(" not in Path(html_module.__file__).read_text()


def test_html_script_is_allowed_by_the_page_csp_hash() -> None:
    page = HtmlRenderer().render(sample_report()).decode()
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert script
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page


def test_html_embeds_every_finding_and_shows_the_summary() -> None:
    report = sample_report()
    page = HtmlRenderer().render(report).decode()
    data = embedded_data(page)
    assert data["findings"]["rows"] == report.findings.height
    assert decoded_column(data, "finding_id") == report.findings["finding_id"].to_list()
    assert data["findings"]["columns"]["net_monthly_savings"] == (
        report.findings["net_monthly_savings"].to_list()
    )
    assert "$860.87" in page and "$10,330.44" in page
    assert "Monthly savings by family" in page and "Monthly savings by account" in page
    assert 'id="bottlenecks"' in page and "checkout-db (i-0f9a00000000009)" in page
    assert 'id="errors"' in page and "cloudwatch:GetMetricData" in page
    assert "@media print" in page


def test_html_shows_history_suppressed_resolved_and_warnings() -> None:
    report = history_report()
    page = HtmlRenderer().render(report).decode()
    assert 'id="card-new"' in page and "+$205.71" in page
    assert 'id="card-realized"' in page and "$73.68" in page
    assert 'id="card-spend"' in page and "Amazon Elastic Compute Cloud" in page
    assert 'id="resolved"' in page and "legacy-worker (i-0e2f00000000007)" in page
    assert 'id="suppressed"' in page and "Legal hold until the audit closes" in page
    assert "&lt;img src=x onerror=alert(1)&gt; @platform|sre" in page
    assert 'id="warnings"' in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'id="filter-status"' in page and 'data-key="status"' in page
    for title in ("family", "service", "account"):
        assert f"Monthly savings by {title}" in page
    assert "<img" not in page and HOSTILE_SCRIPT not in page
    data = embedded_data(page)
    assert data["history"] is True
    assert decoded_column(data, "status")[:2] == ["open", "new"]


def test_html_charts_sum_counted_net_savings_by_service_and_account() -> None:
    from costscan.reports.html import charts

    report = sample_report()
    by_title = {
        c.title: {b.label: b.value for b in c.bars} for c in charts(report, report.findings)
    }
    counted = report.findings.filter(pl.col("counted"))
    accounts = counted.group_by("account_id").agg(pl.col("net_monthly_savings").sum())
    assert by_title["Monthly savings by account"] == pytest.approx(dict(accounts.iter_rows()))
    services = by_title["Monthly savings by service"]
    assert services["EC2"] == pytest.approx(180.21 + 140.16 + 56.0)
    assert services["EBS"] == pytest.approx(50.0)  # the gp3 alternative is not counted
    assert services["S3"] == pytest.approx(400.0)
    assert sum(services.values()) == pytest.approx(report.summary["monthly_savings"])


def test_html_without_history_has_no_status_column() -> None:
    page = HtmlRenderer().render(sample_report()).decode()
    assert 'id="filter-status"' not in page and 'id="card-new"' not in page
    assert 'id="resolved"' not in page and 'id="suppressed"' not in page
    assert embedded_data(page)["history"] is False


@pytest.mark.slow
def test_html_of_50000_findings_keeps_rows_out_of_the_dom() -> None:
    report = large_report(50_000)
    page = HtmlRenderer().render(report)
    # Rows are drawn by the script a page at a time; the file holds only the <noscript> top.
    assert page.count(b"<tr") <= STATIC_FINDINGS + 10
    # Bytes per finding, repeated text stored once: remediation and figures included.
    assert len(page) / report.findings.height < 1_000
    data = embedded_data(page.decode())
    assert data["findings"]["rows"] == 50_000
    assert decoded_column(data, "rank")[-1] == 50_000


# --- formats, file names, parquet -----------------------------------------------------------


def test_unknown_format_is_a_usage_error_naming_it_and_the_known_ones() -> None:
    with pytest.raises(UsageError) as caught:
        renderer_for("pdf")
    message = str(caught.value)
    assert "'pdf'" in message
    for name in ("csv", "html", "json", "md", "parquet"):
        assert name in message


def test_each_format_name_gives_its_renderer_and_extension() -> None:
    assert set(FORMATS) == {"json", "csv", "md", "html", "parquet"}
    for name in FORMATS:
        assert renderer_for(name).extension == name
    assert isinstance(renderer_for(" HTML "), HtmlRenderer)


def test_output_path_names_the_account_and_the_utc_start() -> None:
    path = output_path(Path("out"), "aws", ["111111111111"], "2026-11-29T22:45:00+01:00", "json")
    assert path == Path("out/costscan-aws-111111111111-20261129T214500Z.json")
    several = output_path(Path("out"), "aws", ["1", "2"], "2026-11-29T21:45:00Z", "html")
    assert several.name == "costscan-aws-multi-20261129T214500Z.html"


def test_output_path_keeps_a_hostile_account_inside_the_output_dir() -> None:
    path = output_path(Path("out"), "aws", ["../../etc/passwd"], "2026-11-29T21:45:00Z", "md")
    assert path.parent == Path("out")
    assert "/" not in path.name and not path.name.startswith(".")


def test_parquet_holds_the_whole_run_and_re_renders_the_same_report(tmp_path: Path) -> None:
    report = sample_report()
    path = tmp_path / "run.parquet"
    path.write_bytes(ParquetRenderer().render(report))
    sections = pl.read_parquet(path)["section"].to_list()
    assert sections == ["findings"] * 8 + ["bottlenecks"]
    again = read_parquet_report(path)
    assert again.run == report.run
    assert again.errors == report.errors
    for name in ("json", "csv", "md"):
        renderer = renderer_for(name)
        assert renderer.render(again) == renderer.render(report), name


def test_reading_a_parquet_file_that_is_not_a_costscan_run_is_an_input_error(
    tmp_path: Path,
) -> None:
    other = tmp_path / "other.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(other)
    with pytest.raises(InputFileError, match="not a costscan findings file"):
        read_parquet_report(other)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(InputFileError):
        read_parquet_report(broken)


# --- terminal -------------------------------------------------------------------------------


def test_top_lines_list_counted_findings_in_rank_order_as_plain_text() -> None:
    report = sample_report()
    findings = report.findings.with_columns(
        pl.when(pl.col("rank") == 1)
        .then(pl.lit("[bold red]boom[/bold red]"))
        .otherwise(pl.col("recommendation"))
        .alias("recommendation")
    )
    lines = top_lines(replace_findings(report, findings), width=80, limit=3)
    text = "\n".join(lines)
    assert "[bold red]boom[/bold red]" in text  # a policy without a builder: its words
    assert "$400.00" in text and "$180.21" in text and "$140.16" in text
    assert "$50.00" not in text  # rank 4 is past the limit
    assert text.index("$400.00") < text.index("$180.21") < text.index("$140.16")
    assert "5 more findings" in text


@pytest.mark.parametrize("width", [60, 80, 120])
def test_terminal_lines_fit_the_width_and_keep_resource_ids_whole(width: int) -> None:
    report = hostile_report()
    lines = [
        *summary_lines(report, width),
        *top_lines(report, width),
        *closing_lines(
            [Path("costscan-report/costscan-aws-multi-20261129T214500Z.html")], width, "x " * 60
        ),
    ]
    assert all(len(line) <= width for line in lines), [line for line in lines if len(line) > width]
    text = "\n".join(lines)
    for resource_id in ("i-0a1b00000000001", "vol-0c5d00000000005", "i-0d4e00000000004"):
        assert resource_id in text
    # Two accounts: the resource line names the account (on its own line when narrow).
    if width >= 80:
        assert "i-0a1b00000000001 (batch-runner-old) · 111111111111 · us-east-1" in text
    else:
        assert "batch-runner-old · 111111111111 · us-east-1" in text


def test_closing_lines_say_what_to_open_and_what_to_run_next() -> None:
    written = [
        Path("out/costscan-aws-1-20261129T214500Z.csv"),
        Path("out/costscan-aws-1-20261129T214500Z.html"),
    ]
    lines = closing_lines(written, 80, "scan your own account: costscan run --provider aws")
    assert lines == [
        "Wrote 2 reports to out/:",
        "  costscan-aws-1-20261129T214500Z.csv",
        "  costscan-aws-1-20261129T214500Z.html",
        "open out/costscan-aws-1-20261129T214500Z.html",
        "next: scan your own account: costscan run --provider aws",
    ]


def test_summary_lines_give_the_headline_and_what_is_missing() -> None:
    lines = summary_lines(sample_report())
    assert lines[0] == "$860.87/month in savings found with 7 changes — $10,330.44/year"
    assert any("2 collectors failed" in line for line in lines)
    assert any("1 bottleneck:" in line and "$280.32" in line for line in lines)
    assert any("3 findings under $5.00/month hidden" in line for line in lines)
    assert any(line.startswith("2 inventory rows rejected") for line in lines)


def test_a_family_with_nothing_in_the_total_is_not_shown_as_saving_zero() -> None:
    report = sample_report()
    by_family = {
        "rightsizing": {"findings": 3, "monthly_savings": 120.5},
        "scheduling": {"findings": 1, "monthly_savings": 0.0},  # its one finding is deferred
        "network": {"findings": 0, "monthly_savings": 0.0},
    }
    summary = {**report.summary, "by_family": by_family}
    text = " ".join(summary_lines(dataclasses.replace(report, summary=summary), width=200))
    assert "rightsizing $120.50 (3)" in text
    assert "scheduling (1, none in the total)" in text
    assert "scheduling $0.00" not in text and "network" not in text


def test_summary_lines_give_the_week_and_the_suppressed_count() -> None:
    lines = summary_lines(history_report(), width=120)
    # The other categories' totals beside the savings, then the week.
    assert lines[1] == "Not in that total: investments $280.32"
    assert lines[2] == (
        "+$205.71 new this week (3 new findings), $73.68 realized since last week "
        "(2 resolved findings)"
    )
    assert "2 findings suppressed ($152.66/month), not in the totals" in lines
    assert not any("new this week" in line for line in summary_lines(sample_report()))


def test_money_formatting_never_shows_nan() -> None:
    from costscan.reports.markdown import format_money, format_payback

    assert format_money(math.nan) == "—"
    assert format_money(-1234.5) == "-$1,234.50"
    assert format_money(10.0, "EUR") == "10.00 EUR"
    assert format_payback(math.inf) == "—"
    assert format_payback(0.0) == "immediate"


def test_a_run_with_no_findings_renders_in_every_format() -> None:
    empty = pl.DataFrame(schema=dict(RANKED))
    summary = {
        "findings": 0,
        "counted_findings": 0,
        "monthly_savings": 0.0,
        "annual_savings": 0.0,
        "by_family": {f: {"findings": 0, "monthly_savings": 0.0} for f in FAMILIES},
        "spend": None,
        "bottlenecks": 0,
        "bottleneck_monthly_cost": 0.0,
        "hidden_below_min_savings": 0,
        "min_savings": 0.0,
    }
    report = Report(sample_report().run, empty, empty, summary)
    for name in FORMATS:
        assert renderer_for(name).render(report), name
    document = json.loads(JsonRenderer().render(report))
    assert document["findings"] == [] and document["summary"]["monthly_savings"] == 0.0
    assert "No change saves money in this run." in MarkdownRenderer().render(report).decode()
    assert embedded_data(HtmlRenderer().render(report).decode())["findings"]["rows"] == 0
    header = ",".join(["section", *SUPPRESSED, *SORT_COLUMNS, *REMEDIATION_COLUMNS])
    assert CsvRenderer().render(report) == (header + "\r\n").encode()
    assert CsvRenderer().render_investments(report) == (header + "\r\n").encode()


# --- parquet round trip of a run with history --------------------------------------------


def test_parquet_keeps_suppressions_history_and_warnings(tmp_path: Path) -> None:
    report = history_report()
    assert report.suppressed.height and report.history and report.warnings
    path = tmp_path / "history.parquet"
    path.write_bytes(ParquetRenderer().render(report))
    sections = pl.read_parquet(path)["section"].to_list()
    assert sections.count("suppressed") == report.suppressed.height
    again = read_parquet_report(path)
    assert again.suppressed.equals(report.suppressed)
    assert again.warnings == report.warnings
    assert again.history == json.loads(json.dumps(report.history))
    assert JsonRenderer().render(again) == JsonRenderer().render(report)
    for name in ("csv", "md", "html"):
        renderer = renderer_for(name)
        assert renderer.render(again) == renderer.render(report), name


# --- every resource type the code emits has a service --------------------------------------

_EMITTED_RESOURCE_TYPE = re.compile(
    r"""["']resource_type["']\s*:\s*["']([\w-]+)["']"""
    r"""|pl\.lit\(\s*["']([\w-]+)["']\s*\)\s*\.alias\(\s*["']resource_type["']\s*\)"""
    r"""|resource_type\s*=\s*(?:pl\.lit\(\s*)?["']([\w-]+)["']"""
)


def _resource_types_written_as_text() -> set[str]:
    root = Path(__file__).resolve().parents[2]
    found: set[str] = set()
    for package in ("providers", "policies"):
        for source in (root / package).rglob("*.py"):
            for match in _EMITTED_RESOURCE_TYPE.finditer(source.read_text(encoding="utf-8")):
                found.add(next(group for group in match.groups() if group))
    return found


def test_every_resource_type_is_in_the_vocabulary_and_maps_to_a_service() -> None:
    written = _resource_types_written_as_text()
    # The search itself must see the types the providers are known to write as text.
    assert {"ec2_instance", "cloudwatch_metric", "s3_bucket"} <= written
    vocabulary = {member.value for member in ResourceType}
    assert written <= vocabulary, sorted(written - vocabulary)
    assert set(html_module.SERVICE_BY_RESOURCE_TYPE) == vocabulary
    services = html_module.service_of(pl.col("resource_type"))
    shown = pl.DataFrame({"resource_type": sorted(vocabulary)}).select(services)["resource_type"]
    # Each shows as a readable service name, never the raw snake_case type.
    assert not set(shown.to_list()) & vocabulary
    assert all(re.search(r"[A-Z]", name) for name in shown.to_list())


# --- the HTML's summary pieces --------------------------------------------------------------


def test_what_each_finding_adds_sums_to_every_category_total_of_the_summary() -> None:
    from costscan.reports.html import CONTRIBUTIONS, filter_totals
    from tests.reports.test_ranking import finding, ranked

    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 100.0, 100.0),
        finding("i-1", "rightsizing.graviton", "resize", 100.0, 20.0),  # an alternative
        finding("i-2", "commitments.expiring", "configure", 50.0, 30.0,
                family="commitments", category="cost_avoidance"),
        finding("i-3", "storage.tiering", "configure", 40.0, 12.0,
                family="storage", confidence=0.3),  # under the floor: possible
        finding("sp-1", "commitments.underused", "configure", 80.0, 25.0,
                family="commitments", category="waste"),
        finding("i-4", "rightsizing.overprovisioned", "resize", 60.0, 0.0,
                deferred_monthly_savings=18.0, category="deferred"),
    )  # fmt: skip
    totals = filter_totals(out.findings)
    assert set(totals) == set(CONTRIBUTIONS)
    for key, value in totals.items():
        assert value == pytest.approx(out.summary[key], abs=0.005), key
    # Worked by hand: the idle instance is the only saving; 30 avoided; 12 possible;
    # 25 wasted; 18 deferred.
    assert totals == pytest.approx(
        {
            "monthly_savings": 100.0,
            "cost_avoidance": 30.0,
            "possible_monthly_savings": 12.0,
            "commitment_waste": 25.0,
            "deferred_monthly_savings": 18.0,
        }
    )


def test_charts_are_sorted_and_a_chart_of_one_bar_is_left_out() -> None:
    from costscan.reports.html import charts

    report = sample_report()
    drawn = {chart.title: chart for chart in charts(report, report.findings)}
    family = [bar.value for bar in drawn["Monthly savings by family"].bars]
    assert family == sorted(family, reverse=True) == [400.0, 180.21, 140.16, 56.0, 50.0, 34.5]
    assert drawn["Monthly savings by family"].bars[0].percent == 100.0
    assert drawn["Monthly savings by family"].bars[-1].percent == 8.6  # 34.5 / 400
    one_account = report.findings.with_columns(pl.lit("111111111111").alias("account_id"))
    titles = [chart.title for chart in charts(report, one_account)]
    assert "Monthly savings by account" not in titles


def test_the_headline_gives_savings_as_a_share_of_the_monthly_bill() -> None:
    from costscan.reports.html import spend_share

    # $48,210.55 billed over 28 days is $48,210.55 × 730 / 672 = $52,371.76 a 730-hour
    # month; $860.87 of it is 1.64%.
    assert spend_share(SAMPLE_SUMMARY_FOR_SHARE) == "1.6%"
    page = HtmlRenderer().render(sample_report()).decode()
    assert "about 1.6% of the monthly bill" in page
    assert spend_share({**SAMPLE_SUMMARY_FOR_SHARE, "spend": None}) is None


SAMPLE_SUMMARY_FOR_SHARE = sample_report().summary


def test_the_top_changes_are_the_best_counted_findings_in_plain_words() -> None:
    from costscan.reports.html import top_changes

    top = top_changes(sample_report().findings, "USD")
    assert [t.rank for t in top] == [1, 2, 3, 4, 5]
    assert top[2].change == "Stop batch-runner-old (i-0a1b00000000001): idle over the lookback"
    assert (top[2].net, top[2].effort, top[2].risk) == ("$140.16", "0.5 h of work", "low risk")


def test_html_embeds_dates_as_iso_text_and_non_finite_figures_as_null() -> None:
    # A deferred saving carries the day its commitment ends; json.dumps takes no date.
    report = sample_report()
    starts = [date(2027, 3, 1)] + [None] * (report.findings.height - 1)
    findings = report.findings.with_columns(
        pl.Series("savings_start", starts, dtype=pl.Date),
        pl.when(pl.int_range(pl.len()) == 0)
        .then(float("nan"))
        .otherwise(pl.col("confidence"))
        .alias("confidence"),
    )
    page = HtmlRenderer().render(replace_findings(report, findings)).decode()
    columns = embedded_data(page)["findings"]["columns"]
    assert decoded_column(embedded_data(page), "savings_start")[0] == "2027-03-01"
    assert columns["confidence"][0] is None
