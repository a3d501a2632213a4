"""What the CLI prints when a run finishes: the totals, the top changes, what to open next.

Plain text laid out for the terminal's width (80 columns included): every line is at most
``width`` characters, so nothing wraps where the terminal would break it. A change's words
wrap inside their column; its resource id goes on a line of its own, whole (an ARN as
its resource part: the account and region are on the same line). Print the lines with
markup off: data is someone's tag or name.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from costscan.reports.interface import Report
from costscan.reports.json import as_ranked, finding_records, rejection_document
from costscan.reports.markdown import (
    CATEGORY_TOTALS,
    arn_resource,
    count_of,
    format_money,
    format_payback,
    one_line,
    spend_notes,
    without_id,
)
from costscan.reports.remediation import remediation

MIN_WIDTH = 60
RANK_WIDTH = 3
PRIORITY_WIDTH = 6
MONEY_WIDTH = 11
PAYBACK_WIDTH = 9


def _wrap(text: str, width: int, indent: str = "  ") -> list[str]:
    """``text`` on lines of at most ``width``; continuation lines indented."""
    return textwrap.wrap(
        one_line(text), width, subsequent_indent=indent, break_on_hyphens=False
    ) or [""]


def _fit(text: str, width: int) -> list[str]:
    """An id on lines of at most ``width``: whole when it fits, else cut at the width
    (an id longer than the terminal, not something a table chose to shorten)."""
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def _where(record: dict[str, object], width: int, with_account: bool) -> list[str]:
    """The resource line(s): its id (or a group's first member ids), its account when the
    run has several, its region."""
    members = record.get("members")
    where = (
        (record.get("account_id"), record.get("region"))
        if with_account
        else (record.get("region"),)
    )
    place = " · ".join(str(v) for v in where if v not in (None, ""))
    if isinstance(members, list) and len(members) > 1:
        ids = [
            str(m.get("resource_id")) if isinstance(m, dict) else str(m)
            for m in members
            if m is not None
        ]
        head = f"{len(ids):,} resources: "
        tail = f" · {place}" if place else ""
        shown: list[str] = []
        for member in ids:
            rest = len(ids) - len(shown) - 1
            more = f" and {rest:,} more" if rest else ""
            candidate = head + ", ".join([*shown, member]) + more + tail
            if len(candidate) > width and shown:
                break
            shown.append(member)
        rest = len(ids) - len(shown)
        line = head + ", ".join(shown) + (f" and {rest:,} more" if rest else "") + tail
        return _wrap(line, width)
    resource = arn_resource(str(record.get("resource_id") or ""))
    name = one_line(record.get("resource_name"))
    text = resource if not name or name == record.get("resource_id") else f"{resource} ({name})"
    line = f"{text} · {place}" if place else text
    if len(line) <= width:
        return [line]
    return [*_fit(resource, width), *_wrap(f"{name} · {place}" if name else place, width)]


def top_lines(report: Report, width: int, limit: int = 10) -> list[str]:
    """The best ``limit`` counted changes: rank, priority, the change in words, net a month
    and payback, then the resource on its own line."""
    width = max(width, MIN_WIDTH)
    currency = report.run.currency
    findings = as_ranked(report.findings)
    counted = findings.filter(pl.col("counted").fill_null(False)).head(max(limit, 0))
    if counted.height == 0:
        return ["No change saves money in this run."]
    several_accounts = len(report.run.accounts) > 1
    lead = RANK_WIDTH + 1 + PRIORITY_WIDTH + 1
    words = width - lead - MONEY_WIDTH - PAYBACK_WIDTH
    indent = " " * lead
    title = f"Top {count_of(counted.height, 'change')}"
    lines = [
        f"{title:<{lead + words}}{'net/month':>{MONEY_WIDTH}}{'payback':>{PAYBACK_WIDTH}}",
    ]
    for record in finding_records(counted):
        change = without_id(remediation(record).change, record.get("resource_id"))
        wrapped = textwrap.wrap(one_line(change), words - 1, break_on_hyphens=False) or [""]
        rank = "" if record.get("rank") is None else str(record["rank"])
        money = format_money(record.get("net_monthly_savings"), currency)
        payback = format_payback(record.get("payback_months"))
        priority = one_line(record.get("priority"))[:PRIORITY_WIDTH]
        lines.append(
            f"{rank:>{RANK_WIDTH}} {priority:<{PRIORITY_WIDTH}} "
            f"{wrapped[0]:<{words}}{money:>{MONEY_WIDTH}}{payback:>{PAYBACK_WIDTH}}"
        )
        lines.extend(indent + rest for rest in wrapped[1:])
        lines.extend(indent + line for line in _where(record, width - lead, several_accounts))
    left_out = findings.height - counted.height
    if left_out > 0:
        lines += _wrap(
            f"{count_of(left_out, 'more finding')} (alternatives, other categories and "
            "smaller changes) are in the reports.",
            width,
        )
    return [line.rstrip() for line in lines]


def summary_lines(report: Report, width: int = 80) -> list[str]:
    """The totals and what is missing, as lines of at most ``width`` characters."""
    width = max(width, MIN_WIDTH)
    summary = report.summary
    currency = report.run.currency

    def money(value: float | None) -> str:
        return format_money(value, currency)

    changes = int(summary.get("counted_findings") or 0)
    out: list[str] = []

    def add(text: str) -> None:
        out.extend(_wrap(text, width))

    add(
        f"{money(summary.get('monthly_savings'))}/month in savings found with "
        f"{count_of(changes, 'change')} — {money(summary.get('annual_savings'))}/year"
    )
    apart = [
        f"{label.lower()} {money(summary.get(key))}"
        for label, key in CATEGORY_TOTALS[1:]
        if summary.get(key)
    ]
    if apart:
        add("Not in that total: " + " · ".join(apart))
    history = report.history
    if history is not None:
        resolved = history.get("resolved") or []
        add(
            f"+{money(history.get('new_monthly_savings'))} new this week "
            f"({count_of(int(history.get('new_findings') or 0), 'new finding')}), "
            f"{money(history.get('realized_monthly_savings'))} realized since last week "
            f"({count_of(len(resolved), 'resolved finding')})"
        )
    by_family = summary.get("by_family") or {}
    # A family whose findings all sit outside the total (deferred, possible, reviews) says
    # so, rather than "$0.00", which reads as a finding that saves nothing.
    families = [
        f"{name} {money(figures.get('monthly_savings'))} ({figures.get('findings', 0):,})"
        if figures.get("monthly_savings")
        else f"{name} ({figures.get('findings', 0):,}, none in the total)"
        for name, figures in by_family.items()
        if figures.get("findings")
    ]
    if families:
        add("By family: " + " · ".join(families))
    bottlenecks = summary.get("bottlenecks", 0)
    if bottlenecks:
        add(
            f"{count_of(bottlenecks, 'bottleneck')}: fixing them adds "
            f"{money(summary.get('bottleneck_monthly_cost'))}/month"
        )
    spend = summary.get("spend")
    if spend:
        add(
            f"Spend {one_line(spend.get('period_start'))} to {one_line(spend.get('period_end'))}: "
            f"{money(spend.get('billed_cost'))} billed, {money(spend.get('effective_cost'))} "
            "effective"
        )
        for note in spend_notes(spend, currency):
            add(note)
    suppressed = int(summary.get("suppressed") or report.suppressed.height)
    if suppressed:
        add(
            f"{count_of(suppressed, 'finding')} suppressed "
            f"({money(summary.get('suppressed_monthly_savings'))}/month), not in the totals"
        )
    hidden = summary.get("hidden_below_min_savings", 0)
    if hidden:
        add(
            f"{count_of(hidden, 'finding')} under {money(summary.get('min_savings'))}/month hidden "
            "(--min-savings)"
        )
    if report.errors:
        add(
            f"{count_of(len(report.errors), 'collector')} failed; the reports list what is "
            "missing and why"
        )
    rejected = sum(int(rejection_document(r).get("rows") or 0) for r in report.rejections)
    if rejected:
        add(f"{rejected:,} inventory rows rejected by schema validation (see the reports)")
    return out


def closing_lines(written: Sequence[Path], width: int, next_step: str | None = None) -> list[str]:
    """Where the reports went, which one to open, and what to run next."""
    width = max(width, MIN_WIDTH)
    if not written:
        return []
    folders = {str(path.parent) for path in written}
    out: list[str] = []
    if len(folders) == 1:
        (folder,) = folders
        out += _wrap(f"Wrote {count_of(len(written), 'report')} to {folder}/:", width)
        for path in written:
            out += _fit("  " + path.name, width)
    else:
        for path in written:
            out += _fit(f"wrote {path}", width)
    html = next((p for p in written if p.suffix == ".html"), None)
    first = html or written[0]
    out += _fit(f"open {first}", width)
    if next_step:
        out += _wrap(f"next: {next_step}", width, indent="      ")
    return out
