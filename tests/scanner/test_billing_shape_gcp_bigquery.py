"""The GCP BigQuery export's shape gives what the local GCP reader gives, to the cent.

The shape's SQL runs in DuckDB over the export as BigQuery holds it (nested Parquet); the
local reader (providers/exports/gcp.py) reads the same rows from the nested Parquet and
from their flat twin (BigQuery's CSV extract). Every ``schema.BILLING`` column must agree.
The SQL must also survive the trip the push-down makes: rendered for BigQuery by sqlglot,
and (as the tests' fake BigQuery runs it) back into DuckDB, with the same result.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
import sqlglot

from costscan.providers.exports.read import read_billing
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.billing_query import EXPORT_TABLE
from costscan.scanner.pipeline import billing_shapes
from costscan.scanner.pipeline.billing_shapes import gcp_bigquery
from tests import gcp_bigquery_export as export

MONEY = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


def _connect(parquet: Path, partition_time: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    extra = ", date_trunc('day', export_time) AS _PARTITIONTIME" if partition_time else ""
    con.execute(f"CREATE TABLE {EXPORT_TABLE} AS SELECT *{extra} FROM read_parquet('{parquet}')")
    return con


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    described = con.execute(f"DESCRIBE {EXPORT_TABLE}").fetchall()
    return {str(row[0]): str(row[1]).lower() for row in described if row[0] != "_PARTITIONTIME"}


def _through_bigquery(sql: str) -> str:
    """The SQL as the push-down sends it to BigQuery, and as the fake runs it again."""
    rendered = sqlglot.transpile(sql, read="duckdb", write="bigquery")[0]
    return sqlglot.transpile(rendered, read="bigquery", write="duckdb")[0]


def _assert_same(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got.columns == list(schema.BILLING)
    assert got.height == want.height
    for column, dtype in schema.BILLING.items():
        a, b = got[column], want[column]
        assert (a.is_null() == b.is_null()).all(), column
        if dtype == pl.Float64():
            # To the cent on every line item (and far below it: the same float sums).
            assert ((a - b).abs().fill_null(0.0) < 1e-9).all(), column
        elif isinstance(dtype, pl.Datetime):
            assert a.cast(schema.UTC_TS).to_list() == b.to_list(), column
        else:
            assert a.to_list() == b.to_list(), column


@pytest.fixture(scope="module", params=[True, False], ids=["detailed", "standard"])
def nested(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    detailed = bool(request.param)
    folder = tmp_path_factory.mktemp("gcp-bq")
    return export.write_nested(folder / "gcp_billing_export.parquet", detailed=detailed)


def _shape_rows(
    con: duckdb.DuckDBPyConnection, where: str = "", trip: bool = False
) -> pl.DataFrame:
    sql = gcp_bigquery.line_items(_columns(con)) + (f" WHERE {where}" if where else "")
    if trip:
        sql = _through_bigquery(sql)
    return con.sql(sql).pl().with_columns(pl.col(pl.Datetime).dt.convert_time_zone("UTC"))


def test_shape_gives_the_local_readers_line_items(nested: Path) -> None:
    local = read_billing([str(nested)]).scan.collect()
    _assert_same(_shape_rows(_connect(nested)), local)


def test_shape_rendered_for_bigquery_and_back_gives_the_same(nested: Path) -> None:
    con = _connect(nested)
    _assert_same(_shape_rows(con, trip=True), _shape_rows(con))


def test_shape_matches_the_flat_extract_read_locally(nested: Path, tmp_path: Path) -> None:
    detailed = "resource" in pl.read_parquet_schema(nested)
    flat = export.write_flat_csv(tmp_path / "extract.csv", detailed=detailed)
    local = read_billing([str(flat)]).scan.collect()
    _assert_same(_shape_rows(_connect(nested)), local)


def test_spend_totals_agree_to_the_cent_with_an_independent_sum(nested: Path) -> None:
    """EffectiveCost = cost + the credits (negative), summed by hand in decimals."""
    want = sum(
        (
            Decimal(str(row["cost"])) + sum((Decimal(str(c["amount"])) for c in row["credits"]),
                                            Decimal(0))
            for row in export.rows(detailed="resource" in pl.read_parquet_schema(nested))
        ),
        Decimal(0),
    )  # fmt: skip
    got = _shape_rows(_connect(nested))["EffectiveCost"].sum()
    assert round(Decimal(got), 2) == round(want, 2)


@pytest.mark.parametrize("partitions", [(), ("_PARTITIONTIME",), ("export_time",)])
def test_period_filter_keeps_the_billing_periods_of_the_period(
    nested: Path, partitions: tuple[str, ...]
) -> None:
    """September's invoice: its own usage, August's last hours and a few rows billed later
    are all kept by invoice month, as the local rollup's BillingPeriodStart has them."""
    con = _connect(nested, partition_time=True)
    where = gcp_bigquery.period_filter(date(2024, 9, 1), date(2024, 10, 1), partitions)
    for column in partitions:
        assert f"{column} >= " in where  # the engine can prune on it
    got = _shape_rows(con, where, trip=True)
    september = datetime(2024, 9, 1, tzinfo=UTC)
    local = (
        read_billing([str(nested)]).scan.filter(pl.col("BillingPeriodStart") == september).collect()
    )
    assert 0 < got.height < len(export.rows())
    _assert_same(got, local)


def test_a_period_of_months_keeps_each_invoice_month(nested: Path) -> None:
    con = _connect(nested, partition_time=True)
    where = gcp_bigquery.period_filter(date(2024, 9, 1), date(2025, 1, 1), ("_PARTITIONTIME",))
    got = _shape_rows(con, where, trip=True)
    months = got["BillingPeriodStart"].dt.strftime("%Y-%m").unique().sort().to_list()
    assert months == ["2024-09", "2024-10", "2024-12"]


def test_partition_filter_keeps_every_partition_loaded_in_the_period() -> None:
    """No row of an invoice month is loaded before the month starts; a day of slack."""
    where = gcp_bigquery.period_filter(date(2024, 9, 1), date(2024, 10, 1), ("_PARTITIONTIME",))
    assert where.count("_PARTITIONTIME") == 1
    assert "_PARTITIONTIME >= CAST('2024-08-31 00:00:00+00' AS TIMESTAMPTZ)" in where
    assert "invoice.month >= '202409' AND invoice.month < '202410'" in where


def test_the_shape_matches_the_export_and_nothing_else(nested: Path) -> None:
    columns = _columns(_connect(nested))
    assert gcp_bigquery.SHAPE.matches(columns)
    assert billing_shapes.shape_of(columns) is not None
    focus = {name: "varchar" for name in schema.BILLING}
    cur = {"line_item_unblended_cost": "double", "line_item_usage_start_date": "timestamp"}
    assert not gcp_bigquery.SHAPE.matches(focus)
    assert not gcp_bigquery.SHAPE.matches(cur)


def test_rendered_sql_is_valid_bigquery(nested: Path) -> None:
    sql = gcp_bigquery.line_items(_columns(_connect(nested)))
    rendered = sqlglot.transpile(sql, read="duckdb", write="bigquery")[0]
    # BigQuery has no DuckDB list lambdas, TIMESTAMPTZ or TRY_CAST: none may leave here.
    for duckdb_only in ("->", "TIMESTAMPTZ", "TRY_CAST", "LIST_", "STRPTIME"):
        assert duckdb_only not in rendered.upper()
    assert "FROM UNNEST(credits) AS c WITH OFFSET AS n" in rendered
    assert "FROM UNNEST(labels) AS l WITH OFFSET AS n" in rendered
    assert sqlglot.parse_one(rendered, read="bigquery") is not None
