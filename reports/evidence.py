"""A finding's evidence as labelled figures a person reads: units, sensible rounding, words.

The evidence is the JSON a policy wrote (the figures its decision rests on). Its keys
carry their units by convention (``p99_percent``, ``hourly_usd``, ``size_gb``,
``stored_bytes``, ``retention_days``), so one set of rules formats every policy's
evidence without a table per policy: ``9.084616335535634`` under ``p99_percent`` reads
``9.1%``, ``205.85999999999999`` under ``monthly_usd`` reads ``$205.86/mo``,
``2199023255552.0`` under ``standard_bytes`` reads ``2 TiB``. Nested objects become
sections (``CPU``: ``p99 9.1%``). The formula and the price references are pulled out:
the report shows the formula above the figures and the sources under them.

Rounding never changes what a reader decides on: money keeps its cents (and four
significant digits under a dollar, for per-hour and per-GB prices), percentages keep a
decimal below 10%, and any other figure keeps three significant digits.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

DASH = "—"
# The section of a grouped finding's figures that are one member's.
EXAMPLE = "One member, for example"
# Keys whose text is a source (a URL, a dataset): listed under the figures, not among them.
_SOURCE_KEYS = ("reference", "price_reference", "discount_source", "source_url")
# Keys that hold a fraction 0..1 shown as a percentage.
_FRACTION_WORDS = (
    "utilization",
    "coverage",
    "share",
    "fraction",
    "discount",
    "confidence",
    "reduction",
    "fee",
    "percentile",
    "hit_rate",
)
_TOKEN_WORDS: dict[str, str] = {
    "cpu": "CPU",
    "gb": "GB",
    "gib": "GiB",
    "iops": "IOPS",
    "mbps": "MB/s",
    "id": "ID",
    "ri": "RI",
    "sp": "SP",
    "az": "AZ",
    "s3": "S3",
    "ia": "IA",
    "ip": "IP",
    "nat": "NAT",
    "cdn": "CDN",
    "https": "HTTPS",
    "vcpus": "vCPUs",
    "30d": "(30 days)",
    "gp2": "gp2",
    "gp3": "gp3",
    "io1": "io1",
    "io2": "io2",
    "p95": "p95",
    "p99": "p99",
    "10k": "10k",
}
# Unit words a label drops because the value now says them.
_UNIT_TOKENS = {"usd", "percent", "pct", "bytes"}
# Unit words a label drops at its end ("retention_days" reads "Retention: 30 days").
_TRAILING_UNITS = {"gb", "gib", "mbps", "days", "usd", "percent", "pct", "bytes", "per"}
_ISO_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Section:
    """A group of figures: a nested evidence object, or the top level (title "")."""

    title: str
    figures: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Figures:
    formula: str | None
    sections: list[Section]
    sources: list[str]

    def document(self) -> dict[str, Any]:
        return {
            "formula": self.formula,
            "sections": [[s.title, [list(f) for f in s.figures]] for s in self.sections],
            "sources": self.sources,
        }


@functools.lru_cache(maxsize=4096)
def label(key: str) -> str:
    """``p99_percent`` -> ``p99``; ``retention_days`` -> ``Retention``;
    ``gp3_price_gb_month`` -> ``gp3 price GB month``."""
    tokens = [t for t in str(key).split("_") if t]
    while len(tokens) > 1 and tokens[-1].lower() in _TRAILING_UNITS:
        tokens = tokens[:-1]
    kept = [t for t in tokens if t.lower() not in _UNIT_TOKENS] or tokens
    words = [_TOKEN_WORDS.get(t.lower(), t) for t in kept]
    text = " ".join(words)
    if text and text[0].islower() and not _keeps_case(words[0]):
        return text[:1].upper() + text[1:]
    return text


def _keeps_case(word: str) -> bool:
    # gp2, p99, vCPUs, io1 read wrong capitalised.
    return word in _TOKEN_WORDS.values() and word[:1].islower()


def _significant(value: float, digits: int = 3) -> str:
    """Three significant digits, thousands separated, no trailing zeros: 4.33, 1,234, 0.0225."""
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def money(value: float) -> str:
    """Cents from a dollar up; four significant digits under one ($0.0225, $0.2765)."""
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if amount == 0:
        return "$0"
    if amount < 1:
        return f"{sign}${_significant(amount, 4)}"
    return f"{sign}${amount:,.2f}"


def percent(value: float) -> str:
    """A value already in percent: 36%, 9.1%, 0.90%."""
    amount = abs(value)
    if amount >= 10 or amount == 0:
        return f"{value:,.0f}%"
    if amount >= 1:
        return f"{value:.1f}%"
    return f"{value:#.2g}%" if amount >= 0.01 else f"{value:.1g}%"


def byte_size(value: float) -> str:
    """Binary units, as the clouds bill them: 2 TiB, 6.38 MiB."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    amount = abs(value)
    index = 0
    while amount >= 1024 and index < len(units) - 1:
        amount /= 1024
        index += 1
    sign = "-" if value < 0 else ""
    return f"{sign}{_significant(amount)} {units[index]}"


def _money_suffix(key: str) -> str:
    k = key.lower()
    if "per_10k" in k:
        return " per 10,000 requests"
    if "per_1000" in k:
        return " per 1,000"
    if "gb_month" in k or "per_gb_month" in k:
        return "/GB-month"
    if "iops_month" in k:
        return "/IOPS-month"
    if "throughput_month" in k:
        return "/MB/s-month"
    if "per_gb" in k or k.endswith("_gb_price"):
        return "/GB"
    if "hourly" in k or "per_hour" in k or k == "hourly_price":
        return "/h"
    if "monthly" in k or k.endswith("_month") or "_monthly" in k:
        return "/mo"
    return ""


def _is_money(key: str) -> bool:
    k = key.lower()
    if any(w in k for w in ("hours_per_month", "weeks_per_month", "gb_per_month")):
        return False
    if "price" in k or "usd" in k or "cost" in k:
        return True
    if k.endswith(("_gb", "_bytes", "_percent", "_days", "_hours")):
        return False
    return any(
        w in k
        for w in (
            "saving",
            "proceeds",
            "upfront",
            "added",
            "unused_monthly",
            "recoverable_monthly",
            "uncovered",
            "_monthly",
            "increase",
            "spend",
        )
    )


def _is_fraction(key: str, value: float) -> bool:
    k = key.lower()
    return 0 <= value <= 1 and any(w in k for w in _FRACTION_WORDS) and not k.endswith("_usd")


def number(key: str, value: float, context: str = "") -> str:
    """A number under ``key`` (inside the object named ``context``), in the unit the key
    names, or failing that the unit its object names (``prices``: money)."""
    k = key.lower()
    if not math.isfinite(value):
        return DASH
    c = context.lower()
    if c and not any(w in k for w in ("price", "usd", "cost", "percent", "bytes", "days")):
        if "price" in c:
            return money(value) + _money_suffix(k)
        if c.endswith("_days"):
            return number(c, value)
    if k.endswith(("_percent", "_pct")) or k in ("percent", "pct"):
        return percent(value)
    if k.endswith("bytes_per_second"):
        return byte_size(value) + "/s"
    if "bytes" in k:
        return byte_size(value)
    if _is_fraction(k, value):
        return percent(value * 100)
    if _is_money(k):
        return money(value) + _money_suffix(k)
    if k.endswith("_gib") or k.endswith("gib"):
        return f"{_significant(value)} GiB"
    if k.endswith("gb_per_month"):
        return f"{_significant(value)} GB/month"
    if k.endswith("_gb") or k == "gb" or ("_gb_" in k and not k.endswith("month")):
        return f"{_significant(value)} GB"
    if k.endswith("_mbps"):
        return f"{_significant(value)} MB/s"
    if k == "iops" or k.endswith("_iops"):
        return f"{value:,.0f} IOPS"
    if "vcpus" in k:
        return f"{_significant(value)} vCPU"
    if k.endswith("_days") or k.startswith("days_") or k == "days":
        unit = "day" if value == 1 else "days"
        return f"{_significant(value)} {unit}"
    if k.endswith("hours") or k.startswith("hours_") or k == "hours":
        return f"{_significant(value)} h"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return _significant(value)


def _timestamp(text: str) -> str | None:
    match = _ISO_TIME.match(text.strip())
    if match:
        day, hour, minute = match.group(1), match.group(2), match.group(3)
        return day if (hour, minute) == ("00", "00") else f"{day} {hour}:{minute} UTC"
    return text if _ISO_DATE.match(text.strip()) else None


def value_text(key: str, value: Any, context: str = "") -> str:
    """Any evidence value as text: numbers in their unit, lists compact, yes and no."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return number(key, float(value), context)
    if isinstance(value, str):
        return _timestamp(value) or " ".join(value.split())
    if isinstance(value, Mapping):
        parts = [f"{label(k)} {value_text(k, v, key)}" for k, v in value.items()]
        return ", ".join(parts) if parts else DASH
    if isinstance(value, Sequence):
        items = list(value)
        if not items:
            return DASH
        if all(isinstance(i, Mapping) for i in items):
            return "; ".join(_pair_text(i, key) for i in items)
        singular = key.removesuffix("s") if key.endswith(("prices", "limits_gb")) else key
        return ", ".join(value_text(singular, i, context) for i in items)
    return str(value)


def _pair_text(item: Mapping[str, Any], context: str = "") -> str:
    """``{"key": "CustomerId", "distinct_values": 400}`` -> ``CustomerId: 400``."""
    values = list(item.items())
    if len(values) == 2 and isinstance(values[0][1], str):
        return f"{values[0][1]}: {value_text(values[1][0], values[1][1], context)}"
    return ", ".join(f"{label(k)} {value_text(k, v, context)}" for k, v in values)


def _is_source(key: str, value: Any) -> bool:
    k = key.lower()
    if not isinstance(value, str):
        return False
    return (
        k in _SOURCE_KEYS
        or k.endswith("_reference")
        or (
            "http" in value
            and k
            in (
                "source",
                "reference",
            )
        )
    )


def figures(evidence: Mapping[str, Any] | None) -> Figures:
    """The evidence as a formula, sections of labelled figures and a list of sources."""
    if not evidence:
        return Figures(None, [], [])
    formula: str | None = None
    top = Section("")
    sections: list[Section] = [top]
    sources: list[str] = []

    def walk(
        mapping: Mapping[str, Any], section: Section, prefix: str, context: str, heading: str
    ) -> None:
        for key, value in mapping.items():
            name = str(key)
            if _is_source(name, value):
                if value not in sources:
                    sources.append(" ".join(str(value).split()))
                continue
            if isinstance(value, Mapping) and value:
                if not prefix and (section is top or section.title == heading):
                    title = f"{heading} · {label(name)}" if heading else label(name)
                    child = Section(title)
                    sections.append(child)
                    walk(value, child, "", name, title)
                else:
                    walk(value, section, f"{prefix}{label(name)} ", name, heading)
                continue
            section.figures.append((prefix + label(name), value_text(name, value, context)))

    body = dict(evidence)
    raw_formula = body.pop("formula", None)
    if isinstance(raw_formula, str):
        formula = " ".join(raw_formula.split())
    grouped = body.pop("grouped", None)
    example = body.pop("example", None) if isinstance(grouped, Mapping) else None
    if isinstance(grouped, Mapping):
        top.figures.append(("Members", value_text("members", grouped.get("members"))))
        if isinstance(grouped.get("effort_formula"), str):
            top.figures.append(("Effort", " ".join(str(grouped["effort_formula"]).split())))
    walk(body, top, "", "", "")
    if isinstance(example, Mapping):
        example_formula = example.get("formula")
        if formula is None and isinstance(example_formula, str):
            formula = " ".join(example_formula.split())
        first = Section(EXAMPLE)
        sections.append(first)
        walk({k: v for k, v in example.items() if k != "formula"}, first, "", "", EXAMPLE)
    return Figures(formula, [s for s in sections if s.figures], sources)


def _lookups(evidence: Mapping[str, Any] | None, paths: Sequence[str]) -> list[Any]:
    """The values at each dotted path, in the evidence then its grouped example."""
    if not evidence:
        return []
    roots: list[Mapping[str, Any]] = [evidence]
    example = evidence.get("example")
    if isinstance(example, Mapping):
        roots.append(example)
    found = []
    for path in paths:
        for root in roots:
            value: Any = root
            for part in path.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            found.append(value)
    return found


def find_number(evidence: Mapping[str, Any] | None, *paths: str) -> float | None:
    """The first of ``paths`` (dotted, looked up in the evidence or its grouped example)
    that holds a finite number."""
    for value in _lookups(evidence, paths):
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if is_number and math.isfinite(value):
            return float(value)
    return None


def find_text(evidence: Mapping[str, Any] | None, *paths: str) -> str | None:
    """Like ``find_number``, for a text figure (an instance type)."""
    for value in _lookups(evidence, paths):
        if isinstance(value, str) and value:
            return value
    return None


# The columns a spreadsheet sorts by, and where in any policy's evidence (or a grouped
# finding's example member's) each is found, first match winning.
SORT_PATHS: dict[str, tuple[str, ...]] = {
    "current_type": (
        "current.instance_type",
        "price.instance_type",
        "on_demand.instance_type",
        "commitment.instance_type",
        "volume_type",
        "storage_class",
        "log_class",
    ),
    "target_type": ("candidate.instance_type", "next_size.instance_type", "chosen_target"),
    "size_gb": ("size_gb",),
    "cpu_p99_percent": ("cpu.p99_percent",),
}
SORT_COLUMNS: tuple[str, ...] = tuple(SORT_PATHS)
_NUMERIC_SORT_COLUMNS = {"size_gb", "cpu_p99_percent"}
# A policy named ``x-to-y`` (``storage.gp2-to-gp3``) moves from type x to type y.
_MOVE = r"\.([a-z0-9]+)-to-([a-z0-9]+)$"


def sort_column_exprs(evidence: pl.Expr, policy_id: pl.Expr) -> list[pl.Expr]:
    """The sort columns of every row at once, read from the evidence's JSON text."""
    out = []
    for name, paths in SORT_PATHS.items():
        candidates = [
            evidence.str.json_path_match(f"$.{root}{path}")
            for path in paths
            for root in ("", "example.")
        ]
        if name == "current_type":
            candidates.append(policy_id.str.extract(_MOVE, 1))
        elif name == "target_type":
            candidates.append(policy_id.str.extract(_MOVE, 2))
        column = pl.coalesce(candidates)
        if name in _NUMERIC_SORT_COLUMNS:
            column = column.cast(pl.Float64, strict=False)
        out.append(column.alias(name))
    return out


def sort_columns(policy_id: str | None, evidence: Mapping[str, Any] | None) -> dict[str, Any]:
    """The sort columns of one finding (its evidence as an object)."""
    import json

    frame = pl.DataFrame(
        {"policy_id": [policy_id], "evidence": [json.dumps(evidence or {})]},
        schema={"policy_id": pl.String(), "evidence": pl.String()},
    )
    return frame.select(sort_column_exprs(pl.col("evidence"), pl.col("policy_id"))).row(
        0, named=True
    )


def cpu_lines(evidence: Mapping[str, Any] | None) -> dict[str, float | None]:
    """The thresholds a compute finding's evidence names, for its chart."""
    return {
        "p99": find_number(evidence, "cpu.p99_percent"),
        "target": find_number(evidence, "thresholds.target_cpu_p99_percent"),
        "alert": find_number(evidence, "thresholds.alert_cpu_p95_percent"),
    }
