"""What the CLI prints when a run finishes: a top-findings table and a few summary lines.

rich is imported inside the functions, so importing this module costs nothing until a
table is drawn. Data cells are ``rich.text.Text``: a tag like ``[bold red]`` shows as
itself instead of being read as console markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from costscan.reports.interface import Report
from costscan.reports.json import as_ranked, rejection_document
from costscan.reports.markdown import (
    CATEGORY_TOTALS,
    count_of,
    format_money,
    format_payback,
    one_line,
    resource_label,
    spend_notes,
)

if TYPE_CHECKING:
    from rich.table import Table

TITLE_CHARS = 60
RESOURCE_CHARS = 48


def top_table(report: Report, limit: int = 10) -> Table:
    """The best ``limit`` counted findings, with net savings a month and payback."""
    from rich.table import Table
    from rich.text import Text

    currency = report.run.currency
    findings = as_ranked(report.findings)
    counted = findings.filter(pl.col("counted").fill_null(False))
    table = Table(title=f"Top {min(limit, counted.height)} findings", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("Priority")
    table.add_column("Finding", overflow="fold")
    table.add_column("Resource", overflow="fold")
    table.add_column("Region")
    table.add_column("Net/month", justify="right")
    table.add_column("Payback", justify="right")
    for row in counted.head(max(limit, 0)).iter_rows(named=True):
        table.add_row(
            Text("" if row["rank"] is None else str(row["rank"])),
            Text(one_line(row["priority"]), style=_PRIORITY_STYLE.get(row["priority"] or "", "")),
            Text(one_line(row["title"], TITLE_CHARS)),
            Text(
                one_line(resource_label(row["resource_id"], row["resource_name"]), RESOURCE_CHARS)
            ),
            Text(one_line(row["region"])),
            Text(format_money(row["net_monthly_savings"], currency)),
            Text(format_payback(row["payback_months"])),
        )
    left_out = findings.height - min(limit, counted.height)
    if left_out > 0:
        table.caption = (
            f"{count_of(left_out, 'more finding')} (alternatives included) in the reports"
        )
    return table


_PRIORITY_STYLE = {"High": "bold green", "Medium": "yellow", "Low": "dim"}


def summary_lines(report: Report) -> list[str]:
    """Plain-text lines (print them with markup off) that sum the run up."""
    summary = report.summary
    currency = report.run.currency

    def money(value: float | None) -> str:
        return format_money(value, currency)

    lines = [
        f"{money(summary.get('monthly_savings'))}/month in savings found "
        f"({summary.get('findings', 0):,} findings, {summary.get('counted_findings', 0):,} "
        f"counted) — {money(summary.get('annual_savings'))}/year"
    ]
    apart = [
        f"{label.lower()} {money(summary.get(key))}"
        for label, key in CATEGORY_TOTALS[1:]
        if summary.get(key)
    ]
    if apart:
        lines.append("not in the total: " + ", ".join(apart))
    history = report.history
    if history is not None:
        resolved = history.get("resolved") or []
        lines.append(
            f"+{money(history.get('new_monthly_savings'))} new this week "
            f"({count_of(int(history.get('new_findings') or 0), 'new finding')}), "
            f"{money(history.get('realized_monthly_savings'))} realized since last week "
            f"({count_of(len(resolved), 'resolved finding')})"
        )
    by_family = summary.get("by_family") or {}
    families = [
        f"{name} {money(figures.get('monthly_savings'))} ({figures.get('findings', 0):,})"
        for name, figures in by_family.items()
        if figures.get("findings")
    ]
    if families:
        lines.append("by family: " + ", ".join(families))
    bottlenecks = summary.get("bottlenecks", 0)
    if bottlenecks:
        lines.append(
            f"{count_of(bottlenecks, 'bottleneck')}: fixing them adds "
            f"{money(summary.get('bottleneck_monthly_cost'))}/month"
        )
    spend = summary.get("spend")
    if spend:
        lines.append(
            f"spend {one_line(spend.get('period_start'))} to {one_line(spend.get('period_end'))}: "
            f"{money(spend.get('billed_cost'))} billed, {money(spend.get('effective_cost'))} "
            "effective"
        )
        lines.extend(one_line(note) for note in spend_notes(spend, currency))
    suppressed = int(summary.get("suppressed") or report.suppressed.height)
    if suppressed:
        lines.append(
            f"{count_of(suppressed, 'finding')} suppressed "
            f"({money(summary.get('suppressed_monthly_savings'))}/month), not in the totals"
        )
    hidden = summary.get("hidden_below_min_savings", 0)
    if hidden:
        lines.append(
            f"{count_of(hidden, 'finding')} under {money(summary.get('min_savings'))}/month hidden "
            "(--min-savings)"
        )
    if report.errors:
        lines.append(
            f"{count_of(len(report.errors), 'collector')} failed; the reports list what is "
            "missing and why"
        )
    rejected = sum(int(rejection_document(r).get("rows") or 0) for r in report.rejections)
    if rejected:
        lines.append(f"{rejected:,} inventory rows rejected by schema validation (see the reports)")
    return lines
