"""The CSV reports: RFC 4180, one row per finding, safe to open in a spreadsheet.

Two files. ``….csv`` holds the findings, then the suppressed findings, told apart by the
``section`` column; ``….investments.csv`` holds the bottlenecks and the performance
investments that fix them (they cost money, so they never sit among savings). Both carry
the JSON report's finding keys, the ``suppress_*`` columns (empty outside the suppressed
section) that say which [[suppress]] entry hid a finding, and then the columns people
sort by: the ``currency`` a row's money is in, the current and target type, the size and
the p99 CPU from the evidence (``reports/evidence.py``), and what to do (the change in
plain words, the AWS CLI command, the Terraform attribute and a console link).

Money is a plain number in the row's currency. Text cells are someone's tag or name, so
any that starts with ``= + - @``, tab or carriage return gets a leading single quote (OWASP
"CSV Injection"): a spreadsheet then shows it as text instead of running it. Numeric
columns are never touched, so -12.5 stays a number.

A partial report (a collector failed) says so first: one row per failure, in section
``partial``, before the findings (``title`` says what was not measured, ``detail`` the
error, ``recommendation`` what the report withheld because of it). Bidirectional and
control characters show as visible marks (reports/text.py).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from costscan.reports import evidence as evidence_text
from costscan.reports.interface import Renderer, Report
from costscan.reports.json import (
    SUPPRESSED_COLUMNS,
    as_ranked,
    as_suppressed,
    parse_evidence,
    parse_members,
)
from costscan.reports.remediation import remediation
from costscan.reports.text import show_controls
from costscan.scanner.contracts.schema import SUPPRESSED

# The columns after the JSON report's: flattened evidence and remediation.
SORT_COLUMNS: tuple[str, ...] = ("currency", *evidence_text.SORT_COLUMNS)
REMEDIATION_COLUMNS: tuple[str, ...] = ("change", "aws_cli", "terraform", "console_url")
CSV_COLUMNS: tuple[str, ...] = (
    "section",
    *SUPPRESSED_COLUMNS,
    *SORT_COLUMNS,
    *REMEDIATION_COLUMNS,
)
SECTIONS: tuple[str, ...] = ("findings", "suppressed")
INVESTMENT_SECTION = "bottlenecks"
INVESTMENTS_EXTENSION = "investments.csv"
PARTIAL = "partial"

# The characters OWASP lists as starting a formula in Excel, LibreOffice or Google Sheets.
FORMULA_START = r"^[=+\-@\t\r]"


def neutralize(column: str) -> pl.Expr:
    """A text column with formula-starting cells prefixed by a single quote."""
    text = pl.col(column)
    return (
        pl.when(text.str.contains(FORMULA_START))
        .then(pl.lit("'") + text)
        .otherwise(text)
        .alias(column)
    )


def _extra_columns(frame: pl.DataFrame, report: Report) -> pl.DataFrame:
    """The currency, the flattened evidence and the remediation of each row."""
    flattened = frame.select(
        pl.col("finding_id")
        .replace_strict(report.currencies, default=report.run.currency, return_dtype=pl.String)
        .alias("currency"),
        *evidence_text.sort_column_exprs(pl.col("evidence"), pl.col("policy_id")),
    )
    fixes: dict[str, list[str | None]] = {name: [] for name in REMEDIATION_COLUMNS}
    for record in frame.select(
        "provider", "policy_id", "action", "resource_id", "resource_name", "resource_type",
        "region", "title", "recommendation", "net_monthly_savings",
        "monthly_savings_before_discounts", "member_count", "evidence", "members",
    ).iter_rows(named=True):  # fmt: skip
        record["evidence"] = parse_evidence(record["evidence"])
        record["members"] = parse_members(record["members"])
        fix = remediation(record)
        fixes["change"].append(fix.change)
        fixes["aws_cli"].append(fix.cli)
        fixes["terraform"].append(fix.terraform)
        fixes["console_url"].append(fix.console_url)
    return flattened.with_columns(
        pl.Series(name, values, dtype=pl.String) for name, values in fixes.items()
    )


def _section_frame(parts: list[tuple[str, pl.DataFrame]], report: Report) -> pl.DataFrame:
    combined = pl.concat(
        [part.with_columns(pl.lit(section).alias("section")) for section, part in parts],
        how="vertical",
    )
    combined = pl.concat([combined, _extra_columns(combined, report)], how="horizontal")
    combined = combined.select(CSV_COLUMNS)
    text_columns = [name for name, dtype in combined.schema.items() if dtype == pl.String]
    return combined.with_columns([neutralize(name) for name in text_columns])


def _not_suppressed(frame: pl.DataFrame) -> pl.DataFrame:
    return as_ranked(frame).with_columns(
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in SUPPRESSED.items()
        if name.startswith("suppress_")
    )


def csv_frame(report: Report) -> pl.DataFrame:
    """The partial rows, the findings and the suppressed findings, in CSV column order,
    text neutralized."""
    findings = _section_frame(
        [
            ("findings", _not_suppressed(report.findings)),
            ("suppressed", as_suppressed(report.suppressed)),
        ],
        report,
    )
    return pl.concat([gap_rows(report, findings.schema), findings], how="vertical")


def investments_frame(report: Report) -> pl.DataFrame:
    """The bottlenecks and their investments, in the same columns."""
    return _section_frame([(INVESTMENT_SECTION, _not_suppressed(report.bottlenecks))], report)


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    text = frame.write_csv(
        line_terminator="\r\n",  # RFC 4180, as Python's csv module writes it
        quote_style="necessary",
        float_scientific=False,  # 0.0000001, never 1e-7: every reader parses it
    )
    return show_controls(text).encode("utf-8")


def gap_rows(report: Report, columns: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """One ``partial`` row per collector error, in the CSV's ``columns``."""
    rows = [
        {
            "section": PARTIAL,
            "provider": report.run.provider,
            "account_id": e.account_id,
            "region": e.region,
            "policy_id": e.collector,
            "title": f"partial report: {e.collector} failed ({e.measures or 'not measured'})",
            "detail": e.message,
            "recommendation": e.affects or None,
        }
        for e in report.errors
    ]
    frame = pl.DataFrame([{c: row.get(c) for c in columns} for row in rows], schema=columns)
    text_columns = [name for name, dtype in columns.items() if dtype == pl.String]
    return frame.with_columns([neutralize(name) for name in text_columns])


class CsvRenderer(Renderer):
    extension = "csv"

    def render(self, report: Report) -> bytes:
        return _csv_bytes(csv_frame(report))

    def render_investments(self, report: Report) -> bytes:
        return _csv_bytes(investments_frame(report))

    def render_files(self, report: Report) -> list[tuple[str, bytes]]:
        return [
            (self.extension, self.render(report)),
            (INVESTMENTS_EXTENSION, self.render_investments(report)),
        ]
