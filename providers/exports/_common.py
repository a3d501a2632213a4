"""Expression helpers shared by the export mappings: parse text, build JSON tags, pick columns.

Every helper returns a polars expression, so a mapping is a list of expressions that polars
runs lazily (and in the streaming engine) over the raw scan; nothing here touches data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from costscan.scanner.contracts import schema

# The raw file's columns and their types, as the scan reports them.
RawSchema = Mapping[str, pl.DataType]

UTC_TS = schema.UTC_TS

# Timestamp layouts seen in billing exports, tried in order after normalising the text
# ("T" between date and time becomes a space, and a trailing "Z" or " UTC" is dropped):
# FOCUS and CUR write ISO 8601 ("2024-09-01T00:00:00Z"), the FOCUS sample writes
# "2024-09-01 00:00:00", GCP's CSV writes "2024-09-01 00:00:00 UTC", Azure writes
# "09/01/2024" (EA) or "2024-09-01" (MCA), OCI writes "2024-09-01T00:00Z". A file saved
# from a spreadsheet writes US dates with a two-digit year ("4/1/25"): "%m/%d/%Y" reads
# that as the year 25, which the plausible range below turns down, so the "%y" layouts
# after it read it as 2025. Dates with dots ("01.09.2024") are day first, as German and
# other European locales write them; slashes stay month first, as Azure's EA files do.
_TS_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%y",
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M:%S",
)

# A charge outside these years is a misread date (a two-digit year taken as the year 25),
# never a charge: public clouds began billing in 2006. Such a cell counts as unreadable.
PLAUSIBLE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
PLAUSIBLE_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)
PLAUSIBLE_YEARS = f"{PLAUSIBLE_FROM.year} to {PLAUSIBLE_UNTIL.year - 1}"


@dataclass(frozen=True)
class Mapped:
    """How one raw file becomes FOCUS: an expression per BILLING column it can fill.

    ``numeric_sources`` and ``timestamp_sources`` name the raw columns whose text must parse;
    the reader counts the cells that do not (and rejects those rows, or the file when more
    than a stray few fail). ``cell_checks`` are other cells a row cannot be used without
    (GCP's credits): raw column -> (true where the cell is unreadable, what it should be);
    those rows are rejected one by one, never the whole file.
    """

    exprs: dict[str, pl.Expr]
    numeric_sources: tuple[str, ...] = ()
    timestamp_sources: tuple[str, ...] = ()
    version: str = ""
    notes: list[str] = field(default_factory=list)
    cell_checks: dict[str, tuple[pl.Expr, str]] = field(default_factory=dict)


def is_text(dtype: pl.DataType) -> bool:
    return dtype == pl.String()


def text(expr: pl.Expr) -> pl.Expr:
    """A string column with empty cells as null: CSV exports write both for "no value"."""
    as_text = expr.cast(pl.String)
    return pl.when(as_text.str.len_bytes() > 0).then(as_text)


def number(expr: pl.Expr, dtype: pl.DataType | None) -> pl.Expr:
    """A Float64 from a numeric column, or from text (where a cell that does not parse is null
    and is counted by the reader, never silently lost)."""
    if dtype == pl.Float64():
        return expr
    if dtype is not None and dtype.is_numeric():
        return expr.cast(pl.Float64)
    return expr.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)


# The layouts ``timestamp`` tries without a sample: "offset" is ISO 8601 with an explicit
# UTC offset, the rest are _TS_FORMATS, each after normalising the text.
DEFAULT_LAYOUTS: tuple[str, ...] = ("offset", *_TS_FORMATS)
# The same shapes as exports write them, parsed from the text as it is: no normalising
# (two regular-expression passes over every cell), so a file whose sample fits these is
# read faster. Each is "direct:" and a strptime format.
_DIRECT_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f UTC",
    "%Y-%m-%dT%H:%M:%S%.f",
)
DIRECT_LAYOUTS: tuple[str, ...] = tuple(f"direct:{fmt}" for fmt in _DIRECT_FORMATS)
TS_LAYOUTS: tuple[str, ...] = (*DIRECT_LAYOUTS, *DEFAULT_LAYOUTS)


def timestamp(
    expr: pl.Expr, dtype: pl.DataType | None, layouts: Sequence[str] | None = None
) -> pl.Expr:
    """A UTC timestamp from a datetime, a date, or text in any of the export layouts.

    Text is tried in every layout of ``TS_LAYOUTS`` (polars parses each one over every
    row), or only in ``layouts`` when the reader has sampled the file and knows which of
    them it uses (``layouts_of``).
    """
    if dtype == UTC_TS:
        return expr
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return expr.dt.cast_time_unit("us").dt.replace_time_zone("UTC")
        return expr.dt.cast_time_unit("us").dt.convert_time_zone("UTC")
    if isinstance(dtype, pl.Date):
        return expr.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    text = expr.cast(pl.String)
    raw = text.str.strip_chars()
    spaced = raw.str.replace(r"(\d)T(\d)", "${1} ${2}")
    # An explicit offset ("+02:00") is honoured; "Z" and " UTC" mean UTC.
    bare = spaced.str.replace(r"(Z| UTC)$", "")
    attempts: list[pl.Expr] = []
    for layout in layouts if layouts else DEFAULT_LAYOUTS:
        if layout.startswith("direct:"):
            attempts.append(
                text.str.to_datetime(
                    layout.removeprefix("direct:"), time_unit="us", time_zone="UTC", strict=False
                )
            )
        elif layout == "offset":
            attempts.append(
                spaced.str.to_datetime(
                    "%Y-%m-%d %H:%M:%S%.f%:z", time_unit="us", time_zone="UTC", strict=False
                )
            )
        else:
            attempts.append(
                bare.str.to_datetime(layout, time_unit="us", time_zone="UTC", strict=False)
            )
    # Out of range is unread, so the next layout gets its turn ("4/1/25": the year 25 under
    # "%m/%d/%Y", 2025 under "%m/%d/%y").
    plausible = [
        pl.when(parsed.is_between(PLAUSIBLE_FROM, PLAUSIBLE_UNTIL, closed="left")).then(parsed)
        for parsed in attempts
    ]
    return plausible[0] if len(plausible) == 1 else pl.coalesce(plausible)


def layouts_of(sample: pl.Series) -> tuple[str, ...] | None:
    """The fewest layouts that parse every value of ``sample`` any layout parses: direct
    ones when they suffice, else those of ``DEFAULT_LAYOUTS`` (in its order); None when
    nothing parses a value (so every layout stays, and the reader reports the cells)."""
    if sample.is_empty():
        return None  # a header-only file: nothing to learn, and nothing to parse
    frame = sample.cast(pl.String).to_frame("value")
    parsed = frame.select(
        timestamp(pl.col("value"), pl.String(), [layout]).is_not_null().alias(layout)
        for layout in TS_LAYOUTS
    )
    parseable = parsed.select(pl.any_horizontal(pl.all())).to_series()
    for candidates in (DIRECT_LAYOUTS, DEFAULT_LAYOUTS):
        needed: list[str] = []
        covered = pl.Series([False] * frame.height, dtype=pl.Boolean)
        for layout in candidates:
            if (parsed[layout] & ~covered).any():
                needed.append(layout)
                covered = covered | parsed[layout]
        if needed and (covered | ~parseable).all():
            return tuple(needed)
    return None


def json_string(expr: pl.Expr) -> pl.Expr:
    """``expr`` as a JSON string literal (quoted and escaped); null stays null."""
    encoded = pl.struct(expr.cast(pl.String).alias("v")).struct.json_encode()
    return pl.when(expr.is_not_null()).then(encoded.str.strip_prefix('{"v":').str.strip_suffix("}"))


def tags_from_columns(columns: Mapping[str, str]) -> pl.Expr:
    """A JSON object text from one column per tag (``{tag key: raw column}``); null when the
    row has no tag value at all, so "untagged" is a null check."""
    pairs = [
        pl.when(text(pl.col(raw)).is_not_null()).then(
            pl.lit(json.dumps(key) + ":") + json_string(pl.col(raw))
        )
        for key, raw in columns.items()
    ]
    if not pairs:
        return pl.lit(None, dtype=pl.String)
    body = pl.concat_str(pairs, separator=",", ignore_nulls=True)
    return pl.when(body.str.len_bytes() > 0).then(pl.lit("{") + body + pl.lit("}"))


def tags_from_key_values(expr: pl.Expr) -> pl.Expr:
    """A JSON object text from a list of ``{key, value}`` structs (parquet maps, GCP labels)."""
    element = pl.element()
    pairs = expr.list.eval(
        element.filter(element.struct.field("key").is_not_null()).pipe(
            lambda kept: pl.concat_str(
                [
                    json_string(kept.struct.field("key")),
                    pl.lit(":"),
                    pl.coalesce(json_string(kept.struct.field("value")), pl.lit("null")),
                ]
            )
        )
    )
    body = pairs.list.join(",")
    return pl.when(body.str.len_bytes() > 0).then(pl.lit("{") + body + pl.lit("}"))


def key_values(expr: pl.Expr, dtype: pl.DataType | None) -> tuple[pl.Expr, pl.DataType | None]:
    """A Parquet map column as the list of ``{key, value}`` structs the mappings read.

    polars 2 reads a Parquet MAP (CUR 2.0's ``resource_tags`` and ``product``, as AWS's data
    export writes them) as a ``Map``; older files and polars' own writes hold the list.
    """
    if isinstance(dtype, pl.Map):
        entries = pl.List(pl.Struct({"key": dtype.key, "value": dtype.value}))
        return expr.map.entries(), entries
    return expr, dtype


def tags_json(expr: pl.Expr, dtype: pl.DataType | None) -> pl.Expr:
    """Tags as JSON object text, whatever the file holds: JSON text, a map, or a struct."""
    if dtype is None or dtype == pl.Null():
        return pl.lit(None, dtype=pl.String)
    expr, dtype = key_values(expr, dtype)
    if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
        return tags_from_key_values(expr)
    if isinstance(dtype, pl.List):
        # A list with no element type: JSON lines where every row holds "labels": [].
        return pl.lit(None, dtype=pl.String)
    if isinstance(dtype, pl.Struct):
        encoded = expr.struct.json_encode()
        return pl.when(encoded != "{}").then(encoded)
    as_text = text(expr)
    # Azure's older exports write the object without its braces: "env": "prod","team": "x".
    return (
        pl.when(as_text.str.starts_with("{") | as_text.str.starts_with("["))
        .then(as_text)
        .otherwise(pl.lit("{") + as_text + pl.lit("}"))
    )


def first_present(columns: Iterable[str], candidates: Sequence[str]) -> str | None:
    """The first candidate name that the file has."""
    present = set(columns)
    for name in candidates:
        if name in present:
            return name
    return None


def lookup(values: Mapping[str, str], expr: pl.Expr, default: str | None = None) -> pl.Expr:
    """Map text through a small table (case-insensitive keys), ``default`` when unmatched."""
    lowered = expr.cast(pl.String).str.to_lowercase()
    table = {k.lower(): v for k, v in values.items()}
    return lowered.replace_strict(
        list(table), list(table.values()), default=default, return_dtype=pl.String
    )


def currency(expr: pl.Expr, textual: bool) -> pl.Expr:
    """BillingCurrency as an ISO 4217 code; an empty cell is USD, as AWS and Google leave
    it on their USD accounts' tax and credit lines (text files are trimmed and upper-cased;
    typed files hold the code as the export wrote it)."""
    if textual:
        code = expr.cast(pl.String).str.strip_chars().str.to_uppercase()
        return pl.coalesce(text(code), pl.lit("USD"))
    return pl.coalesce(expr.cast(pl.String), pl.lit("USD"))


NO_CURRENCY_NOTE = "no billing currency column: its costs are taken as USD"
