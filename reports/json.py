"""The JSON report: the machine contract (DESIGN.md "Report files").

Every other format shows the same numbers, so the pieces that shape a finding for a reader
(``as_ranked``, ``parse_evidence``, ``finding_records``) live here and the HTML report
embeds the same records its tables are drawn from.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any

import polars as pl

from reports.interface import Renderer, Report
from scanner.errors import CollectorError, SchemaError
from scanner.schema import FAMILIES, RANKED

SCHEMA_VERSION = 1

RUN_FIELDS: tuple[str, ...] = (
    "provider",
    "accounts",
    "regions",
    "started_at",
    "lookback_days",
    "currency",
    "costscan_version",
)
SUMMARY_KEYS: tuple[str, ...] = (
    "findings",
    "counted_findings",
    "monthly_savings",
    "annual_savings",
    "by_family",
    "spend",
    "bottlenecks",
    "bottleneck_monthly_cost",
    "hidden_below_min_savings",
    "min_savings",
)
FAMILY_SUMMARY_KEYS: tuple[str, ...] = ("findings", "monthly_savings")
SPEND_KEYS: tuple[str, ...] = ("billed_cost", "effective_cost", "period_start", "period_end")
ERROR_KEYS: tuple[str, ...] = ("collector", "account_id", "region", "message")
REJECTION_KEYS: tuple[str, ...] = ("frame", "reason", "rows")
FINDING_COLUMNS: tuple[str, ...] = tuple(RANKED)


def as_ranked(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with exactly the RANKED columns, in order and type, NaN and inf as null.

    A missing column is a bug in whatever built the report, so it raises rather than
    rendering a report with a silently empty column.
    """
    missing = [c for c in FINDING_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(f"ranked findings lack columns: {', '.join(missing)}")
    exprs = []
    for name, dtype in RANKED.items():
        column = pl.col(name).cast(dtype, strict=False)
        if dtype.is_float():
            # A reader cannot do arithmetic with NaN or inf, and JSON has neither.
            column = pl.when(column.is_finite()).then(column).otherwise(None)
        exprs.append(column.alias(name))
    return frame.select(exprs)


def parse_evidence(text: str | None) -> dict[str, Any]:
    """The evidence column as an object: ``{"raw": text}`` when it is not valid JSON."""
    if text is None:
        return {}
    try:
        value = json.loads(text, parse_constant=_non_finite_as_null)
    except ValueError:
        return {"raw": text}
    if isinstance(value, dict):
        return value
    return {"value": value}


def _non_finite_as_null(_constant: str) -> None:
    # json.loads accepts NaN and Infinity, which are not JSON; the report says null.
    return None


def finding_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """One dict per finding, RANKED key order, evidence parsed into an object."""
    records = as_ranked(frame).to_dicts()
    for record in records:
        record["evidence"] = clean(parse_evidence(record["evidence"]))
    return records


def clean(value: Any) -> Any:
    """``value`` made JSON-safe: non-finite floats to null, dates to ISO 8601 text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def _ordered(mapping: Mapping[str, Any], known: Sequence[str]) -> dict[str, Any]:
    """Known keys in contract order, then any others sorted: a stable file to diff."""
    out = {k: mapping[k] for k in known if k in mapping}
    out.update({k: mapping[k] for k in sorted(mapping, key=str) if k not in out})
    return out


def summary_document(summary: Mapping[str, Any]) -> dict[str, Any]:
    out = _ordered(summary, SUMMARY_KEYS)
    by_family = out.get("by_family")
    if isinstance(by_family, Mapping):
        families = _ordered(by_family, FAMILIES)
        out["by_family"] = {
            name: _ordered(figures, FAMILY_SUMMARY_KEYS)
            if isinstance(figures, Mapping)
            else figures
            for name, figures in families.items()
        }
    spend = out.get("spend")
    if isinstance(spend, Mapping):
        out["spend"] = _ordered(spend, SPEND_KEYS)
    return clean(out)


def run_document(report: Report) -> dict[str, Any]:
    return clean({name: getattr(report.run, name) for name in RUN_FIELDS})


def error_document(error: CollectorError) -> dict[str, Any]:
    return {name: getattr(error, name) for name in ERROR_KEYS}


def rejection_document(rejection: Mapping[str, Any] | object) -> dict[str, Any]:
    if dataclasses.is_dataclass(rejection) and not isinstance(rejection, type):
        rejection = dataclasses.asdict(rejection)
    if not isinstance(rejection, Mapping):
        raise SchemaError(f"a rejection must be a mapping, got {type(rejection).__name__}")
    return clean(_ordered(rejection, REJECTION_KEYS))


def report_document(report: Report) -> dict[str, Any]:
    """The whole JSON report as Python objects, in the key order the file has."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run": run_document(report),
        "summary": summary_document(report.summary),
        "findings": finding_records(report.findings),
        "bottlenecks": finding_records(report.bottlenecks),
        "errors": [error_document(e) for e in report.errors],
        "rejected_rows": [rejection_document(r) for r in report.rejections],
    }


def dump(document: Any) -> bytes:
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    # Evidence written by a policy may hold a lone surrogate ("\\ud800" in its JSON text);
    # it can only sit inside a JSON string, where backslashreplace writes the same escape.
    return text.encode("utf-8", "backslashreplace")


class JsonRenderer(Renderer):
    extension = "json"

    def render(self, report: Report) -> bytes:
        return dump(report_document(report))
