"""A FOCUS 1.0 (to 1.2) table as line items: the AWS FOCUS data export behind Athena, the
BigQuery FOCUS view, any FOCUS Parquet behind DuckDB.

The columns are FOCUS's own names (https://focus.finops.org/focus-specification/), so the
line items are the table's columns cast to ``schema.BILLING``'s types, with the values
``providers/exports/focus.py`` gives for a typed (Parquet) file:

- numbers as DOUBLE, text as VARCHAR (an identifier stored as a number reads as its digits);
- ``BillingCurrency`` USD where the cell is null (AWS and Google leave it empty on tax and
  credit lines of USD accounts);
- ``Tags``: JSON text as it is, an empty cell as null; a map (the AWS FOCUS export's
  ``map<varchar,varchar>``), a list of key/value records, a struct or a JSON value as
  compact JSON object text, an empty one as null (a list of records in BigQuery is not
  rendered: BigQuery has no map type to build the object from);
- ``ProviderName``: FOCUS 1.3's ``ServiceProviderName`` where the table has no ProviderName;
- a column the table lacks (a conditional FOCUS column) is null.

Engines spell column names their own way (Athena's catalogue lower-cases them), so columns
are found whatever their case and named as the engine has them.

The billing period prunes the table: ``BillingPeriodStart`` within the period, and the
partition column where the table has one (``billing_period``, 'YYYY-MM', in the AWS FOCUS
export's S3 layout).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

import polars as pl
from sqlglot import exp

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.billing_query import EXPORT_TABLE, ExportShape
from costscan.scanner.contracts.export_vocab import FOCUS_MANDATORY

# The FOCUS 1.0 Mandatory columns the line items need (providers/exports/focus.py MANDATORY).
REQUIRED = FOCUS_MANDATORY

# Partition columns that hold the billing period as 'YYYY-MM' (lower case: engines differ).
PERIOD_PARTITIONS: tuple[str, ...] = ("billing_period",)

_TEXT_TYPES = ("varchar", "string", "text", "char")
_TIME_TYPES = ("timestamp", "datetime")


def _by_lower(columns: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased name -> the name as the engine spells it."""
    return {name.lower(): name for name in columns}


def _source(name: str, columns: Mapping[str, str]) -> str | None:
    names = _by_lower(columns)
    found = names.get(name.lower())
    if found is None and name == "ProviderName":
        found = names.get("serviceprovidername")
    return found


def missing(columns: Mapping[str, str]) -> list[str]:
    """The required FOCUS columns a table with ``columns`` lacks."""
    return [name for name in REQUIRED if _source(name, columns) is None]


def matches(columns: Mapping[str, str]) -> bool:
    return not missing(columns)


def _quoted(name: str) -> str:
    return exp.column(name, quoted=True).sql(dialect="duckdb")


def _is(type_name: str, kinds: tuple[str, ...]) -> bool:
    return type_name.strip().lower().startswith(kinds)


def _is_key_value_list(type_name: str) -> bool:
    """A list of {key, value} records, as DuckDB ("struct(key ..., value ...)[]"), Trino
    ("array(row(key ..., value ...))") and BigQuery ("array<struct<key ..., value ...>>")
    name its type."""
    name = type_name.strip().lower().replace('"', "")
    listed = name.endswith("[]") or name.startswith("array")
    return listed and "key " in name and "value " in name


def _expression(column: str, dtype: pl.DataType, columns: Mapping[str, str]) -> str:
    """The SQL for ``column`` of schema.BILLING over the table's own column."""
    source = _source(column, columns)
    if source is None:
        sql_type = "DOUBLE" if dtype == pl.Float64() else "TIMESTAMPTZ"
        if dtype == pl.String():
            sql_type = "VARCHAR"
        return f"CAST(NULL AS {sql_type})"
    raw = _quoted(source)
    type_name = columns[source]
    # TRY_CAST (SAFE_CAST in BigQuery): a cell that is not a number or a time, such as the
    # text "NULL" the FOCUS 1.0 sample writes for an absent ConsumedQuantity, is null, as
    # the local reader reads it, instead of failing the whole query.
    if dtype == pl.Float64():
        return f"TRY_CAST({raw} AS DOUBLE)"
    if dtype == schema.UTC_TS:
        # Timestamps stay as the engine holds them (naive ones are UTC in every export);
        # a date or text column becomes one.
        return raw if _is(type_name, _TIME_TYPES) else f"TRY_CAST({raw} AS TIMESTAMPTZ)"
    if column == "Tags":
        if _is(type_name, _TEXT_TYPES):
            return _text(raw)
        if _is_key_value_list(type_name):
            # A list of {key, value} records (Parquet written from such lists): the same
            # object text as a map's (DuckDB and Trino; BigQuery has no map to build).
            return f"NULLIF(JSON_FORMAT(CAST(MAP_FROM_ENTRIES({raw}) AS JSON)), '{{}}')"
        return f"NULLIF(JSON_FORMAT(CAST({raw} AS JSON)), '{{}}')"
    if column == "BillingCurrency":
        return f"COALESCE({_text(raw)}, 'USD')"
    return _text(raw)


def _text(raw: str) -> str:
    """A text column as the local CSV reader reads it: empty text and the text "NULL"
    (the FOCUS sample's, and Athena's and BigQuery's CSV extracts', spelling of null;
    providers/exports/read.py NULL_TEXT) are null, so "NULL" is never a ResourceId."""
    return f"NULLIF(NULLIF(CAST({raw} AS VARCHAR), ''), 'NULL')"


def line_items(columns: Mapping[str, str]) -> str:
    """Every schema.BILLING column, from a FOCUS table with ``columns``."""
    selected = ",\n  ".join(
        f"{_expression(column, dtype, columns)} AS {_quoted(column)}"
        for column, dtype in schema.BILLING.items()
    )
    return f"SELECT\n  {selected}\nFROM {EXPORT_TABLE}"


def months(start: date, end: date) -> list[str]:
    """'YYYY-MM' of every month [start, end) touches."""
    out: list[str] = []
    year, month = start.year, start.month
    while date(year, month, 1) < end:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _timestamp(day: date) -> str:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    # "... UTC": the zone spelling Trino, BigQuery and DuckDB all read in a timestamp text.
    return f"CAST('{moment:%Y-%m-%d %H:%M:%S} UTC' AS TIMESTAMPTZ)"


def period_filter(start: date, end: date, partition_columns: tuple[str, ...]) -> str:
    """The billing periods that start in [start, end), pruned on the period partition."""
    # TRY_CAST: a table whose columns are all text (a CSV turned into Parquet as it was)
    # holds the period start as text, which no engine compares with a timestamp. On a
    # timestamp column the cast changes nothing; pruning comes from the partition below.
    period_start = "TRY_CAST(BillingPeriodStart AS TIMESTAMPTZ)"
    kept = [
        f"{period_start} >= {_timestamp(start)}",
        f"{period_start} < {_timestamp(end)}",
    ]
    for column in partition_columns:
        if column.lower() in PERIOD_PARTITIONS:
            listed = ", ".join(f"'{month}'" for month in months(start, end))
            kept.append(f"{_quoted(column)} IN ({listed})")
    return " AND ".join(kept)


SHAPE = ExportShape(
    name="focus",
    description="FOCUS 1.0-1.2 (the AWS FOCUS data export, the BigQuery FOCUS view, Parquet)",
    matches=matches,
    line_items=line_items,
    period_filter=period_filter,
    required=REQUIRED,
)
