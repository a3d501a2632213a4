"""The CSV report: RFC 4180, one row per finding, safe to open in a spreadsheet.

Findings, then bottlenecks, then suppressed findings, told apart by the ``section``
column; the other columns carry the JSON report's finding keys, and the ``suppress_*``
columns (empty outside the suppressed section) say which [[suppress]] entry hid a finding.
Money is a plain number in the run's currency (USD). Text cells are someone's tag or name,
so any that starts with ``= + - @``, tab or carriage return gets a leading single quote
(OWASP "CSV Injection"): a spreadsheet then shows it as text instead of running it.
Numeric columns are never touched, so -12.5 stays a number.
"""

from __future__ import annotations

import polars as pl

from costscan.reports.interface import Renderer, Report
from costscan.reports.json import SUPPRESSED_COLUMNS, as_ranked, as_suppressed
from costscan.scanner.contracts.schema import SUPPRESSED

CSV_COLUMNS: tuple[str, ...] = ("section", *SUPPRESSED_COLUMNS)
SECTIONS: tuple[str, ...] = ("findings", "bottlenecks", "suppressed")

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


def csv_frame(report: Report) -> pl.DataFrame:
    """Every section as one frame, in CSV column order, text neutralized."""
    not_suppressed = [
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in SUPPRESSED.items()
        if name.startswith("suppress_")
    ]
    parts = [
        as_ranked(report.findings).with_columns(*not_suppressed),
        as_ranked(report.bottlenecks).with_columns(*not_suppressed),
        as_suppressed(report.suppressed),
    ]
    combined = pl.concat(
        [
            part.with_columns(pl.lit(section).alias("section"))
            for section, part in zip(SECTIONS, parts, strict=True)
        ],
        how="vertical",
    ).select(CSV_COLUMNS)
    text_columns = [name for name, dtype in combined.schema.items() if dtype == pl.String]
    return combined.with_columns([neutralize(name) for name in text_columns])


class CsvRenderer(Renderer):
    extension = "csv"

    def render(self, report: Report) -> bytes:
        text = csv_frame(report).write_csv(
            line_terminator="\r\n",  # RFC 4180, as Python's csv module writes it
            quote_style="necessary",
            float_scientific=False,  # 0.0000001, never 1e-7: every reader parses it
        )
        return text.encode("utf-8")
