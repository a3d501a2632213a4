"""The report formats by name, where their files go, and the Parquet form of a whole run.

``FORMATS`` is what ``--format`` accepts. The Parquet file holds the ranked findings,
bottlenecks and suppressed findings (one frame with the SUPPRESSED columns, told apart by
``section``; the suppress_* columns are null outside ``suppressed``) with the run, summary,
errors, rejections, history and warnings in the file's key-value metadata, so
``read_parquet_report`` gives back the ``Report`` and ``costscan report FILE --format html``
re-renders a past run exactly.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import polars as pl

from costscan.reports.csv import CsvRenderer
from costscan.reports.html import HtmlRenderer
from costscan.reports.interface import Renderer, Report, RunInfo
from costscan.reports.json import (
    SCHEMA_VERSION,
    SUPPRESS_COLUMNS,
    SUPPRESSED_COLUMNS,
    JsonRenderer,
    as_ranked,
    as_suppressed,
    clean,
    error_document,
    error_of,
    history_document,
    rejection_document,
    summary_document,
)
from costscan.reports.markdown import MarkdownRenderer
from costscan.reports.series import CpuSeries
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import (
    InputFileError,
    SchemaError,
    UsageError,
)

PARQUET_METADATA_KEY = "costscan"
SECTIONS: tuple[str, ...] = ("findings", "bottlenecks")
SUPPRESSED_SECTION = "suppressed"


class ParquetRenderer(Renderer):
    extension = "parquet"

    def render(self, report: Report) -> bytes:
        suppressed = as_suppressed(report.suppressed)
        ranked_parts = [
            as_ranked(part).with_columns(
                pl.lit(section).alias("section"),
                *(pl.lit(None, dtype=suppressed.schema[c]).alias(c) for c in SUPPRESS_COLUMNS),
            )
            for section, part in zip(SECTIONS, (report.findings, report.bottlenecks), strict=True)
        ]
        suppressed_part = suppressed.with_columns(pl.lit(SUPPRESSED_SECTION).alias("section"))
        frame = pl.concat(
            [
                part.select(("section", *SUPPRESSED_COLUMNS))
                for part in (*ranked_parts, suppressed_part)
            ],
            how="vertical",
        )
        metadata = {
            "schema_version": SCHEMA_VERSION,
            # Every RunInfo field, not only the JSON report's, so the run comes back whole.
            "run": clean(dataclasses.asdict(report.run)),
            "summary": summary_document(report.summary),
            "errors": [error_document(e) for e in report.errors],
            "rejected_rows": [rejection_document(r) for r in report.rejections],
            "history": history_document(report.history),
            "warnings": [str(w) for w in report.warnings],
            "utilization": {k: v.document() for k, v in report.utilization.items()},
            "currencies": dict(report.currencies),
        }
        buffer = io.BytesIO()
        frame.write_parquet(
            buffer, metadata={PARQUET_METADATA_KEY: json.dumps(metadata, allow_nan=False)}
        )
        return buffer.getvalue()


FORMATS: dict[str, type[Renderer]] = {
    "json": JsonRenderer,
    "csv": CsvRenderer,
    "md": MarkdownRenderer,
    "html": HtmlRenderer,
    "parquet": ParquetRenderer,
}


def renderer_for(name: str) -> Renderer:
    """The renderer for format ``name``; UsageError naming it and the known ones if unknown."""
    key = name.strip().lower()
    renderer = FORMATS.get(key)
    if renderer is None:
        known = ", ".join(sorted(FORMATS))
        raise UsageError(f"--format: unknown format {name!r}; known formats: {known}")
    return renderer()


def read_parquet_report(path: Path) -> Report:
    """The ``Report`` a ParquetRenderer file holds; InputFileError if it is not one."""
    try:
        metadata = pl.read_parquet_metadata(path)
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputFileError(f"{path}: cannot read it as Parquet ({exc})") from None
    raw = metadata.get(PARQUET_METADATA_KEY)
    if raw is None or "section" not in frame.columns:
        raise InputFileError(
            f"{path}: not a costscan findings file (written with --format parquet)"
        )
    try:
        document: dict[str, Any] = json.loads(raw)
    except ValueError:
        raise InputFileError(f"{path}: its costscan metadata is not valid JSON") from None
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputFileError(
            f"{path}: report schema version {version!r}; this costscan reads {SCHEMA_VERSION}"
        )
    fields = {f.name for f in dataclasses.fields(RunInfo)}
    try:
        run = RunInfo(**{k: v for k, v in document["run"].items() if k in fields})
        errors = [error_of(e) for e in document.get("errors", [])]
    except (KeyError, TypeError) as exc:
        raise InputFileError(f"{path}: its costscan metadata is incomplete ({exc})") from None
    history = document.get("history")
    warnings = document.get("warnings", [])
    raw_currencies = document.get("currencies") or {}
    currencies = (
        {str(k): str(v) for k, v in raw_currencies.items()}
        if isinstance(raw_currencies, dict)
        else {}
    )
    raw_series = document.get("utilization") or {}
    series = {
        str(k): parsed
        for k, v in (raw_series.items() if isinstance(raw_series, dict) else ())
        if (parsed := CpuSeries.from_document(v)) is not None
    }
    if not (history is None or isinstance(history, dict)) or not isinstance(warnings, list):
        raise InputFileError(f"{path}: its costscan history or warnings are malformed")
    try:
        sections = {
            name: as_ranked(frame.filter(pl.col("section") == name).drop("section"))
            for name in SECTIONS
        }
        # Files written before suppressions were kept have no suppress_* columns and no
        # suppressed rows: an empty frame, not an error.
        suppressed = (
            as_suppressed(frame.filter(pl.col("section") == SUPPRESSED_SECTION).drop("section"))
            if all(c in frame.columns for c in SUPPRESS_COLUMNS)
            else as_suppressed(schema.empty(schema.SUPPRESSED))
        )
    except SchemaError as exc:
        raise InputFileError(f"{path}: {exc}") from None
    return Report(
        run=run,
        findings=sections["findings"],
        bottlenecks=sections["bottlenecks"],
        summary=document.get("summary", {}),
        errors=errors,
        rejections=list(document.get("rejected_rows", [])),
        suppressed=suppressed,
        history=history,
        warnings=[str(w) for w in warnings],
        utilization=series,
        currencies=currencies,
    )
