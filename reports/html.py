"""The HTML report: one self-contained file a FinOps lead reads in ten seconds.

The page opens on the run's totals by category and the top five changes in plain words;
then bar charts (sorted, drawn only with more than one bar), then every finding, each
opening onto its change, what to run (AWS CLI, Terraform, console, with copy buttons), its
figures, its evidence as labelled figures with units, and for a compute finding the
hourly CPU over the lookback with the 70% target and 85% alert lines and its p99.
Below 700 px wide the table turns into cards.

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

The totals above the table follow its filters: each finding carries what it adds to
each category's total (``CONTRIBUTIONS``, the same rules as ``ranking.summarize``; a
test checks that they add up to the summary), and the script sums them over the rows
the filters keep.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from costscan.reports import evidence as evidence_text
from costscan.reports.interface import Renderer, Report
from costscan.reports.json import (
    as_ranked,
    error_document,
    finding_records,
    history_document,
    parse_evidence,
    parse_members,
    rejection_document,
    run_document,
    summary_document,
    suppressed_records,
)
from costscan.reports.markdown import (
    format_money,
    format_payback,
    format_percent,
    history_scope_text,
    resource_label,
    spend_notes,
    status_text,
)
from costscan.reports.remediation import remediation
from costscan.reports.text import show_controls
from costscan.scanner.contracts.vocab import Category, ResourceType

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
TOP_CHANGES = 5
# Bars per chart: the largest ones, the rest summed into "others".
CHART_BARS = 8
# A grouped finding lists this many member ids in its detail; the JSON report has all.
MEMBERS_LISTED = 200
# Rightsizing's lines (policies/rightsizing.py, after AWS Compute Optimizer): a resize
# leaves p99 CPU under the 70% target; above the 85% alert line a resource is a
# bottleneck. A chart draws the finding's own thresholds when its evidence has them.
CPU_TARGET_PERCENT = 70.0
CPU_ALERT_PERCENT = 85.0

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
    ResourceType.ACCOUNT: "Account",
    ResourceType.EBS_VOLUME: "EBS",
    ResourceType.EBS_SNAPSHOT: "EBS",
    ResourceType.S3_BUCKET: "S3",
    ResourceType.LOG_GROUP: "CloudWatch Logs",
    ResourceType.CLOUDWATCH_METRIC: "CloudWatch",
    ResourceType.NAT_GATEWAY: "VPC (NAT gateway)",
    ResourceType.LOAD_BALANCER: "Elastic Load Balancing",
    ResourceType.AUTO_SCALING_GROUP: "EC2 Auto Scaling",
    ResourceType.LAMBDA_FUNCTION: "Lambda",
    ResourceType.ECS_SERVICE: "ECS",
    ResourceType.CLOUDFRONT_DISTRIBUTION: "CloudFront",
    ResourceType.DATA_TRANSFER: "Data transfer",
    ResourceType.DATA_TRANSFER_SOURCE: "Data transfer",
    ResourceType.RDS_INSTANCE: "RDS",
    ResourceType.ELASTICACHE_CLUSTER: "ElastiCache",
    ResourceType.DYNAMODB_TABLE: "DynamoDB",
    ResourceType.EFS_FILE_SYSTEM: "EFS",
    ResourceType.OPENSEARCH_DOMAIN: "OpenSearch Service",
    ResourceType.REDSHIFT_CLUSTER: "Redshift",
    ResourceType.GCE_INSTANCE: "Compute Engine",
    ResourceType.PERSISTENT_DISK: "Compute Engine",
    ResourceType.GCE_SNAPSHOT: "Compute Engine",
    ResourceType.STATIC_ADDRESS: "Compute Engine",
    ResourceType.COMMITTED_USE_DISCOUNT: "Compute Engine",
    ResourceType.GCS_BUCKET: "Cloud Storage",
    ResourceType.LOG_BUCKET: "Cloud Logging",
    ResourceType.MONITORING_METRIC: "Cloud Monitoring",
    ResourceType.AZURE_VM: "Virtual Machines",
    ResourceType.MANAGED_DISK: "Managed Disks",
    ResourceType.AZURE_SNAPSHOT: "Managed Disks",
    ResourceType.PUBLIC_IP: "Virtual Network",
    ResourceType.STORAGE_ACCOUNT: "Storage",
    ResourceType.AZURE_NAT_GATEWAY: "Virtual Network",
    ResourceType.AZURE_LOAD_BALANCER: "Load Balancer",
    # Billing-export lines with no resource, or whose resource the inventory lacks.
    ResourceType.BILLED_SERVICE: "Billed services",
    ResourceType.BILLED_RESOURCE: "Billed resources",
}

# The findings' columns the page's script reads, besides the ones built here.
PAGE_COLUMNS: tuple[str, ...] = (
    "finding_id",
    "rank",
    "status",
    "weeks_open",
    "priority",
    "priority_reason",
    "title",
    "detail",
    "recommendation",
    "resource_id",
    "resource_name",
    "resource_type",
    "provider",
    "account_id",
    "region",
    "family",
    "category",
    "policy_id",
    "action",
    "current_monthly_cost",
    "monthly_savings_before_discounts",
    "monthly_savings",
    "deferred_monthly_savings",
    "savings_start",
    "standalone_monthly_savings",
    "added_monthly_cost",
    "upfront_cost",
    "net_monthly_savings",
    "implementation_cost",
    "payback_months",
    "roi_12m",
    "effort_hours",
    "effort_level",
    "restart_needed",
    "rollback_possible",
    "risk",
    "performance",
    "confidence",
    "price_source",
    "counted",
    "alternative_to",
    "member_count",
)

NO_LINES: dict[str, float | None] = {"p99": None, "target": None, "alert": None}
_NET = pl.col("net_monthly_savings").fill_null(0.0)
_STANDING = pl.col("alternative_to").is_null()


def _of(category: Category) -> pl.Expr:
    return _STANDING & (pl.col("category") == category.value)


# What each finding adds to each category's total: the rules of ``ranking.summarize``
# (savings: counted net; avoidance: standing cost-avoidance net; possible: standing
# possible net above zero; deferred: standing savings or deferred findings' deferred part;
# waste: standing waste's savings), so the totals above the table can follow its filters.
CONTRIBUTIONS: dict[str, pl.Expr] = {
    "monthly_savings": pl.when(pl.col("counted").fill_null(False)).then(_NET).otherwise(0.0),
    "cost_avoidance": pl.when(_of(Category.COST_AVOIDANCE)).then(_NET).otherwise(0.0),
    "possible_monthly_savings": pl.when(_of(Category.POSSIBLE) & (_NET > 0))
    .then(_NET)
    .otherwise(0.0),
    "deferred_monthly_savings": pl.when(
        _STANDING
        & pl.col("category").is_in([Category.SAVINGS.value, Category.DEFERRED.value])
        & (pl.col("deferred_monthly_savings").fill_null(0.0) > 0)
    )
    .then(pl.col("deferred_monthly_savings"))
    .otherwise(0.0),
    "commitment_waste": pl.when(_of(Category.WASTE))
    .then(pl.col("monthly_savings").fill_null(0.0))
    .otherwise(0.0),
}
# Labels of the totals, in the order a reader weighs them, with what each means.
TOTALS: tuple[tuple[str, str, str], ...] = (
    ("monthly_savings", "Savings", "leave next month's bill; the only money in the headline"),
    ("cost_avoidance", "Cost avoidance", "keeps the bill from rising (renewals)"),
    ("possible_monthly_savings", "Possible", "rests on assumptions: confirm first"),
    ("deferred_monthly_savings", "Deferred", "starts when the commitments covering it end"),
    ("commitment_waste", "Commitment waste", "committed money no change recovers"),
)


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
    env.filters["history_scope"] = history_scope_text
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
    percent: float  # of the largest bar, 0..100


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]


def bar_chart(title: str, values: list[tuple[str, float]], currency: str) -> Chart:
    """Bars largest first, scaled to the largest; negative totals draw as empty bars."""
    ordered = sorted(values, key=lambda item: (-item[1], item[0]))
    largest = max((v for _, v in ordered), default=0.0)
    bars = [
        Bar(
            label=label,
            value=value,
            text=format_money(value, currency),
            percent=round(100 * max(value, 0.0) / largest, 1) if largest > 0 else 0.0,
        )
        for label, value in ordered
    ]
    return Chart(title=title, bars=bars)


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
    """Savings by family, service, account and region: each only with more than one bar."""
    currency = report.run.currency
    by_family = report.summary.get("by_family") or {}
    family_values = [
        (name, float(figures.get("monthly_savings") or 0.0))
        for name, figures in by_family.items()
        if figures.get("findings")
    ]
    candidates = [
        bar_chart("Monthly savings by family", family_values, currency),
        bar_chart(
            "Monthly savings by service",
            _savings_by(findings, service_of(pl.col("resource_type"))),
            currency,
        ),
        bar_chart(
            "Monthly savings by account", _savings_by(findings, pl.col("account_id")), currency
        ),
        bar_chart("Monthly savings by region", _savings_by(findings, pl.col("region")), currency),
    ]
    return [chart for chart in candidates if len(chart.bars) > 1]


def _dictionary(series: pl.Series) -> Any:
    """A text column with repeats as distinct values + codes; anything else as a list.

    Titles, regions, families and policy ids repeat thousands of times in a big account:
    storing each once keeps a 50,000-finding report a fraction of its naive size.
    """
    if series.dtype == pl.String and series.n_unique() * 2 <= series.len():
        values = series.drop_nulls().unique().sort()
        codes = series.rank("dense") - 1
        return {"values": values.to_list(), "codes": codes.to_list()}
    return series.to_list()


def page_data(
    frame: pl.DataFrame,
    currencies: dict[str, str] | None = None,
    charted: set[str] | None = None,
) -> dict[str, Any]:
    """The findings as the page's script reads them: column arrays, plus per finding its
    remediation, its evidence as labelled figures, its member ids, its currency when not
    the run's, and what it adds to each category's total (nothing, for a finding in
    another currency: those are totalled apart)."""
    apart = pl.col("finding_id").is_in(list(currencies or {}))
    shown = frame.with_columns(
        pl.col("savings_start").cast(pl.String),
        pl.col("finding_id")
        .replace_strict(currencies or {}, default=None, return_dtype=pl.String)
        .alias("currency"),
        *(
            pl.when(apart).then(0.0).otherwise(expr).alias(f"adds_{name}")
            for name, expr in CONTRIBUTIONS.items()
        ),
    )
    columns: dict[str, Any] = {
        name: _dictionary(shown[name]) for name in (*PAGE_COLUMNS, "currency")
    }
    for name in CONTRIBUTIONS:
        columns[f"adds_{name}"] = shown[f"adds_{name}"].to_list()
    fixes: dict[str, list[str | None]] = {
        "change": [],
        "cli": [],
        "terraform": [],
        "console_url": [],
        "note": [],
    }
    figures: list[dict[str, Any]] = []
    members: list[list[str] | None] = []
    lines: dict[str, list[float | None]] = {"p99": [], "target": [], "alert": []}
    for record in shown.select(
        "provider", "policy_id", "action", "resource_id", "resource_name", "resource_type",
        "region", "title", "recommendation", "net_monthly_savings",
        "monthly_savings_before_discounts", "member_count", "evidence", "members",
    ).iter_rows(named=True):  # fmt: skip
        record["evidence"] = parse_evidence(record["evidence"])
        record["members"] = parse_members(record["members"])
        fix = remediation(record).document()
        for key, values in fixes.items():
            values.append(fix[key])
        figures.append(evidence_text.figures(record["evidence"]).document())
        ids = [
            str(m.get("resource_id")) if isinstance(m, dict) else str(m)
            for m in record["members"] or []
        ]
        # Only a finding with a chart needs its CPU lines (the rest stay null, cheaply).
        drawn = charted is not None and (
            record["resource_id"] in charted or any(i in charted for i in ids[:3])
        )
        for key, value in (
            evidence_text.cpu_lines(record["evidence"]) if drawn else NO_LINES
        ).items():
            lines[key].append(value)
        members.append(ids[:MEMBERS_LISTED] if ids else None)
    for key, values in fixes.items():
        columns[key] = _dictionary(pl.Series(key, values, dtype=pl.String))
    columns["figures"] = figures
    columns["members"] = members
    for key, line in lines.items():
        columns[f"cpu_{key}"] = line
    return {"rows": frame.height, "columns": columns}


def filter_totals(
    frame: pl.DataFrame, currencies: dict[str, str] | None = None
) -> dict[str, float]:
    """Each category's total over ``frame`` by ``CONTRIBUTIONS`` (the unfiltered page),
    findings in another currency left out as the page leaves them out."""
    frame = frame.filter(~pl.col("finding_id").is_in(list(currencies or {})))
    if frame.height == 0:
        return dict.fromkeys(CONTRIBUTIONS, 0.0)
    sums = frame.select(*(expr.sum().alias(name) for name, expr in CONTRIBUTIONS.items())).row(
        0, named=True
    )
    return {name: round(float(value or 0.0), 2) for name, value in sums.items()}


@dataclass(frozen=True)
class TopChange:
    rank: int | None
    finding_id: str
    change: str
    resource_id: str
    net: str
    priority: str
    effort: str
    risk: str
    payback: str


def top_changes(frame: pl.DataFrame, currency: str, count: int = TOP_CHANGES) -> list[TopChange]:
    """The best ``count`` counted findings, each as one change in plain words."""
    counted = frame.filter(pl.col("counted").fill_null(False)).head(count)
    out = []
    for record in finding_records(counted):
        hours = record.get("effort_hours")
        out.append(
            TopChange(
                rank=record.get("rank"),
                finding_id=str(record.get("finding_id") or ""),
                change=remediation(record).change,
                resource_id=str(record.get("resource_id") or ""),
                net=format_money(record.get("net_monthly_savings"), currency),
                priority=str(record.get("priority") or ""),
                effort="—" if hours is None else f"{hours:,.1f} h of work",
                risk=f"{record.get('risk') or '—'} risk",
                payback=format_payback(record.get("payback_months")),
            )
        )
    return out


def spend_share(summary: dict[str, Any]) -> str | None:
    """Savings as a share of the monthly bill, when billing data gives the bill."""
    spend = summary.get("spend") or {}
    billed = spend.get("billed_cost")
    start, end = spend.get("period_start"), spend.get("period_end")
    savings = summary.get("monthly_savings")
    if not billed or not start or not end or not isinstance(savings, (int, float)):
        return None
    try:
        from datetime import date

        days = (date.fromisoformat(str(end)[:10]) - date.fromisoformat(str(start)[:10])).days
    except ValueError:
        return None
    if days <= 0 or billed <= 0:
        return None
    # The bill scaled to a 730-hour month (DESIGN.md's month), as the savings are.
    monthly_bill = float(billed) * 730 / (days * 24)
    return f"{100 * savings / monthly_bill:.1f}%"


def _static_rows(frame: pl.DataFrame, limit: int) -> list[dict[str, Any]]:
    rows = finding_records(frame.head(limit))
    for row in rows:
        row["resource"] = resource_label(row["resource_id"], row["resource_name"])
        row["status_text"] = status_text(row["status"], row["weeks_open"])
        row["figures"] = evidence_text.figures(row["evidence"])
        row["fix"] = remediation(row)
    return rows


def _suppressed_rows(frame: pl.DataFrame, limit: int) -> list[dict[str, Any]]:
    rows = suppressed_records(frame.head(limit))
    for row in rows:
        row["resource"] = resource_label(row["resource_id"], row["resource_name"])
        row["figures"] = evidence_text.figures(row["evidence"])
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
        summary = summary_document(report.summary)
        env = environment()
        page = env.get_template(TEMPLATE).render(
            run=run_document(report),
            summary=summary,
            money=lambda value: format_money(value, currency),
            totals=[
                (key, label, meaning, summary.get(key))
                for key, label, meaning in TOTALS
                if key in summary
            ],
            share=spend_share(summary),
            top=top_changes(findings, currency),
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
                "totals": {key: label for key, label, _ in TOTALS},
                "cpu": {"target": CPU_TARGET_PERCENT, "alert": CPU_ALERT_PERCENT},
                "findings": page_data(findings, report.currencies, set(report.utilization)),
                "series": {k: v.document() for k, v in report.utilization.items()},
            },
            script_hash=script_hash(),
        )
        # A lone surrogate in someone's evidence cannot be UTF-8; inside the JSON block
        # backslashreplace writes the JSON escape, elsewhere it shows as visible text.
        # Bidi and control characters show as marks, in the page and in the data the
        # script writes (reports/text.py); the page's own markup holds none.
        return show_controls(page).encode("utf-8", "backslashreplace")
