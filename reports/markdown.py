"""The Markdown report: the savings summary a GitHub comment or step summary shows.

A headline and each category's monthly total, a link to the full HTML report when the run
says where it is (the Action's run page holds it as an artifact), then the top changes in
plain words (grouped findings: one row per change, at most seven columns, with the commands
for them folded away), then every other finding folded in ``<details>`` by family, so the
comment reads in seconds and still holds everything.

GitHub refuses a comment of 65,536 characters or more, so the report is fitted under a
limit: the headline and the totals always stay, each table keeps its top rows, and each
trimmed table says how many rows it left out. With ``--history`` the headline gives the
week's change, the tables the status, and a section lists what was resolved; suppressed
findings and warnings have their own places. Every data cell is escaped: pipes would split
the table, and backticks, emphasis, brackets and angle brackets would turn someone's tag
into markup, links or HTML; code blocks are fenced longer than any backtick run they hold.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from costscan.reports.interface import Renderer, Report
from costscan.reports.json import as_ranked, as_suppressed, finding_records, rejection_document
from costscan.reports.remediation import remediation
from costscan.reports.text import defuse_links, show_controls
from costscan.scanner.contracts.errors import CollectorError
from costscan.scanner.contracts.schema import FAMILIES

GITHUB_COMMENT_LIMIT = 65_536
# Below GitHub's limit, so the Action can add its own line (history, a link) and still post.
DEFAULT_MAX_CHARS = 65_000
MARKER = "<!-- costscan -->"

# Rows guaranteed to each table before the findings table claims what space is left.
MIN_ROWS_PER_TABLE = 10
# Long names make a table unreadable; the full text is in the other reports.
TITLE_CHARS = 120
RESOURCE_CHARS = 80
MESSAGE_CHARS = 300
LISTED_NAMES = 5
# Warnings are few by nature; a pathological list still cannot crowd out the findings.
LISTED_WARNINGS = 20
# Changes in the top table; the rest are folded by family.
TOP_CHANGES = 10
# Rows each family's folded table shows at most: the comment is read, not searched; the
# other reports hold every finding, and the table says how many it leaves out.
FAMILY_ROWS = 15
# Commands shown for the top changes (members of a group: the first few, then a count).
COMMANDS_FOR = 5
COMMAND_MEMBERS = 5
COMMAND_CHARS = 1_500

EMPTY = "—"

_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Everything that is markup in GitHub Flavored Markdown inside a table cell or a line:
# table pipes, code, emphasis, links, raw HTML, strikethrough, entities and math.
_MARKUP = re.compile(r"([\\`*_\[\]<>|~&$])")


def format_money(value: float | None, currency: str = "USD") -> str:
    """``$1,234.56`` (or ``1,234.56 EUR``); a dash when there is no figure."""
    if value is None or not math.isfinite(value):
        return EMPTY
    sign = "-" if value < 0 else ""
    amount = f"{abs(value):,.2f}"
    return f"{sign}${amount}" if currency == "USD" else f"{sign}{amount} {currency}"


def spend_notes(spend: Mapping[str, Any], currency: str) -> list[str]:
    """Plain lines under the spend figures: the spend in each currency the billing files
    use (with the --fx rates that converted them) when that is not simply the report's
    currency, and the account of billing rows and files. Every renderer shows them."""
    lines = []
    by_currency = spend.get("by_currency") or {}
    if isinstance(by_currency, Mapping) and (set(by_currency) - {currency} or spend.get("fx")):
        parts = []
        for code, figures in by_currency.items():
            if not isinstance(figures, Mapping):
                continue
            text = format_money(figures.get("billed_cost"), str(code))
            rate = figures.get("fx_rate")
            if rate is not None:
                converted = format_money((figures.get("billed_cost") or 0.0) * rate, "USD")
                text += f" (x {rate:g} USD per {code}, from --fx: {converted})"
            elif code != currency:
                text += " (not converted, not in the totals)"
            parts.append(text)
        lines.append("Billed by currency: " + "; ".join(parts) + ".")
    pushdown = spend.get("pushdown")
    if isinstance(pushdown, Mapping):
        lines.append(pushdown_note(pushdown))
    rows = spend.get("rows")
    if isinstance(rows, Mapping):
        files = spend.get("files") or []
        skipped = spend.get("skipped_files") or []
        lines.append(
            f"Billing rows: {int(rows.get('read') or 0):,} read, "
            f"{int(rows.get('used') or 0):,} used, {int(rows.get('rejected') or 0):,} "
            f"rejected; {count_of(len(files), 'file')} read, {len(skipped):,} skipped "
            "(each listed in the JSON report)."
        )
    return lines


def _data_size(count: Any) -> str:
    """Bytes in GB (10^9), or MB below one GB."""
    if count is None:
        return "unknown"
    return f"{int(count) / 1e9:,.2f} GB" if int(count) >= 1e9 else f"{int(count) / 1e6:,.2f} MB"


def pushdown_note(pushdown: Mapping[str, Any]) -> str:
    """Where the billing was queried (a push-down --billing URI), what the queries
    scanned, and what that is estimated to cost at the engine's on-demand price."""
    estimate = _data_size(pushdown.get("bytes_estimated"))
    if pushdown.get("estimated_cost_usd") is not None:
        estimate += ", " + format_money(pushdown["estimated_cost_usd"], "USD")
    return (
        f"Billing queried in {pushdown.get('engine')} ({pushdown.get('uri')}), billing periods "
        f"{pushdown.get('period_start')} to {pushdown.get('period_end')} (exclusive): "
        f"{_data_size(pushdown.get('bytes_scanned'))} scanned (estimated {estimate}), "
        f"estimated query cost {format_money(pushdown.get('query_cost_usd'), 'USD')}."
    )


def format_payback(months: float | None) -> str:
    """Months to pay back the work; a dash when it never pays back."""
    if months is None or not math.isfinite(months):
        return EMPTY
    if months == 0:
        return "immediate"
    return f"{months:,.1f} mo"


def format_percent(fraction: float | None) -> str:
    if fraction is None or not math.isfinite(fraction):
        return EMPTY
    return f"{fraction * 100:.0f}%"


def count_of(count: int, noun: str) -> str:
    """``1 finding``, ``2,000 findings``: the plural by adding an s, which our nouns take."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def one_line(text: object, max_chars: int | None = None) -> str:
    """``text`` on one line, without control characters, cut to ``max_chars``."""
    if text is None:
        return ""
    # Bidi overrides would reorder what a reader sees: shown as marks (reports/text.py).
    flat = show_controls(_WHITESPACE.sub(" ", _CONTROL.sub("", str(text))).strip())
    if max_chars is not None and len(flat) > max_chars:
        flat = flat[: max_chars - 1].rstrip() + "…"
    return flat


def money_cell(value: float | None, currency: str = "USD") -> str:
    """Money for a Markdown cell: our own ``$1,234.56`` needs no escaping, a currency code may."""
    return format_money(value, currency if currency == "USD" else escape(currency))


def escape(text: object, max_chars: int | None = None) -> str:
    """Plain text that GitHub renders as itself: no markup, no table break, no @mention."""
    escaped = _MARKUP.sub(r"\\\1", one_line(text, max_chars))
    # A tag value like "@org/team" would notify people; a zero-width space keeps it text.
    return defuse_links(escaped)


def resource_label(resource_id: str | None, resource_name: str | None) -> str:
    """The name and the id when both are known and differ, else whichever is there."""
    if resource_name and resource_id and resource_name != resource_id:
        return f"{resource_name} ({resource_id})"
    return resource_name or resource_id or ""


def arn_resource(resource_id: str) -> str:
    """An ARN's resource part (``loadbalancer/app/web/50dc…`` of ``arn:aws:…:123:loadbalancer/…``):
    whole, and unique within the account and region shown beside it."""
    parts = resource_id.split(":", 5)
    return (
        parts[5]
        if resource_id.startswith("arn:") and len(parts) == 6 and parts[5]
        else (resource_id)
    )


def compact_label(resource_id: str | None, resource_name: str | None) -> str:
    """``resource_label`` with an ARN shortened to its resource part, so the id stays whole
    where a table has little room."""
    return resource_label(arn_resource(resource_id) if resource_id else resource_id, resource_name)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _names(values: Sequence[str]) -> str:
    shown = ", ".join(escape(v) for v in values[:LISTED_NAMES])
    if len(values) > LISTED_NAMES:
        shown += f" and {len(values) - LISTED_NAMES} more"
    return shown or EMPTY


@dataclass
class _Table:
    """A table whose body may be cut; ``noun`` names its rows in the "not shown" note."""

    heading: list[str]
    rows: list[str]
    total_rows: int
    noun: str
    after: list[str]

    def lines(self, shown: int) -> list[str]:
        out = [*self.heading, *self.rows[:shown]]
        left_out = self.total_rows - shown
        if left_out > 0:
            where = "the HTML, CSV and JSON reports list them all"
            out += ["", f"_{count_of(left_out, self.noun)} not shown; {where}._"]
        return out + self.after


class MarkdownRenderer(Renderer):
    extension = "md"

    def __init__(self, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        if max_chars >= GITHUB_COMMENT_LIMIT:
            raise ValueError(f"max_chars must be below GitHub's {GITHUB_COMMENT_LIMIT:,}")
        self.max_chars = max_chars

    def render(self, report: Report) -> bytes:
        return render_markdown(report, self.max_chars).encode("utf-8")


def render_markdown(
    report: Report, max_chars: int = DEFAULT_MAX_CHARS, family_rows: int | None = FAMILY_ROWS
) -> str:
    """The report as Markdown of fewer than ``max_chars`` characters, each family's folded
    table cut at ``family_rows`` rows (None: as many as fit)."""
    currency = report.run.currency
    # No row is shorter than 10 characters, so rows past this many could never fit: the
    # renderer formats at most these, whatever the number of findings.
    row_cap = max_chars // 10
    frame = as_ranked(report.findings)
    top = frame.filter(pl.col("counted").fill_null(False)).head(TOP_CHANGES)
    head = _head(report, currency)
    tables = [
        _top_table(report, top, currency),
        _commands(top),
        *_family_tables(
            report, frame, set(top["finding_id"].to_list()), currency, row_cap, family_rows
        ),
        _resolved_table(report, currency, row_cap),
        _suppressed_table(report, currency, row_cap),
        _bottlenecks_table(report, currency, row_cap),
        _errors_table(report.errors, row_cap),
        _rejections_table(report.rejections, row_cap),
    ]
    present = [t for t in tables if t is not None]
    return _fit(head, present, max_chars)


def _compose(head: list[str], tables: Sequence[_Table], shown: Sequence[int]) -> str:
    lines = list(head)
    for table, count in zip(tables, shown, strict=True):
        lines += ["", *table.lines(count)]
    return "\n".join(lines) + "\n"


def _fit(head: list[str], tables: Sequence[_Table], max_chars: int) -> str:
    """Every row if it fits; else a floor for each table, then the rest in table order."""
    shown = [len(t.rows) for t in tables]
    text = _compose(head, tables, shown)
    if len(text) < max_chars and all(len(t.rows) == t.total_rows for t in tables):
        return text
    shown = [min(len(t.rows), MIN_ROWS_PER_TABLE) for t in tables]
    # The "not shown" notes are counted at their longest here, so the budget is safe.
    budget = max_chars - len(_compose(head, tables, shown)) - 1
    for index, table in enumerate(tables):
        for row in table.rows[shown[index] :]:
            cost = len(row) + 1
            if cost > budget:
                break
            budget -= cost
            shown[index] += 1
    text = _compose(head, tables, shown)
    # Only when the floors alone overflow: give back rows, last table first.
    while len(text) >= max_chars and any(shown):
        last = max(i for i, count in enumerate(shown) if count)
        shown[last] -= 1
        text = _compose(head, tables, shown)
    return text


def _head(report: Report, currency: str) -> list[str]:
    summary = report.summary
    run = report.run

    def money(value: float | None) -> str:
        return money_cell(value, currency)

    history = report.history
    table = category_table(summary, money)
    totals = [*table, ""] if table else []
    lines = [
        MARKER,
        headline(summary, history, money),
        "",
        *partial_notice(report),
        *totals,
        f"{escape(run.provider)} · accounts {_names(run.accounts)} · regions "
        f"{_names(run.regions)} · {run.lookback_days}-day lookback · {escape(run.started_at)} "
        f"· costscan {escape(run.costscan_version)}",
    ]
    if run.report_url and run.report_url.startswith(("https://", "http://")):
        lines += [
            "",
            f"**[Open the full report]({link_target(run.report_url)})**: the HTML report "
            "(charts, evidence, the commands for every change) is in this run's artifacts.",
        ]
    if history is not None:
        resolved = history.get("resolved") or []
        lines += [
            "",
            f"Since the run of {escape(history.get('previous_started_at'))}: "
            f"{count_of(int(history.get('new_findings') or 0), 'new finding')}, "
            f"{int(history.get('still_open') or 0):,} still open, "
            f"{count_of(len(resolved), 'finding')} resolved.",
        ]
        scope = history.get("scope")
        if isinstance(scope, Mapping):
            lines += ["", escape(history_scope_text(history), MESSAGE_CHARS * 2)]
    if report.warnings:
        quoted = [
            f"> **Warning:** {escape(warning, MESSAGE_CHARS)}"
            for warning in report.warnings[:LISTED_WARNINGS]
        ]
        left_out = len(report.warnings) - LISTED_WARNINGS
        if left_out > 0:
            quoted.append(f"> _{count_of(left_out, 'more warning')} in the JSON report._")
        # A ">" line between them keeps each warning its own paragraph in the quote.
        lines += ["", "\n>\n".join(quoted)]
    spend = summary.get("spend")
    if spend:
        lines += [
            "",
            f"Spend {escape(spend.get('period_start'))} to {escape(spend.get('period_end'))}: "
            f"{money(spend.get('billed_cost'))} billed, "
            f"{money(spend.get('effective_cost'))} effective.",
        ]
        lines += [line for note in spend_notes(spend, currency) for line in ("", escape(note))]
        top = [t for t in spend.get("top_resources") or [] if isinstance(t, dict)]
        if top:
            shown = "; ".join(
                f"{escape(t.get('resource_id'), RESOURCE_CHARS)} "
                f"({escape(t.get('service'))}) {money(t.get('billed_cost'))}"
                for t in top[:LISTED_NAMES]
            )
            lines += ["", f"Largest resources by billed cost: {shown}."]
    suppressed = int(summary.get("suppressed") or report.suppressed.height)
    if suppressed:
        lines += [
            "",
            f"{count_of(suppressed, 'finding')} suppressed "
            f"({money(summary.get('suppressed_monthly_savings'))}/month), not in the totals: "
            "see Suppressed below.",
        ]
    hidden = summary.get("hidden_below_min_savings", 0)
    if hidden:
        lines += [
            "",
            f"{count_of(hidden, 'finding')} under {money(summary.get('min_savings'))}/month hidden "
            "(--min-savings).",
        ]
    if report.errors:
        lines += [
            "",
            f"**{count_of(len(report.errors), 'collector')} failed**, so some findings may be "
            "missing: see Collector errors below.",
        ]
    return lines


def headline(
    summary: Mapping[str, Any], history: Mapping[str, Any] | None, money: Callable[[Any], str]
) -> str:
    """The bold first line; with history, the week's new and realized savings."""
    changes = int(summary.get("counted_findings") or 0)
    found = (
        f"**{money(summary.get('monthly_savings'))}/month in savings found** with "
        f"{count_of(changes, 'change')}"
    )
    if history is not None:
        return (
            f"{found}: +{money(history.get('new_monthly_savings'))} new this week, "
            f"{money(history.get('realized_monthly_savings'))} realized since last week"
        )
    return f"{found} — {money(summary.get('annual_savings'))}/year"


# The summary's totals, one per category (reports/ranking.py), in the order a reader
# weighs them: what leaves the bill, then what does not.
CATEGORY_TOTALS: tuple[tuple[str, str], ...] = (
    ("Savings (counted)", "monthly_savings"),
    ("Cost avoidance", "cost_avoidance"),
    ("Possible", "possible_monthly_savings"),
    ("Deferred", "deferred_monthly_savings"),
    ("Commitment waste", "commitment_waste"),
    ("Investments", "investments_monthly_cost"),
)


def category_table(summary: Mapping[str, Any], money: Callable[[Any], str]) -> list[str]:
    """Every category's monthly total side by side; only savings are in the headline."""
    shown = [(label, key) for label, key in CATEGORY_TOTALS if key in summary]
    if len(shown) < 2:
        return []
    return [
        _row([label for label, _ in shown]),
        _row(["---:"] * len(shown)),
        _row([money(summary.get(key)) for _, key in shown]),
    ]


def status_text(status: str | None, weeks_open: int | None) -> str:
    """``new``, ``open 3 wk``; empty without history."""
    if status == "open" and weeks_open is not None:
        return f"open {weeks_open:,} wk"
    return one_line(status)


def link_target(url: str) -> str:
    """``url`` as a Markdown link target, with the characters that would end it encoded."""
    return "<" + urllib.parse.quote(url.strip(), safe=":/?#@!$&'*+,;=%~-._") + ">"


def code_block(text: str, language: str = "sh") -> list[str]:
    """``text`` fenced with more backticks than any run inside it, so nothing closes it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = _CONTROL.sub("", text).replace("\r", "")
    return [f"{fence}{language}", *body.split("\n"), fence]


def without_id(change: str, resource_id: str | None) -> str:
    """A change in words without the "(id)" after the name, where the id has a column."""
    return change.replace(f" ({resource_id})", "") if resource_id else change


def _rank_cell(f: Mapping[str, Any], rank_of: Mapping[str, Any], with_status: bool) -> str:
    rank = "" if f["rank"] is None else str(f["rank"])
    if f["alternative_to"] is not None:
        target = rank_of.get(f["alternative_to"])
        # "#4" alone would link issue 4 on GitHub: a zero-width space keeps it text.
        rank += f" (alt. to #\u200b{target})" if target is not None else " (alt.)"
    if with_status and f["status"]:
        rank += f" · {status_text(f['status'], f['weeks_open'])}"
    return escape(rank.strip())


def _resource_cell(f: Mapping[str, Any]) -> str:
    return escape(compact_label(f["resource_id"], f["resource_name"]), RESOURCE_CHARS)


def _top_table(report: Report, top: pl.DataFrame, currency: str) -> _Table:
    """The best counted changes in plain words: seven columns at most."""
    with_status = report.history is not None
    heading = [
        f"### Top {count_of(top.height, 'change')}" if top.height else "### Top changes",
        "",
    ]
    if top.height == 0:
        return _Table([*heading, "No change saves money in this run."], [], 0, "change", [])
    heading += [
        _row(["#", "Change", "Resource", "Net/month", "Payback", "Risk", "Priority"]),
        _row(["---:", "---", "---", "---:", "---:", "---", "---"]),
    ]
    rows = [
        _row(
            [
                _rank_cell(f, {}, with_status),
                escape(without_id(remediation(f).change, f["resource_id"]), TITLE_CHARS),
                _resource_cell(f),
                money_cell(f["net_monthly_savings"], currency),
                format_payback(f["payback_months"]),
                escape(f["risk"]),
                escape(f["priority"]),
            ]
        )
        for f in finding_records(top)
    ]
    return _Table(heading, rows, top.height, "change", [])


# The command-line tool each cloud's remediation commands are for.
_CLI_NAMES = {"aws": "AWS CLI", "gcp": "gcloud", "azure": "Azure CLI"}


def _commands(top: pl.DataFrame) -> _Table | None:
    """The commands for the first top changes, folded: a reviewer opens them to act."""
    lines: list[str] = []
    for f in finding_records(top.head(COMMANDS_FOR)):
        fix = remediation(f, members_shown=COMMAND_MEMBERS)
        if not fix.cli:
            continue
        lines += ["", f"**#\u200b{f['rank']}: {escape(fix.change, TITLE_CHARS)}**", ""]
        if len(fix.cli) > COMMAND_CHARS:
            lines.append("_A long command: the HTML report has it with a copy button._")
        else:
            lines += code_block(fix.cli)
    if not lines:
        return None
    clouds = set(top["provider"].to_list()) if "provider" in top.columns else {"aws"}
    tool = _CLI_NAMES.get(next(iter(clouds)), "CLI") if len(clouds) == 1 else "CLI"
    heading = [
        "<details>",
        f"<summary>Commands for the top changes ({tool})</summary>",
        *lines,
        "",
        "</details>",
    ]
    return _Table(heading, [], 0, "command", [])


def _family_tables(
    report: Report,
    frame: pl.DataFrame,
    shown: set[str],
    currency: str,
    row_cap: int,
    family_rows: int | None,
) -> list[_Table]:
    """Every finding not among the top changes, folded by family in report order."""
    rest = frame.filter(~pl.col("finding_id").is_in(list(shown)))
    if rest.height == 0:
        return []
    with_status = report.history is not None
    rank_of = dict(zip(frame["finding_id"].to_list(), frame["rank"].to_list(), strict=True))
    by_family = report.summary.get("by_family") or {}
    present = rest["family"].unique().to_list()
    names = [f for f in FAMILIES if f in present] + sorted(
        str(f) for f in present if f not in FAMILIES
    )
    tables = [_Table(["### Every other finding, by family"], [], 0, "finding", [])]
    # The families share one budget: rows past ``row_cap`` in all could never fit, so they
    # are not formatted (each family still gets the floor ``_fit`` guarantees).
    remaining = row_cap
    for name in names:
        part = rest.filter(pl.col("family") == name)
        formatted = min(part.height, family_rows or part.height, max(remaining, MIN_ROWS_PER_TABLE))
        remaining -= formatted
        counted = by_family.get(name, {}).get("monthly_savings")
        total = f", {money_cell(counted, currency)}/month counted" if counted else ""
        heading = [
            "<details>",
            f"<summary>{escape(name)}: {count_of(part.height, 'finding')}{total}</summary>",
            "",
            _row(["#", "Finding", "Resource", "Net/month", "Payback", "Category", "Risk"]),
            _row(["---:", "---", "---", "---:", "---:", "---", "---"]),
        ]
        rows = [
            _row(
                [
                    _rank_cell(f, rank_of, with_status),
                    escape(f["title"], TITLE_CHARS),
                    _resource_cell(f),
                    money_cell(f["net_monthly_savings"], report.currency_of(f["finding_id"])),
                    format_payback(f["payback_months"]),
                    escape((f["category"] or "").replace("_", " ")),
                    escape(f["risk"]),
                ]
            )
            for f in part.head(formatted).iter_rows(named=True)
        ]
        after = ["", "</details>"]
        tables.append(_Table(heading, rows, part.height, "finding", after))
    if rest["alternative_to"].is_not_null().any():
        tables[-1].after += [
            "",
            "_Rows marked “alt.” exclude another finding on the same resource: they are "
            "options, and do not count toward the totals._",
        ]
    return tables


def _resolved_table(report: Report, currency: str, row_cap: int) -> _Table | None:
    history = report.history
    if history is None:
        return None
    resolved = [r for r in history.get("resolved") or [] if isinstance(r, Mapping)]
    lines = [
        f"### Resolved since last run ({len(resolved):,})",
        "",
        f"Realized savings: {money_cell(history.get('realized_monthly_savings'), currency)}"
        "/month, from findings of the last run that are gone now.",
    ]
    if not resolved:
        return _Table([*lines, "", "Nothing was resolved."], [], 0, "resolved finding", [])
    lines += [
        "",
        _row(["Finding", "Resource", "Family", "Net/month", "Weeks open"]),
        _row(["---", "---", "---", "---:", "---:"]),
    ]
    rows = [
        _row(
            [
                escape(r.get("title"), TITLE_CHARS),
                escape(
                    resource_label(r.get("resource_id"), r.get("resource_name")), RESOURCE_CHARS
                ),
                escape(r.get("family")),
                money_cell(r.get("net_monthly_savings"), currency),
                EMPTY if r.get("weeks_open") is None else f"{int(r['weeks_open']):,}",
            ]
        )
        for r in resolved[:row_cap]
    ]
    return _Table(lines, rows, len(resolved), "resolved finding", [])


def _suppressed_table(report: Report, currency: str, row_cap: int) -> _Table | None:
    frame = as_suppressed(report.suppressed)
    if frame.height == 0:
        return None
    total = report.summary.get("suppressed_monthly_savings")
    lines = [
        f"### Suppressed ({frame.height:,})",
        "",
        "Left out of the totals by `[[suppress]]` entries in costscan.toml"
        + (f": {money_cell(total, currency)}/month." if total is not None else ".")
        + " They count again once their entry expires.",
        "",
        _row(["Finding", "Resource", "Net/month", "Reason", "Owner", "Expires"]),
        _row(["---", "---", "---:", "---", "---", "---"]),
    ]
    rows = [
        _row(
            [
                escape(f["title"], TITLE_CHARS),
                escape(resource_label(f["resource_id"], f["resource_name"]), RESOURCE_CHARS),
                money_cell(f["net_monthly_savings"], currency),
                escape(f["suppress_reason"], MESSAGE_CHARS),
                escape(f["suppress_owner"], RESOURCE_CHARS),
                EMPTY if f["suppress_expires"] is None else f["suppress_expires"].isoformat(),
            ]
        )
        for f in frame.head(row_cap).iter_rows(named=True)
    ]
    return _Table(lines, rows, frame.height, "suppressed finding", [])


def _bottlenecks_table(report: Report, currency: str, row_cap: int) -> _Table | None:
    frame = as_ranked(report.bottlenecks)
    if frame.height == 0:
        return None
    summary = report.summary
    count = summary.get("bottlenecks", frame.height)
    cost = summary.get("bottleneck_monthly_cost")
    title = f"### Bottlenecks ({count:,})"
    lines = [title, ""]
    if cost is not None:
        lines += [
            f"Resources running hot: fixing them all adds "
            f"{money_cell(cost, currency)}/month. They are not savings.",
            "",
        ]
    lines += [
        _row(["#", "Finding", "Resource", "Region", "Cost now", "Added cost", "Risk"]),
        _row(["---:", "---", "---", "---", "---:", "---:", "---"]),
    ]
    rows = [
        _row(
            [
                "" if b["rank"] is None else str(b["rank"]),
                escape(b["title"], TITLE_CHARS),
                escape(compact_label(b["resource_id"], b["resource_name"]), RESOURCE_CHARS),
                escape(b["region"]),
                money_cell(b["current_monthly_cost"], currency),
                money_cell(b["added_monthly_cost"], currency),
                escape(b["risk"]),
            ]
        )
        for b in frame.head(row_cap).iter_rows(named=True)
    ]
    return _Table(lines, rows, frame.height, "bottleneck", [])


def partial_notice(report: Report) -> list[str]:
    """The lines under the headline of a partial report: it must not read as whole."""
    if not report.errors:
        return []
    names = sorted({e.collector for e in report.errors})
    shown = ", ".join(escape(n) for n in names[:LISTED_NAMES])
    more = f" and {len(names) - LISTED_NAMES} more" if len(names) > LISTED_NAMES else ""
    return [
        f"**Partial report:** {count_of(len(report.errors), 'collector error')} "
        f"({shown}{more}). What they measure is missing: the findings that depend on it "
        "are withheld or marked possible, and the history claims nothing about it. "
        "See Collector errors below.",
        "",
    ]


def history_scope_text(history: Mapping[str, Any]) -> str:
    """Which scope the realized savings cover, and what was not seen this run."""
    scope = history.get("scope") or {}
    accounts = list(scope.get("accounts") or [])
    regions = list(scope.get("regions") or [])
    text = (
        f"Resolved and realized cover what this run saw: accounts {', '.join(accounts) or '—'}"
        f"; regions {', '.join(regions) or '—'}"
    )
    gaps = list(scope.get("gaps") or [])
    if gaps:
        text += f"; less what {count_of(len(gaps), 'failed collector')} left unmeasured"
    text += "."
    unseen = int(history.get("not_seen") or 0)
    if unseen:
        text += (
            f" {count_of(unseen, 'earlier finding')} "
            f"({format_money(history.get('not_seen_monthly_savings'))}/month) not seen this "
            "run (outside that scope): not resolved, kept with their age."
        )
    return text


def _errors_table(errors: Sequence[CollectorError], row_cap: int) -> _Table | None:
    if not errors:
        return None
    heading = [
        f"### Collector errors ({len(errors):,})",
        "",
        "These collectors failed, so what they cover is missing from the findings.",
        "",
        _row(["Collector", "Account", "Region", "Affects", "Message"]),
        _row(["---", "---", "---", "---", "---"]),
    ]
    rows = [
        _row(
            [
                escape(e.collector),
                escape(e.account_id),
                escape(e.region),
                escape(e.affects or e.measures, MESSAGE_CHARS),
                escape(e.message, MESSAGE_CHARS),
            ]
        )
        for e in errors[:row_cap]
    ]
    return _Table(heading, rows, len(errors), "error", [])


def _rejections_table(rejections: Sequence[Any], row_cap: int) -> _Table | None:
    if not rejections:
        return None
    documents = [rejection_document(r) for r in rejections]
    total = sum(int(d.get("rows") or 0) for d in documents)
    heading = [
        f"### Rejected rows ({total:,})",
        "",
        "Rows a provider returned that did not fit the inventory schema.",
        "",
        _row(["Frame", "Reason", "Rows"]),
        _row(["---", "---", "---:"]),
    ]
    rows = [
        _row(
            [
                escape(d.get("frame")),
                escape(d.get("reason"), MESSAGE_CHARS),
                f"{int(d.get('rows') or 0):,}",
            ]
        )
        for d in documents[:row_cap]
    ]
    return _Table(heading, rows, len(rejections), "rejection reason", [])
