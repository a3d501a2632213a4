"""The HTML report: one self-contained file a FinOps engineer opens offline.

Inline CSS and JS, no network fetch (a Content-Security-Policy in the page forbids any,
and lets only the page's own script run, by its hash). Data is someone's tag or name, so
the template runs with autoescape and never marks data safe; the findings reach the
script as JSON in a ``<script type="application/json">`` block, with ``<``, ``>``, ``&``
and ``'`` written as ``\\u003c``-style escapes by jinja's ``tojson``, and the script
writes every value with ``textContent``.

A report may hold 50,000 findings: the table is drawn by the script a page at a time
from the embedded data (column arrays, repeated strings stored once), so the page never
holds more than one page of rows in the DOM. Printing draws every row of the current
filter as a compact table (up to ``PRINT_ROWS`` in the script), without the controls.

Bottlenecks, suppressed findings, what was resolved since the last run (with
``--history``) and warnings are small by nature and rendered by the template itself.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from costscan.reports.interface import Renderer, Report
from costscan.reports.json import (
    FINDING_COLUMNS,
    as_ranked,
    clean,
    error_document,
    finding_records,
    history_document,
    parse_evidence,
    rejection_document,
    run_document,
    summary_document,
    suppressed_records,
)
from costscan.reports.markdown import (
    format_money,
    format_payback,
    format_percent,
    resource_label,
    spend_notes,
    status_text,
)
from costscan.scanner.contracts.schema import FAMILIES
from costscan.scanner.contracts.vocab import ResourceType

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "report.html.j2"
SCRIPT = "report.js"

# Rows drawn without the script (the <noscript> table) and in the static bottleneck table.
STATIC_FINDINGS = 50
STATIC_BOTTLENECKS = 1_000
STATIC_SUPPRESSED = 1_000
STATIC_RESOLVED = 1_000
# Bars per chart: the largest ones, the rest summed into "other".
CHART_BARS = 8
CHART_WIDTH = 640
CHART_LABEL_WIDTH = 150
CHART_VALUE_WIDTH = 110
CHART_BAR_HEIGHT = 22
CHART_GAP = 8

# The cloud service a resource type belongs to, for the "by service" chart. Every type the
# providers and policies emit is here (a test greps them); a type not listed, such as a
# billing export's own ResourceType, shows as itself.
SERVICE_BY_RESOURCE_TYPE: dict[str, str] = {
    ResourceType.EC2_INSTANCE: "EC2",
    ResourceType.EC2_RESERVED_INSTANCE: "EC2",
    ResourceType.ELASTIC_IP: "EC2",
    # RI and Savings Plan coverage of EC2 usage: what to buy to cover instances.
    ResourceType.COMMITMENT_COVERAGE: "EC2",
    ResourceType.SAVINGS_PLAN: "Savings Plans",
    ResourceType.EBS_VOLUME: "EBS",
    ResourceType.EBS_SNAPSHOT: "EBS",
    ResourceType.S3_BUCKET: "S3",
    ResourceType.LOG_GROUP: "CloudWatch Logs",
    ResourceType.CLOUDWATCH_METRIC: "CloudWatch",
    ResourceType.NAT_GATEWAY: "VPC (NAT gateway)",
    ResourceType.LOAD_BALANCER: "Elastic Load Balancing",
    ResourceType.CLOUDFRONT_DISTRIBUTION: "CloudFront",
    ResourceType.DATA_TRANSFER: "Data transfer",
    ResourceType.DATA_TRANSFER_SOURCE: "Data transfer",
    ResourceType.GCE_INSTANCE: "Compute Engine",
    ResourceType.PERSISTENT_DISK: "Compute Engine",
    ResourceType.GCE_SNAPSHOT: "Compute Engine",
    ResourceType.STATIC_ADDRESS: "Compute Engine",
    ResourceType.COMMITTED_USE_DISCOUNT: "Compute Engine",
    ResourceType.GCS_BUCKET: "Cloud Storage",
    # Billing-export lines with no resource, or whose resource the inventory lacks.
    ResourceType.BILLED_SERVICE: "Billed services",
    ResourceType.BILLED_RESOURCE: "Billed resources",
}


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The jinja2 environment, built on first use (nothing happens at import time)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        # Autoescape every template except the page's own static CSS and JS, which hold no
        # data; anything else, including a template built from a string, escapes.
        autoescape=select_autoescape(
            enabled_extensions=("html", "j2"),
            disabled_extensions=("css", "js"),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.policies["json.dumps_kwargs"] = {
        "ensure_ascii": False,
        "allow_nan": False,
        "separators": (",", ":"),
    }
    env.filters["payback"] = format_payback
    env.filters["percent"] = format_percent
    env.filters["thousands"] = format_count
    return env


def format_count(value: object) -> str:
    """``12,345``; a dash when there is no count."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{value:,.0f}"


@functools.lru_cache(maxsize=1)
def script_hash() -> str:
    """The CSP hash of the inline script, exactly as the template includes it."""
    script = environment().get_template(SCRIPT).render()
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    y: int
    width: float


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    height: int
    width: int = CHART_WIDTH
    label_width: int = CHART_LABEL_WIDTH
    value_width: int = CHART_VALUE_WIDTH
    bar_height: int = CHART_BAR_HEIGHT


def bar_chart(title: str, values: list[tuple[str, float]], currency: str) -> Chart:
    """Horizontal bars scaled to the largest value; negative totals draw as empty bars."""
    largest = max((v for _, v in values), default=0.0)
    span = CHART_WIDTH - CHART_LABEL_WIDTH - CHART_VALUE_WIDTH
    bars = []
    for index, (label, value) in enumerate(values):
        width = span * max(value, 0.0) / largest if largest > 0 else 0.0
        bars.append(
            Bar(
                label=label,
                value=value,
                text=format_money(value, currency),
                y=index * (CHART_BAR_HEIGHT + CHART_GAP),
                width=round(width, 1),
            )
        )
    height = max(len(bars) * (CHART_BAR_HEIGHT + CHART_GAP) - CHART_GAP, CHART_BAR_HEIGHT)
    return Chart(title=title, bars=bars, height=height)


def service_of(resource_type: pl.Expr) -> pl.Expr:
    """The service a resource type belongs to (``SERVICE_BY_RESOURCE_TYPE``), else the type."""
    return resource_type.replace(SERVICE_BY_RESOURCE_TYPE)


def _savings_by(findings: pl.DataFrame, key: pl.Expr) -> list[tuple[str, float]]:
    """Counted net savings grouped by ``key``: the largest bars, the rest as "others"."""
    totals = (
        findings.filter(pl.col("counted").fill_null(False))
        .group_by(key.fill_null("(none)").alias("key"))
        .agg(pl.col("net_monthly_savings").fill_null(0.0).sum())
        .sort(["net_monthly_savings", "key"], descending=[True, False])
    )
    rows = [(str(k), float(v)) for k, v in totals.iter_rows()]
    if len(rows) > CHART_BARS:
        rest = sum(v for _, v in rows[CHART_BARS - 1 :])
        rows = [*rows[: CHART_BARS - 1], (f"{len(rows) - CHART_BARS + 1} others", rest)]
    return rows


def charts(report: Report, findings: pl.DataFrame) -> list[Chart]:
    currency = report.run.currency
    by_family = report.summary.get("by_family") or {}
    families = [f for f in FAMILIES if f in by_family]
    family_values = [
        (name, float(by_family[name].get("monthly_savings") or 0.0)) for name in families
    ]
    out = [
        bar_chart("Monthly savings by family", family_values, currency),
        bar_chart(
            "Monthly savings by service",
            _savings_by(findings, service_of(pl.col("resource_type"))),
            currency,
        ),
        bar_chart(
            "Monthly savings by account", _savings_by(findings, pl.col("account_id")), currency
        ),
    ]
    if findings["region"].n_unique() > 1:
        out.append(
            bar_chart(
                "Monthly savings by region", _savings_by(findings, pl.col("region")), currency
            )
        )
    return out


def column_data(frame: pl.DataFrame) -> dict[str, Any]:
    """Findings as column arrays; a text column with repeats is stored as values + codes.

    Titles, regions, families and policy ids repeat thousands of times in a big account:
    storing each once keeps a 50,000-finding report a fraction of its naive size.
    """
    columns: dict[str, Any] = {}
    for name in FINDING_COLUMNS:
        series = frame[name]
        if name == "evidence":
            columns[name] = [clean(parse_evidence(text)) for text in series.to_list()]
        elif series.dtype.is_temporal():
            # JSON has no dates: ISO text (savings_start of a deferred saving).
            columns[name] = series.cast(pl.String).to_list()
        elif series.dtype == pl.String and series.n_unique() * 2 <= frame.height:
            values = series.drop_nulls().unique().sort()
            codes = series.rank("dense") - 1
            columns[name] = {"values": values.to_list(), "codes": codes.to_list()}
        elif series.dtype.is_float():
            # NaN and infinity to null: json.dumps would write invalid JSON.
            columns[name] = [clean(value) for value in series.to_list()]
        else:
            columns[name] = series.to_list()
    return {"rows": frame.height, "columns": columns}


def _static_rows(frame: pl.DataFrame, limit: int) -> list[dict[str, Any]]:
    rows = finding_records(frame.head(limit))
    for row in rows:
        row["resource"] = resource_label(row["resource_id"], row["resource_name"])
        row["status_text"] = status_text(row["status"], row["weeks_open"])
    return rows


def _suppressed_rows(frame: pl.DataFrame, limit: int) -> list[dict[str, Any]]:
    rows = suppressed_records(frame.head(limit))
    for row in rows:
        row["resource"] = resource_label(row["resource_id"], row["resource_name"])
    return rows


def _resolved_rows(history: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not history:
        return []
    rows = [dict(r) for r in history.get("resolved") or [] if isinstance(r, dict)]
    for row in rows:
        row["resource"] = resource_label(row.get("resource_id"), row.get("resource_name"))
    return rows


class HtmlRenderer(Renderer):
    extension = "html"

    def render(self, report: Report) -> bytes:
        findings = as_ranked(report.findings)
        bottlenecks = as_ranked(report.bottlenecks)
        currency = report.run.currency
        history = history_document(report.history)
        resolved = _resolved_rows(history)
        env = environment()
        page = env.get_template(TEMPLATE).render(
            run=run_document(report),
            summary=summary_document(report.summary),
            money=lambda value: format_money(value, currency),
            spend_notes=spend_notes(report.summary.get("spend") or {}, currency),
            charts=charts(report, findings),
            top_findings=_static_rows(findings, STATIC_FINDINGS),
            finding_count=findings.height,
            bottlenecks=_static_rows(bottlenecks, STATIC_BOTTLENECKS),
            bottleneck_count=bottlenecks.height,
            suppressed=_suppressed_rows(report.suppressed, STATIC_SUPPRESSED),
            suppressed_count=report.suppressed.height,
            history=history,
            resolved=resolved[:STATIC_RESOLVED],
            resolved_count=len(resolved),
            warnings=[str(w) for w in report.warnings],
            errors=[error_document(e) for e in report.errors],
            rejections=[rejection_document(r) for r in report.rejections],
            data={
                "currency": currency,
                "history": history is not None,
                "findings": column_data(findings),
            },
            script_hash=script_hash(),
        )
        # A lone surrogate in someone's evidence cannot be UTF-8; inside the JSON block
        # backslashreplace writes the JSON escape, elsewhere it shows as visible text.
        return page.encode("utf-8", "backslashreplace")
