"""The billing rollup as SQL, defined once and run where the export lives (issue 18).

``billing_rollup.build`` reduces line items to ``BillingRollup`` with polars. This module
defines the same figures once, in DuckDB's SQL dialect, over a CTE of one export's line
items (``ExportShape.line_items`` with its ``period_filter``), and sqlglot renders them for
each engine (``read="duckdb"``, ``write=engine.dialect``): Athena (Trino), BigQuery and
DuckDB run the same definition, never three hand-kept copies. Four queries, each a small
result:

- ``daily``: per key tuple (``schema.BILLING_ROLLUP_KEYS``) and UTC day of
  ChargePeriodStart, the sums (cost = EffectiveCost else BilledCost, effective, billed,
  quantity = ConsumedQuantity else PricingQuantity), the line items, the first start, the
  last end, the longest charge period (in milliseconds: Trino's finest ``date_diff``
  unit, and charge periods are whole hours), and the hour mask (bit h for a start on the
  hour h; ``BIT_OR`` is Trino's ``BITWISE_OR_AGG``, ``<<`` its ``BITWISE_LEFT_SHIFT``);
- ``irregular``: the distinct starts the mask cannot hold (null, or not on the hour) per
  key tuple;
- ``commitments``: per CommitmentDiscountId and status, the effective cost, the line
  items, the first start and last end, and the descriptive columns;
- ``spend``: per BillingCurrency as billed (before any --fx rate), billed and effective
  cost, line items, first start, last end and last start.

The --fx rates convert in the SQL, line item by line item before any sum, as the local path
does (money x rate, currency USD). What an engine cannot do the same way is done in polars
on the small results, so policies cannot tell the engines apart: ``group_key`` (the 64-bit
fingerprint of ``billing_rollup.group_key``), ``day_index`` and ``day``, and
``charge_order``.

Where the push-down differs from the local rollup, by construction:

- ``charge_order`` ranks a daily row by first start, then by its key strings (an engine
  has no file order); the local path breaks those ties by the position of the row's
  first line item. Only ties at the same first start differ, e.g. one resource with two
  names billed in the same hour;
- a commitment's descriptive columns are the least non-null value per commitment and
  status (the local path: the first in file order); a commitment's type, category,
  account, region and currency are one value per commitment in every export we know;
- sums run in the engine's order: the last bits of a float may differ (far below a cent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

import polars as pl
import sqlglot
from sqlglot import exp

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.billing import BASE_CURRENCY, DAY_US, BillingRollup
from costscan.scanner.contracts.billing_query import EXPORT_TABLE, ExportShape, QueryEngine
from costscan.scanner.contracts.errors import InputFileError, UsageError
from costscan.scanner.pipeline import billing_rollup
from costscan.scanner.pipeline.billing_shapes import shape_of, shapes

log = logging.getLogger("costscan")

KEYS: Final = schema.BILLING_ROLLUP_KEYS
CANONICAL_DIALECT: Final = "duckdb"
# The engines' on-demand prices are per TiB; budgets and the report speak in GB (10^9).
TIB: Final = 1 << 40
GB: Final = 1_000_000_000
QUERIES: Final = ("daily", "irregular", "commitments", "spend")

# The line items of the billing period (the shape's SELECT with its period filter), and
# the same with the --fx rates applied: the two CTEs every query reads.
_LINE_ITEMS: Final = "line_items"
_CONVERTED: Final = "converted"
# What the converted line items carry: the keys, and what the sums read.
_CONVERTED_COLUMNS: Final = (
    *KEYS,
    "BilledCost",
    "EffectiveCost",
    "ConsumedQuantity",
    "PricingQuantity",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "CommitmentDiscountId",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountCategory",
)
_CONVERTED_MONEY: Final = ("BilledCost", "EffectiveCost")
_COMMITMENT_DESCRIPTIONS: Final = (
    "CommitmentDiscountType",
    "CommitmentDiscountCategory",
    "ProviderName",
    "SubAccountId",
    "BillingAccountId",
    "RegionId",
    "BillingCurrency",
)


def _q(name: str) -> str:
    """``name`` as a quoted DuckDB identifier."""
    return exp.to_identifier(name, quoted=True).sql(dialect=CANONICAL_DIALECT)


def _literal(value: str) -> str:
    return exp.Literal.string(value).sql(dialect=CANONICAL_DIALECT)


def _keys() -> str:
    return ", ".join(_q(key) for key in KEYS)


def _line_items_sql(
    shape: ExportShape,
    columns: Mapping[str, str],
    start: date,
    end: date,
    partitions: tuple[str, ...],
) -> str:
    """The shape's SELECT over the export with the billing period's filter added."""
    select = sqlglot.parse_one(shape.line_items(columns), read=CANONICAL_DIALECT)
    if not isinstance(select, exp.Select):
        raise TypeError(f"billing shape {shape.name}: line_items must be one SELECT")
    condition = sqlglot.parse_one(
        shape.period_filter(start, end, partitions), read=CANONICAL_DIALECT
    )
    return select.where(condition, copy=True).sql(dialect=CANONICAL_DIALECT)


def _converted_sql(rates: Mapping[str, float]) -> str:
    """The line items with the money of each currency in ``rates`` in USD and that
    currency then USD (``billing_rollup.converted``, line item by line item)."""
    codes = sorted(rates)
    columns = []
    for column in _CONVERTED_COLUMNS:
        if column in _CONVERTED_MONEY and codes:
            cases = " ".join(
                f"WHEN {_literal(code)} THEN CAST({float(rates[code])!r} AS DOUBLE)"
                for code in codes
            )
            factor = f"CASE {_q('BillingCurrency')} {cases} ELSE CAST(1.0 AS DOUBLE) END"
            columns.append(f"{_q(column)} * {factor} AS {_q(column)}")
        elif column == "BillingCurrency" and codes:
            listed = ", ".join(_literal(code) for code in codes)
            columns.append(
                f"CASE WHEN {_q(column)} IN ({listed}) THEN {_literal(BASE_CURRENCY)} "
                f"ELSE {_q(column)} END AS {_q(column)}"
            )
        else:
            columns.append(_q(column))
    return f"SELECT {', '.join(columns)} FROM {_LINE_ITEMS}"


_START: Final = _q("ChargePeriodStart")
_END: Final = _q("ChargePeriodEnd")
# A start on the hour (DATE_TRUNC maps to every engine; epoch arithmetic does not).
_ON_THE_HOUR: Final = f"DATE_TRUNC('hour', {_START}) = {_START}"


def _daily_sql() -> str:
    return (
        f"SELECT {_keys()},\n"
        '  COALESCE(SUM(COALESCE("EffectiveCost", "BilledCost")), 0) AS cost,\n'
        '  COALESCE(SUM("EffectiveCost"), 0) AS effective_cost,\n'
        '  COALESCE(SUM("BilledCost"), 0) AS billed_cost,\n'
        '  COALESCE(SUM(COALESCE("ConsumedQuantity", "PricingQuantity")), 0) AS quantity,\n'
        "  COUNT(*) AS line_items,\n"
        f"  MIN({_START}) AS first_start,\n"
        f"  MAX({_END}) AS last_end,\n"
        f"  MAX(DATE_DIFF('millisecond', {_START}, {_END})) AS period_ms,\n"
        f"  BIT_OR(CASE WHEN {_ON_THE_HOUR} THEN 1 << EXTRACT(hour FROM {_START}) ELSE 0 END)"
        " AS hour_mask\n"
        f"FROM {_CONVERTED}\n"
        f"GROUP BY {_keys()}, DATE_TRUNC('day', {_START})"
    )


def _irregular_sql() -> str:
    return (
        f"SELECT DISTINCT {_keys()}, {_START}\n"
        f"FROM {_CONVERTED}\n"
        f"WHERE {_START} IS NULL OR DATE_TRUNC('hour', {_START}) <> {_START}"
    )


def _commitments_sql() -> str:
    described = ",\n  ".join(f"MIN({_q(c)}) AS {_q(c)}" for c in _COMMITMENT_DESCRIPTIONS)
    return (
        'SELECT "CommitmentDiscountId", "CommitmentDiscountStatus",\n'
        f"  {described},\n"
        '  COALESCE(SUM("EffectiveCost"), 0) AS effective_cost,\n'
        "  COUNT(*) AS line_items,\n"
        f"  MIN({_START}) AS first_start,\n"
        f"  MAX({_END}) AS last_end\n"
        f"FROM {_CONVERTED}\n"
        'WHERE "CommitmentDiscountId" IS NOT NULL\n'
        'GROUP BY "CommitmentDiscountId", "CommitmentDiscountStatus"'
    )


def _spend_sql() -> str:
    return (
        'SELECT "BillingCurrency",\n'
        '  SUM("BilledCost") AS billed_cost,\n'
        '  SUM("EffectiveCost") AS effective_cost,\n'
        "  COUNT(*) AS line_items,\n"
        f"  MIN({_START}) AS period_start,\n"
        f"  MAX({_END}) AS last_end,\n"
        f"  MAX({_START}) AS last_start\n"
        f"FROM {_LINE_ITEMS}\n"
        'GROUP BY "BillingCurrency"'
    )


_BODIES: Final[dict[str, Callable[[], str]]] = {
    "daily": _daily_sql,
    "irregular": _irregular_sql,
    "commitments": _commitments_sql,
    "spend": _spend_sql,
}


def canonical_queries(
    shape: ExportShape,
    columns: Mapping[str, str],
    start: date,
    end: date,
    partitions: tuple[str, ...] = (),
    rates: Mapping[str, float] | None = None,
) -> dict[str, str]:
    """The rollup's four queries in DuckDB SQL over ``EXPORT_TABLE``: the one definition."""
    line_items = _line_items_sql(shape, columns, start, end, partitions)
    ctes = (
        f"WITH {_LINE_ITEMS} AS (\n{line_items}\n),\n"
        f"{_CONVERTED} AS (\n{_converted_sql(rates or {})}\n)\n"
    )
    return {name: ctes + body() for name, body in _BODIES.items()}


def _table(parts: tuple[str, ...]) -> exp.Table:
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise ValueError(f"a table is named by 1 to 3 parts, got {parts!r}")
    catalog, db, name = (None,) * (3 - len(parts)) + parts
    return exp.table_(name, db=db, catalog=catalog, quoted=True)


def _is_json_text(node: exp.Expression) -> bool:
    """``CAST(TO_JSON(x) AS TEXT)``: how sqlglot writes JSON_FORMAT(x) in DuckDB, read back
    as an unknown TO_JSON (Trino has none: JSON_FORMAT there, TO_JSON_STRING in BigQuery)."""
    if not isinstance(node, exp.Cast):
        return False
    inner = node.this
    return (
        isinstance(inner, exp.Anonymous)
        and inner.name.upper() == "TO_JSON"
        and len(inner.expressions) == 1
        and node.to.is_type(exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR)
    )


def render(sql: str, dialect: str, table_parts: tuple[str, ...]) -> str:
    """``sql`` (DuckDB) in ``dialect``, reading ``table_parts`` where it says EXPORT_TABLE.

    The table is swapped in the syntax tree, never pasted into text. DuckDB's DATE_DIFF
    between timestamps becomes a timestamp difference (sqlglot would render it as
    BigQuery's DATE_DIFF, which takes dates), and DuckDB's JSON text of a value
    (``CAST(TO_JSON(x) AS TEXT)``) the engine's own (``_is_json_text``).
    """
    table = _table(table_parts)

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name == EXPORT_TABLE and not node.args.get("db"):
            swapped = table.copy()
            if node.alias:
                swapped.set("alias", node.args["alias"])
            return swapped
        if isinstance(node, exp.DateDiff):
            return exp.TimestampDiff(
                this=node.this, expression=node.expression, unit=node.args.get("unit")
            )
        if _is_json_text(node):
            return exp.JSONFormat(this=node.this.expressions[0])
        return node

    tree = sqlglot.parse_one(sql, read=CANONICAL_DIALECT).transform(swap)
    return tree.sql(dialect=dialect, pretty=True)


# ------------------------------------------------------------------ results into a rollup


def _named(frame: pl.DataFrame, names: tuple[str, ...]) -> pl.DataFrame:
    """``frame`` with its columns spelt as ``names`` (engines may lower-case them)."""
    wanted = {name.lower(): name for name in names}
    return frame.rename({c: wanted[c.lower()] for c in frame.columns if c.lower() in wanted})


def _charge_ordered(frame: pl.DataFrame, *ties: str) -> pl.DataFrame:
    """``frame`` sorted by first start, then ``ties`` (nulls last), with ``charge_order``."""
    ordered = frame.sort("first_start", *ties, nulls_last=True)
    return ordered.with_row_index("charge_order").with_columns(
        pl.col("charge_order").cast(pl.Int64)
    )


def _conformed(frame: pl.DataFrame, columns: schema.Schema) -> pl.DataFrame:
    return frame.select(pl.col(c).cast(t) for c, t in columns.items())


def _utc(column: str) -> pl.Expr:
    """``column`` as the rollup's UTC timestamp, whatever the engine's timestamp type."""
    return pl.col(column).cast(schema.UTC_TS)


def daily_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """The ``daily`` query's rows as ``schema.BILLING_DAILY``."""
    named = _named(
        rows,
        (
            *KEYS,
            "cost",
            "effective_cost",
            "billed_cost",
            "quantity",
            "line_items",
            "first_start",
            "last_end",
            "period_ms",
            "hour_mask",
        ),
    )
    shaped = named.with_columns(
        *[pl.col(key).cast(pl.String) for key in KEYS],
        _utc("first_start"),
        _utc("last_end"),
    ).with_columns(
        billing_rollup.group_key(),
        (pl.col("first_start").dt.epoch("us") // DAY_US).alias("day_index"),
        (pl.col("period_ms").cast(pl.Int64) * 1000).cast(pl.Duration("us")).alias("period_length"),
        pl.col("hour_mask").cast(pl.UInt32),
    )
    shaped = shaped.with_columns((pl.col("day_index") * DAY_US).cast(schema.UTC_TS).alias("day"))
    return _conformed(_charge_ordered(shaped, *KEYS), schema.BILLING_DAILY)


def irregular_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """The ``irregular`` query's rows as ``schema.BILLING_IRREGULAR_STARTS``."""
    named = _named(rows, (*KEYS, "ChargePeriodStart"))
    keyed = named.with_columns(
        *[pl.col(key).cast(pl.String) for key in KEYS], _utc("ChargePeriodStart")
    ).select(billing_rollup.group_key(), "ChargePeriodStart")
    return _conformed(keyed.unique(), schema.BILLING_IRREGULAR_STARTS)


def commitments_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """The ``commitments`` query's rows as ``schema.BILLING_COMMITMENTS``."""
    named = _named(rows, tuple(schema.BILLING_COMMITMENTS)).with_columns(
        _utc("first_start"), _utc("last_end")
    )
    ordered = _charge_ordered(named, "CommitmentDiscountId", "CommitmentDiscountStatus")
    return _conformed(ordered, schema.BILLING_COMMITMENTS)


def spend_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """The ``spend`` query's rows as ``billing_rollup.spend_query`` collects them."""
    named = _named(
        rows,
        (
            "BillingCurrency",
            "billed_cost",
            "effective_cost",
            "line_items",
            "period_start",
            "last_end",
            "last_start",
        ),
    )
    return named.select(
        pl.col("BillingCurrency").cast(pl.String),
        pl.col("billed_cost").cast(pl.Float64),
        pl.col("effective_cost").cast(pl.Float64),
        pl.col("line_items").cast(pl.Int64),
        _utc("period_start"),
        # polars' max_horizontal skips nulls; SQL's GREATEST does not everywhere.
        pl.max_horizontal(_utc("last_end"), _utc("last_start")).alias("period_end"),
    )


def rollup_from_results(
    results: Mapping[str, pl.DataFrame], rates: Mapping[str, float] | None = None
) -> BillingRollup:
    """The four queries' rows (``QUERIES``) as the rollup the local path builds."""
    totals = spend_frame(results["spend"])
    billed_in = set(totals["BillingCurrency"].drop_nulls().to_list())
    return BillingRollup(
        daily=daily_frame(results["daily"]),
        irregular_starts=irregular_frame(results["irregular"]),
        commitments=commitments_frame(results["commitments"]),
        spend=billing_rollup.spend_from(totals, rates),
        spend_by_currency=billing_rollup.spend_by_currency(totals),
        rates={code: rate for code, rate in (rates or {}).items() if code in billed_in},
    )


# ------------------------------------------------------------------------ the engine run


@dataclass(frozen=True)
class PushdownStats:
    """What the push-down ran, and what it scanned and cost (for the report)."""

    uri: str
    dialect: str
    shape: str
    period_start: date
    period_end: date  # exclusive
    bytes_estimated: int | None
    bytes_scanned: int
    usd_per_tib: float
    queries: dict[str, str] = field(default_factory=dict)

    @property
    def estimated_usd(self) -> float | None:
        """The estimate's cost at the engine's on-demand price per TiB."""
        if self.bytes_estimated is None:
            return None
        return self.bytes_estimated / TIB * self.usd_per_tib

    @property
    def scanned_usd(self) -> float:
        """What the bytes the engine scanned cost at its on-demand price per TiB."""
        return self.bytes_scanned / TIB * self.usd_per_tib

    def as_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "engine": self.dialect,
            "shape": self.shape,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "bytes_estimated": self.bytes_estimated,
            "bytes_scanned": self.bytes_scanned,
            "usd_per_tib": self.usd_per_tib,
            "estimated_cost_usd": self.estimated_usd,
            "query_cost_usd": self.scanned_usd,
            "queries": dict(self.queries),
        }


def data_size(count: int | None) -> str:
    """Bytes for messages, in GB (10^9), or MB below one GB: '12.35 GB', '4.20 MB'."""
    if count is None:
        return "an unknown amount"
    return f"{count / GB:,.2f} GB" if count >= GB else f"{count / 1e6:,.2f} MB"


def _no_shape(engine: QueryEngine, columns: Mapping[str, str]) -> InputFileError:
    """One line naming the URI, the shapes costscan reads and, for the nearest shape that
    declares its ``required`` columns (when it has at least half of them), what it lacks."""
    lower = {name.lower() for name in columns}
    known = shapes()
    lacks = {
        shape.name: [c for c in shape.required if c.lower() not in lower]
        for shape in known
        if shape.required
    }
    near = [
        name
        for shape in known
        if (name := shape.name) in lacks and 2 * len(lacks[name]) <= len(shape.required)
    ]
    listed = ", ".join(shape.name for shape in known) or "none"
    line = f"{engine.uri}: not a billing export costscan reads ({listed})"
    if near:
        nearest = min(near, key=lambda name: len(lacks[name]))
        line += f"; as {nearest} it lacks {', '.join(lacks[nearest])}"
    return InputFileError(line)


def rollup_from_engine(
    engine: QueryEngine,
    start: date,
    end: date,
    rates: Mapping[str, float] | None = None,
    max_scan_bytes: int | None = None,
    *,
    announce: Callable[[str], None] | None = None,
) -> tuple[BillingRollup, PushdownStats]:
    """The billing rollup of ``engine``'s table for the billing periods in [start, end).

    The export's shape comes from its columns. Every query is estimated before any runs;
    with ``max_scan_bytes`` a total over it (or one the engine cannot estimate) is refused
    (``UsageError``, exit 2). ``announce`` hears one line with the estimate before the
    first query runs.
    """
    columns = engine.columns()
    shape = shape_of(columns)
    if shape is None:
        raise _no_shape(engine, columns)
    queries = {
        name: render(sql, engine.dialect, engine.table_parts())
        for name, sql in canonical_queries(
            shape, columns, start, end, engine.partition_columns(), rates
        ).items()
    }
    estimates = [engine.estimate_bytes(sql) for sql in queries.values()]
    estimated = None if any(e is None for e in estimates) else sum(e or 0 for e in estimates)
    price = engine.usd_per_tib
    cost = (
        f" (about ${estimated / TIB * price:,.2f} at ${price:g}/TiB)"
        if estimated is not None and price > 0
        else ""
    )
    last = end - timedelta(days=1)
    months = (
        f"{start:%Y-%m}"
        if (start.year, start.month) == (last.year, last.month)
        else (f"{start:%Y-%m} to {last:%Y-%m}")
    )
    line = (
        f"{engine.uri}: {len(queries)} queries over the {shape.name} billing of {months} "
        f"will scan {data_size(estimated)}{cost}"
    )
    if max_scan_bytes is not None:
        if estimated is None:
            raise UsageError(
                f"{engine.uri}: the engine cannot estimate what the queries scan, so the "
                f"--max-scan-gb budget of {data_size(max_scan_bytes)} cannot be checked; "
                "run without --max-scan-gb to run them anyway"
            )
        if estimated > max_scan_bytes:
            raise UsageError(
                f"{engine.uri}: the queries would scan {data_size(estimated)}, over the "
                f"--max-scan-gb budget of {data_size(max_scan_bytes)}; raise --max-scan-gb "
                "or narrow --billing-period"
            )
    (announce or log.info)(line)
    results = {name: engine.fetch(sql) for name, sql in queries.items()}
    rollup = rollup_from_results(results, rates)
    stats = PushdownStats(
        uri=engine.uri,
        dialect=engine.dialect,
        shape=shape.name,
        period_start=start,
        period_end=end,
        bytes_estimated=estimated,
        bytes_scanned=engine.bytes_scanned,
        usd_per_tib=price,
        queries=queries,
    )
    return rollup, stats
