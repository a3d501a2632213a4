"""The JSON report: the machine contract (DESIGN.md "Report files").

Every other format shows the same numbers, so the pieces that shape a finding for a reader
(``as_ranked``, ``parse_evidence``, ``finding_records``) live here and the HTML report
embeds the same records its tables are drawn from.

``report_document`` gives the report as Python objects; ``JsonRenderer`` writes the very
same bytes ``dump(report_document(report))`` would, but encodes the finding lists column
by column (``encode_rows``): ``json.dumps`` with ``indent`` runs its pure-Python encoder,
which took seconds for 50,000 findings.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from json.encoder import encode_basestring
from typing import Any

import polars as pl

from costscan.reports.interface import Renderer, Report
from costscan.reports.text import json_escape_controls
from costscan.scanner.contracts.errors import CollectorError, SchemaError
from costscan.scanner.contracts.schema import FAMILIES, RANKED, RESOLVED_KEYS, SUPPRESSED, Schema

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
    "monthly_savings_before_discounts",
    "cost_avoidance",
    "commitment_waste",
    "possible_monthly_savings",
    "deferred_monthly_savings",
    "investments_monthly_cost",
    "confidence_floor",
    "by_family",
    "spend",
    "bottlenecks",
    "bottleneck_monthly_cost",
    "hidden_below_min_savings",
    "min_savings",
    "suppressed",
    "suppressed_monthly_savings",
    "by_currency",
)
FAMILY_SUMMARY_KEYS: tuple[str, ...] = ("findings", "monthly_savings")
SPEND_KEYS: tuple[str, ...] = (
    "billed_cost",
    "effective_cost",
    "period_start",
    "period_end",
    "top_resources",
    # After the original keys: the spend's currency, the spend in every currency the
    # files bill in, the --fx rates used, and every billing row and file accounted for.
    "currency",
    "by_currency",
    "fx",
    "rows",
    "files",
    "skipped_files",
    # With a push-down --billing URI: the engine, its queries, bytes scanned and cost.
    "pushdown",
)
TOP_RESOURCE_KEYS: tuple[str, ...] = ("resource_id", "service", "billed_cost")
HISTORY_KEYS: tuple[str, ...] = (
    "previous_started_at",
    "new_findings",
    "new_monthly_savings",
    "still_open",
    "resolved",
    "realized_monthly_savings",
    "not_seen",
    "not_seen_monthly_savings",
    "scope",
)
ERROR_KEYS: tuple[str, ...] = (
    "collector",
    "account_id",
    "region",
    "message",
    "measures",
    "affects",
    "frames",
    "resource_types",
    "resources",
)
REJECTION_KEYS: tuple[str, ...] = ("frame", "reason", "rows")
FINDING_COLUMNS: tuple[str, ...] = tuple(RANKED)
SUPPRESS_COLUMNS: tuple[str, ...] = tuple(c for c in SUPPRESSED if c not in RANKED)
SUPPRESSED_COLUMNS: tuple[str, ...] = tuple(SUPPRESSED)


def _conformed(frame: pl.DataFrame, schema: Schema, what: str) -> pl.DataFrame:
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise SchemaError(f"{what} lack columns: {', '.join(missing)}")
    exprs = []
    for name, dtype in schema.items():
        column = pl.col(name).cast(dtype)
        if dtype.is_float():
            # A reader cannot do arithmetic with NaN or inf, and JSON has neither.
            column = pl.when(column.is_finite()).then(column).otherwise(None)
        exprs.append(column.alias(name))
    return frame.select(exprs)


def as_ranked(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with exactly the RANKED columns, in order and type, NaN and inf as null.

    A missing column is a bug in whatever built the report, so it raises rather than
    rendering a report with a silently empty column.
    """
    return _conformed(frame, RANKED, "ranked findings")


def as_suppressed(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with exactly the SUPPRESSED columns (RANKED, then the suppress_* ones)."""
    return _conformed(frame, SUPPRESSED, "suppressed findings")


def parse_evidence(text: str | None) -> dict[str, Any]:
    """The evidence column as an object: ``{"raw": text}`` when it is not valid JSON."""
    if text is None:
        return {}
    try:
        value = _EVIDENCE_DECODER.decode(text)
    except ValueError:
        return {"raw": text}
    if isinstance(value, dict):
        return value
    return {"value": value}


def _non_finite_as_null(_constant: str) -> None:
    # json.loads accepts NaN and Infinity, which are not JSON; the report says null.
    return None


# One decoder for every row: json.loads with keyword arguments builds a new one per call.
_EVIDENCE_DECODER = json.JSONDecoder(parse_constant=_non_finite_as_null)


def parse_members(text: str | None) -> list[Any] | None:
    """A grouped finding's members (JSON list text) as a list; None when not grouped."""
    if text is None:
        return None
    try:
        value = _EVIDENCE_DECODER.decode(text)
    except ValueError:
        return [text]
    return value if isinstance(value, list) else [value]


def _readable(record: dict[str, Any]) -> dict[str, Any]:
    record["evidence"] = clean(parse_evidence(record["evidence"]))
    record["members"] = clean(parse_members(record["members"]))
    record["savings_start"] = clean(record["savings_start"])
    return record


def finding_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """One dict per finding, RANKED key order, evidence and members parsed."""
    return [_readable(record) for record in as_ranked(frame).to_dicts()]


def suppressed_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """One dict per suppressed finding: the finding's keys, then the suppress_* keys."""
    records = [_readable(record) for record in as_suppressed(frame).to_dicts()]
    for record in records:
        record["suppress_expires"] = clean(record["suppress_expires"])
    return records


def clean_document(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping made JSON-safe, as ``clean`` does to any value."""
    return {str(k): clean(v) for k, v in mapping.items()}


def clean(value: Any) -> Any:
    """``value`` made JSON-safe: non-finite floats to null, dates to ISO 8601 text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
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
        top = out["spend"].get("top_resources")
        if isinstance(top, Sequence) and not isinstance(top, str):
            out["spend"]["top_resources"] = [
                _ordered(item, TOP_RESOURCE_KEYS) if isinstance(item, Mapping) else item
                for item in top
            ]
    return clean_document(out)


def history_document(history: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The week-over-week changes in contract key order; None without --history."""
    if history is None:
        return None
    out = _ordered(history, HISTORY_KEYS)
    resolved = out.get("resolved")
    if isinstance(resolved, Sequence) and not isinstance(resolved, str):
        out["resolved"] = [
            _ordered(item, RESOLVED_KEYS) if isinstance(item, Mapping) else item
            for item in resolved
        ]
    return clean_document(out)


def run_document(report: Report) -> dict[str, Any]:
    return clean_document({name: getattr(report.run, name) for name in RUN_FIELDS})


def error_document(error: CollectorError) -> dict[str, Any]:
    out = {name: getattr(error, name) for name in ERROR_KEYS}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def error_of(document: Mapping[str, Any]) -> CollectorError:
    """A CollectorError back from its document (a report read again)."""
    known = {f.name for f in dataclasses.fields(CollectorError)}
    values = {k: v for k, v in document.items() if k in known}
    for name in ("frames", "resource_types", "resources"):
        if name in values:
            values[name] = tuple(str(v) for v in values[name] or ())
    return CollectorError(**values)


def rejection_document(rejection: Mapping[str, Any] | object) -> dict[str, Any]:
    if dataclasses.is_dataclass(rejection) and not isinstance(rejection, type):
        rejection = dataclasses.asdict(rejection)
    if not isinstance(rejection, Mapping):
        raise SchemaError(f"a rejection must be a mapping, got {type(rejection).__name__}")
    return clean_document(_ordered(rejection, REJECTION_KEYS))


def report_document(report: Report) -> dict[str, Any]:
    """The whole JSON report as Python objects, in the key order the file has."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run": run_document(report),
        "summary": summary_document(report.summary),
        "findings": finding_records(report.findings),
        "bottlenecks": finding_records(report.bottlenecks),
        "suppressed": suppressed_records(report.suppressed),
        "errors": [error_document(e) for e in report.errors],
        "rejected_rows": [rejection_document(r) for r in report.rejections],
        "history": history_document(report.history),
        "warnings": [str(w) for w in report.warnings],
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)


def dump(document: Any) -> bytes:
    text = _dumps(document) + "\n"
    # Evidence written by a policy may hold a lone surrogate ("\\ud800" in its JSON text);
    # it can only sit inside a JSON string, where backslashreplace writes the same escape.
    return text.encode("utf-8", "backslashreplace")


def _scalar_json(value: Any) -> str | None:
    """``value`` as json.dumps writes it when it is a scalar; None for a list or object."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value) if math.isfinite(value) else "null"
    return None


def _evidence_json(text: str | None, indent: str) -> str:
    """A finding's evidence object as ``json.dumps(indent=2)`` writes it at ``indent``."""
    evidence = parse_evidence(text)
    if not evidence:
        return "{}"
    inner = indent + "  "
    members = []
    for key, value in evidence.items():
        encoded = _scalar_json(value)  # writes a non-finite float as null, as clean() does
        if encoded is None:  # nested: rare, so the stdlib encoder is fast enough here
            encoded = _dumps(clean(value)).replace("\n", "\n" + inner)
        members.append(f"{inner}{encode_basestring(str(key))}: {encoded}")
    return "{\n" + ",\n".join(members) + "\n" + indent + "}"


# Where polars writes a float exactly as Python's repr (checked against a million values):
# outside it the two differ in when they switch to an exponent, so Python writes those.
_PLAIN_FLOAT_MIN = 1e-4
_PLAIN_FLOAT_MAX = 1e16
# Characters json.dumps escapes inside a string when ensure_ascii is off.
_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'


def _with_python_fallback(
    encoded: pl.Series, series: pl.Series, encode: Callable[[Any], str]
) -> pl.Series:
    """``encoded`` with its null cells filled by ``encode`` of the original value."""
    missing = encoded.is_null()
    if not missing.any():
        return encoded
    positions = missing.arg_true()
    values = [encode(v) for v in series.gather(positions).to_list()]
    return encoded.scatter(positions, pl.Series(values, dtype=pl.String))


def _column_json(name: str, series: pl.Series, indent: str) -> pl.Series:
    """Each cell of ``series`` as the JSON text json.dumps writes for it, as a String series.

    polars encodes the common cells itself; the rare ones (a string with a quote or a
    control character, a float in exponent form) go through Python's own encoder.
    """
    dtype = series.dtype
    column = pl.col(name)
    if name == "evidence":
        # Evidence often repeats (the same figures on many resources): encode each once.
        cache: dict[str | None, str] = {}
        out = []
        for text in series.to_list():
            encoded = cache.get(text)
            if encoded is None:
                encoded = cache[text] = _evidence_json(text, indent)
            out.append(encoded)
        return pl.Series(name, out, dtype=pl.String)
    if name == "members":
        return pl.Series(
            name,
            [
                "null"
                if text is None
                else _dumps(clean(parse_members(text))).replace("\n", "\n" + indent)
                for text in series.to_list()
            ],
            dtype=pl.String,
        )
    expr: pl.Expr
    if dtype == pl.String:
        expr = (
            pl.when(column.is_null())
            .then(pl.lit("null"))
            .when(~column.str.contains(_NEEDS_ESCAPE))
            .then(pl.lit('"') + column + pl.lit('"'))
        )
        fallback: Callable[[Any], str] = encode_basestring
    elif dtype == pl.Boolean:
        expr = (
            pl.when(column.is_null())
            .then(pl.lit("null"))
            .otherwise(pl.when(column).then(pl.lit("true")).otherwise(pl.lit("false")))
        )
        fallback = _dumps
    elif dtype.is_float():
        size = column.abs()
        expr = (
            pl.when(column.is_null())
            .then(pl.lit("null"))
            .when((size == 0) | ((size >= _PLAIN_FLOAT_MIN) & (size < _PLAIN_FLOAT_MAX)))
            .then(column.cast(pl.String))
        )
        fallback = float.__repr__
    elif dtype.is_integer():
        expr = pl.when(column.is_null()).then(pl.lit("null")).otherwise(column.cast(pl.String))
        fallback = int.__repr__
    else:
        return pl.Series(
            name,
            [_dumps(clean(v)).replace("\n", "\n" + indent) for v in series.to_list()],
            dtype=pl.String,
        )
    written = series.to_frame().select(expr.alias(name)).to_series()
    return _with_python_fallback(written, series, fallback)


def encode_rows(frame: pl.DataFrame, indent: str) -> str:
    """``frame``'s rows as the JSON list ``json.dumps(records, indent=2)`` writes when the
    list sits at ``indent``: each column encoded in one pass, the rows assembled by polars.
    """
    if frame.height == 0:
        return "[]"
    item_indent = indent + "  "
    key_indent = item_indent + "  "
    encoded = pl.DataFrame([_column_json(name, frame[name], key_indent) for name in frame.columns])
    pieces: list[pl.Expr] = [pl.lit(item_indent + "{\n")]
    for position, name in enumerate(frame.columns):
        separator = "" if position == 0 else ",\n"
        pieces += [pl.lit(f"{separator}{key_indent}{encode_basestring(name)}: "), pl.col(name)]
    pieces.append(pl.lit("\n" + item_indent + "}"))
    rows = encoded.select(pl.concat_str(pieces).alias("row")).to_series().to_list()
    return "[\n" + ",\n".join(rows) + "\n" + indent + "]"


def render_json(report: Report) -> bytes:
    """The same bytes as ``dump(report_document(report))``, written much faster."""
    indent = "  "

    def nested(value: Any) -> str:
        return _dumps(value).replace("\n", "\n" + indent)

    members = {
        "schema_version": nested(SCHEMA_VERSION),
        "run": nested(run_document(report)),
        "summary": nested(summary_document(report.summary)),
        "findings": encode_rows(as_ranked(report.findings), indent),
        "bottlenecks": encode_rows(as_ranked(report.bottlenecks), indent),
        "suppressed": encode_rows(as_suppressed(report.suppressed), indent),
        "errors": nested([error_document(e) for e in report.errors]),
        "rejected_rows": nested([rejection_document(r) for r in report.rejections]),
        "history": nested(history_document(report.history)),
        "warnings": nested([str(w) for w in report.warnings]),
    }
    body = ",\n".join(f"{indent}{encode_basestring(k)}: {v}" for k, v in members.items())
    text = "{\n" + body + "\n}\n"
    # Bidi controls stay in the data but are written as \u escapes (reports/text.py).
    return json_escape_controls(text).encode("utf-8", "backslashreplace")


class JsonRenderer(Renderer):
    extension = "json"

    def render(self, report: Report) -> bytes:
        return render_json(report)
