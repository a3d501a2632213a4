"""Billing queried where it lives (issue 18): the contract between the SQL definition of the
billing rollup and the engines that run it.

An organisation's billing export runs to billions of line items a month and already sits in
an engine it pays for (the CUR or FOCUS export in S3 behind Athena, the GCP billing export
in BigQuery). With ``--billing athena://...`` or ``--billing bigquery://...`` costscan runs
the rollup (``schema.BILLING_DAILY``, the commitments, the spend totals) in that engine and
reads back only its small result; the billing policies never know which engine built it.

- ``ExportShape`` (scanner/pipeline/billing_shapes/): how one export's columns become the
  line-item columns the rollup reads (``schema.BILLING`` names), written once in DuckDB's
  SQL dialect, the dialect the push-down is checked in (its DuckDB results equal the local
  polars path's), and transpiled by sqlglot into each engine's dialect.
- ``QueryEngine`` (providers/exports/): one engine, one table; it reports its columns and
  partitions, estimates what a query would scan before running it, and runs read-only
  queries, returning every row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import polars as pl

# The URI schemes of --billing that name a table in an engine instead of files.
PUSHDOWN_SCHEMES: tuple[str, ...] = ("athena", "bigquery", "duckdb")

# The name the shapes' SQL gives the export's table; replaced by the engine's own table
# reference (``QueryEngine.table_parts``) when the SQL is rendered.
EXPORT_TABLE = "billing_export"


class QueryEngine(Protocol):
    """One table in one SQL engine, read-only.

    Errors (a bad URI, a missing table, a denied or failed query) are raised as
    ``errors.InputFileError`` with one line that names ``uri``.
    """

    @property
    def uri(self) -> str:
        """The --billing value as the user gave it (for messages and the report)."""
        ...

    @property
    def dialect(self) -> str:
        """sqlglot's name of the engine's SQL dialect: "trino" (Athena), "bigquery", "duckdb"."""
        ...

    @property
    def usd_per_tib(self) -> float:
        """The engine's on-demand price of scanning one TiB, for the estimated query cost."""
        ...

    def table_parts(self) -> tuple[str, ...]:
        """The table's name parts, outermost first (("db", "table") or ("project",
        "dataset", "table")), unquoted: the renderer quotes them for the dialect."""
        ...

    def columns(self) -> Mapping[str, str]:
        """Top-level column name -> the engine's type name, lower case (shape detection)."""
        ...

    def partition_columns(self) -> tuple[str, ...]:
        """The columns the table is partitioned on (pruned by the billing period)."""
        ...

    def estimate_bytes(self, sql: str) -> int | None:
        """Bytes ``sql`` would scan, found before running it (BigQuery's dry run; Athena: the
        size of the partitions it reads); None when the engine cannot say."""
        ...

    def fetch(self, sql: str) -> pl.DataFrame:
        """Run ``sql`` (one read-only SELECT) and return every row, every page. Columns are
        typed from the result's metadata: integers Int64, floating and decimal Float64,
        timestamps Datetime("us", "UTC"), dates Date, booleans Boolean, the rest String."""
        ...

    @property
    def bytes_scanned(self) -> int:
        """Bytes the engine billed for the queries fetched so far."""
        ...


@dataclass(frozen=True)
class ExportShape:
    """How one billing export's table becomes line items, in DuckDB-dialect SQL.

    ``matches(columns)`` says whether a table with these top-level columns (name -> type,
    as ``QueryEngine.columns`` gives them) holds this export. ``line_items(columns)`` is a
    SELECT over ``EXPORT_TABLE`` whose output columns carry ``schema.BILLING`` names and
    meanings (the same values the local reader of this export gives). ``period_filter(start,
    end, partition_columns)`` is a boolean SQL expression over the table's own columns that
    keeps the charges of [start, end) and, where the table is partitioned on the billing
    period, names that partition column so the engine prunes. ``required`` (optional) names
    the columns ``matches`` insists on, so a table that matches no shape is told what it
    lacks.
    """

    name: str
    description: str
    matches: Callable[[Mapping[str, str]], bool]
    line_items: Callable[[Mapping[str, str]], str]
    period_filter: Callable[[date, date, tuple[str, ...]], str]
    required: tuple[str, ...] = ()
