"""The push-down's one SQL definition of the billing rollup (scanner/pipeline/billing_sql.py).

Equivalence: run by DuckDB over the same Parquet, it gives the local polars path's rollup
(daily frame, irregular starts, commitments, spend), on adversarial line items, on
synthetic FOCUS data, with --fx rates, and on the real FOCUS 1.0 sample. Its renderings
for Athena (Trino) and BigQuery parse back and use each engine's own functions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlglot
from polars.testing import assert_frame_equal

from costscan.providers.exports import pushdown, read_billing
from costscan.providers.exports.duckdb_engine import open_engine
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.billing import BillingRollup
from costscan.scanner.contracts.billing_query import EXPORT_TABLE
from costscan.scanner.contracts.errors import InputFileError, UsageError
from costscan.scanner.pipeline import billing_rollup, billing_sql
from costscan.scanner.pipeline.billing_shapes import focus, shapes
from tests.scanner import pushdown_data
from tests.scanner.test_billing_rollup import line_items

REPO = Path(__file__).resolve().parents[2]
FOCUS_SAMPLE = REPO.parent / "shared" / "data" / "focus-1.0-sample.csv"
KEYS = [*schema.BILLING_ROLLUP_KEYS, "day"]
ALL_TIME = (date(2000, 1, 1), date(2100, 1, 1))
# Sums run in each engine's order: the last bits of a float may differ (far below a cent).
REL_TOL = 1e-12


def local_rollup(path: Path, rates: dict[str, float] | None = None) -> BillingRollup:
    return billing_rollup.rollup_of(read_billing([str(path)]), rates)


def pushed_rollup(
    path: Path, rates: dict[str, float] | None = None, period: tuple[date, date] = ALL_TIME
) -> tuple[BillingRollup, billing_sql.PushdownStats]:
    return billing_sql.rollup_from_engine(
        open_engine(f"duckdb://{path}"), *period, rates, announce=lambda _line: None
    )


def assert_same_rollup(local: BillingRollup, pushed: BillingRollup) -> None:
    """Every figure of the two rollups alike; ``charge_order`` apart (by key, not file
    order, in the push-down: the module docstring)."""
    assert_frame_equal(
        local.daily.drop("charge_order").sort(KEYS, nulls_last=True),
        pushed.daily.drop("charge_order").sort(KEYS, nulls_last=True),
        check_exact=False,
        rel_tol=REL_TOL,
    )
    # charge_order ranks by first start in both.
    for rollup in (local, pushed):
        ordered = rollup.daily.sort("charge_order")
        assert ordered["first_start"].drop_nulls().is_sorted()
    by = ["group_key", "ChargePeriodStart"]
    assert_frame_equal(
        local.irregular_starts.sort(by, nulls_last=True),
        pushed.irregular_starts.sort(by, nulls_last=True),
    )
    assert_frame_equal(local.commitments, pushed.commitments, check_exact=False, rel_tol=REL_TOL)
    assert local.spend.keys() == pushed.spend.keys()
    for key, value in local.spend.items():
        assert pushed.spend[key] == (
            pytest.approx(value, rel=REL_TOL) if isinstance(value, float) else value
        )
    assert local.spend_by_currency.keys() == pushed.spend_by_currency.keys()
    for code, figures in local.spend_by_currency.items():
        for key, value in figures.items():
            got = pushed.spend_by_currency[code][key]
            assert got == (pytest.approx(value, rel=REL_TOL) if isinstance(value, float) else value)
    assert local.rates == pushed.rates


def test_duckdb_rollup_equals_local_on_adversarial_line_items(tmp_path: Path) -> None:
    # Null keys, starts off the hour, rows without a start, daily charges, commitments
    # whose descriptive columns vary (so only their figures are compared below).
    items = line_items(3000).with_columns(
        pl.lit(datetime(2024, 10, 1, tzinfo=UTC)).alias("BillingPeriodStart"),
        pl.lit("USD").alias("BillingCurrency"),
    )
    path = tmp_path / "items.parquet"
    items.write_parquet(path)
    local = local_rollup(path)
    pushed, _stats = pushed_rollup(path)
    assert local.irregular_starts.height > 0
    assert local.daily["day"].null_count() > 0
    described = [
        "CommitmentDiscountType",
        "CommitmentDiscountCategory",
        "ProviderName",
        "SubAccountId",
        "BillingAccountId",
        "RegionId",
        "BillingCurrency",
        "charge_order",
    ]
    assert_same_rollup(
        BillingRollup(
            local.daily,
            local.irregular_starts,
            local.commitments.drop(described),
            local.spend,
            local.spend_by_currency,
        ),
        BillingRollup(
            pushed.daily,
            pushed.irregular_starts,
            pushed.commitments.drop(described),
            pushed.spend,
            pushed.spend_by_currency,
        ),
    )


def test_duckdb_rollup_equals_local_on_synthetic_focus(tmp_path: Path) -> None:
    path = pushdown_data.write(tmp_path / "focus.parquet")
    local = local_rollup(path)
    pushed, stats = pushed_rollup(path)
    assert local.commitments.height == 3  # the SP used, the RI used and unused
    assert_same_rollup(local, pushed)
    assert stats.shape == "focus"
    assert stats.bytes_estimated == 4 * path.stat().st_size
    assert stats.bytes_scanned == 4 * path.stat().st_size
    assert stats.estimated_usd == 0.0


def test_duckdb_rollup_converts_like_the_local_path(tmp_path: Path) -> None:
    # One file in CAD, one in USD, with the same resources: converted, they share groups.
    folder = tmp_path / "mixed"
    pushdown_data.write(folder / "usd.parquet", count=12, hours=48)
    pushdown_data.write(folder / "cad.parquet", count=12, hours=48, currency="CAD")
    rates = {"CAD": 0.73, "EUR": 1.08}
    local = billing_rollup.rollup_of(read_billing([str(folder)]), rates)
    pushed, _stats = pushed_rollup(folder, rates)
    assert set(local.daily["BillingCurrency"].to_list()) == {"USD"}
    assert local.rates == {"CAD": 0.73}
    assert_same_rollup(local, pushed)


def test_map_tags_read_alike_in_both_paths(tmp_path: Path) -> None:
    # The AWS FOCUS export's Parquet holds Tags as a MAP: both paths write it as compact
    # JSON text, an empty map as null.
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pushdown_data.frame(count=3, hours=4).drop("Tags").to_arrow()
    tags = [[("env", "prod"), ("owner", 'é "x"')], [], None, [("team", None)]]
    column = pa.array(
        [tags[n % len(tags)] for n in range(table.num_rows)], type=pa.map_(pa.string(), pa.string())
    )
    path = tmp_path / "map.parquet"
    pq.write_table(table.append_column("Tags", column), path)
    local = local_rollup(path)
    pushed, _stats = pushed_rollup(path)
    assert set(local.daily["Tags"].to_list()) == {
        '{"env":"prod","owner":"é \\"x\\""}',
        '{"team":null}',
        None,
    }
    assert_same_rollup(local, pushed)


def test_key_value_list_tags_read_alike_in_both_paths(tmp_path: Path) -> None:
    entry = pl.Struct({"key": pl.String, "value": pl.String})
    tags = pl.Series(
        "Tags",
        [[{"key": "env", "value": "dev"}, {"key": "team", "value": None}], [], None],
        dtype=pl.List(entry),
    )
    items = pushdown_data.frame(count=3, hours=4).drop("Tags")
    items = items.with_columns(tags.gather(pl.int_range(items.height, eager=True) % 3))
    path = tmp_path / "list.parquet"
    items.write_parquet(path)
    local = local_rollup(path)
    pushed, _stats = pushed_rollup(path)
    assert set(local.daily["Tags"].to_list()) == {'{"env":"dev","team":null}', None}
    assert_same_rollup(local, pushed)


@pytest.mark.skipif(not FOCUS_SAMPLE.is_file(), reason=f"the FOCUS sample is not at {FOCUS_SAMPLE}")
def test_duckdb_rollup_equals_local_on_the_focus_sample(tmp_path: Path) -> None:
    # The sample as its reader gives it, written to Parquet: both paths read that file.
    path = tmp_path / "sample.parquet"
    read_billing([str(FOCUS_SAMPLE)]).scan.collect().write_parquet(path)
    local = local_rollup(path)
    pushed, _stats = pushed_rollup(path)
    assert local.daily.height > 100
    assert_same_rollup(local, pushed)


def test_the_billing_period_keeps_its_months_only(tmp_path: Path) -> None:
    path = pushdown_data.write(tmp_path / "focus.parquet", count=6)
    pushed, stats = pushed_rollup(path, period=(date(2024, 10, 1), date(2024, 11, 1)))
    starts = pushed.daily["first_start"]
    assert starts.min() == datetime(2024, 10, 1, tzinfo=UTC)
    assert int(pushed.daily["line_items"].sum()) == 6 * 31 * 24
    assert (stats.period_start, stats.period_end) == (date(2024, 10, 1), date(2024, 11, 1))


def test_a_hive_partition_on_the_billing_period_is_pruned(tmp_path: Path) -> None:
    items = pushdown_data.frame(count=4)
    for month in ("2024-09", "2024-10"):
        part = items.filter(pl.col("BillingPeriodStart").dt.strftime("%Y-%m") == month)
        folder = tmp_path / f"billing_period={month}"
        folder.mkdir()
        part.write_parquet(folder / "part-0.parquet")
    engine = open_engine(f"duckdb://{tmp_path}")
    assert engine.partition_columns() == ("billing_period",)
    rollup, stats = billing_sql.rollup_from_engine(
        engine, date(2024, 9, 1), date(2024, 10, 1), announce=lambda _line: None
    )
    assert "\"billing_period\" IN ('2024-09')" in stats.queries["daily"]
    assert int(rollup.daily["line_items"].sum()) == 4 * 30 * 24
    # The estimate counts September's files only: DuckDB prunes October's folder.
    september = (tmp_path / "billing_period=2024-09" / "part-0.parquet").stat().st_size
    assert stats.bytes_estimated == stats.bytes_scanned == 4 * september


# ---------------------------------------------------------------- renderings per engine


def rendered(dialect: str, parts: tuple[str, ...]) -> dict[str, str]:
    columns = {name: "varchar" for name in schema.BILLING}
    return {
        name: billing_sql.render(sql, dialect, parts)
        for name, sql in billing_sql.canonical_queries(
            focus.SHAPE,
            columns,
            date(2024, 9, 1),
            date(2024, 11, 1),
            ("billing_period",),
            {"CAD": 0.73},
        ).items()
    }


def test_the_trino_rendering_parses_back_with_trinos_functions() -> None:
    queries = rendered("trino", ("billing", "focus_export"))
    for sql in queries.values():
        tree = sqlglot.parse_one(sql, read="trino")
        tables = {t.sql(dialect="trino") for t in tree.find_all(sqlglot.exp.Table)}
        assert '"billing"."focus_export"' in tables
        assert EXPORT_TABLE not in sql
    daily = queries["daily"]
    assert "BITWISE_OR_AGG(" in daily
    assert "BITWISE_LEFT_SHIFT(1, EXTRACT(HOUR FROM" in daily
    assert "DATE_DIFF('MILLISECOND'" in daily
    assert "DATE_TRUNC('DAY'" in daily
    assert "<<" not in daily
    assert "\"billing_period\" IN ('2024-09', '2024-10')" in daily
    assert "CAST('2024-09-01 00:00:00 UTC' AS TIMESTAMP WITH TIME ZONE)" in daily


def test_the_bigquery_rendering_parses_back_with_bigquerys_functions() -> None:
    queries = rendered("bigquery", ("my-project", "billing", "focus_view"))
    for sql in queries.values():
        tree = sqlglot.parse_one(sql, read="bigquery")
        tables = {t.sql(dialect="bigquery") for t in tree.find_all(sqlglot.exp.Table)}
        assert "`my-project`.`billing`.`focus_view`" in tables
        assert EXPORT_TABLE not in sql
    daily = queries["daily"]
    assert "BIT_OR(" in daily
    assert "1 << EXTRACT(HOUR FROM" in daily
    assert "TIMESTAMP_DIFF(" in daily and "MILLISECOND)" in daily
    assert "TIMESTAMP_TRUNC(" in daily
    assert "DATE_DIFF(" not in daily
    assert "AS FLOAT64)" in daily
    assert "CAST('2024-09-01 00:00:00 UTC' AS TIMESTAMP)" in daily


@pytest.mark.parametrize(
    ("dialect", "tags_type", "expected"),
    [
        ("trino", "map(varchar, varchar)", 'JSON_FORMAT(CAST("Tags" AS JSON))'),
        ("trino", "array(row(key varchar, value varchar))", "JSON_FORMAT(CAST(MAP_FROM_ENTRIES("),
        ("bigquery", "json", "TO_JSON_STRING(CAST(`Tags` AS JSON))"),
        ("duckdb", "map(varchar, varchar)", 'CAST(TO_JSON(CAST("Tags" AS JSON)) AS TEXT)'),
    ],
)
def test_tags_as_json_text_use_each_engines_function(
    dialect: str, tags_type: str, expected: str
) -> None:
    columns = {name: "varchar" for name in schema.BILLING} | {"Tags": tags_type}
    canonical = billing_sql.canonical_queries(
        focus.SHAPE, columns, date(2024, 9, 1), date(2024, 10, 1)
    )
    daily = billing_sql.render(canonical["daily"], dialect, ("a", "b"))
    assert expected in daily
    if dialect != "duckdb":
        assert "TO_JSON(" not in daily.replace("TO_JSON_STRING(", "")
    sqlglot.parse_one(daily, read=dialect)


def test_the_table_is_swapped_in_the_tree_not_pasted() -> None:
    # A name that would break out of its quotes stays one quoted identifier.
    sql = billing_sql.render(f"SELECT 1 AS x FROM {EXPORT_TABLE}", "trino", ('db"; DROP', "t"))
    tree = sqlglot.parse_one(sql, read="trino")
    assert isinstance(tree, sqlglot.exp.Select)
    (table,) = tree.find_all(sqlglot.exp.Table)
    assert (table.db, table.name) == ('db"; DROP', "t")


# ---------------------------------------------------------------- refusals, one line each


class CountingEngine:
    """A DuckDB engine that counts the queries it runs."""

    def __init__(self, path: Path, estimate: int | None = None) -> None:
        self.inner = open_engine(f"duckdb://{path}")
        self.estimate = estimate
        self.fetched = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def estimate_bytes(self, sql: str) -> int | None:
        return self.estimate if self.estimate is not None else self.inner.estimate_bytes(sql)

    def fetch(self, sql: str) -> pl.DataFrame:
        self.fetched += 1
        return self.inner.fetch(sql)


def test_a_scan_over_budget_is_refused_before_any_query_runs(tmp_path: Path) -> None:
    path = pushdown_data.write(tmp_path / "focus.parquet", count=4, hours=24)
    engine = CountingEngine(path, estimate=3 * 10**9)
    with pytest.raises(UsageError) as refused:
        billing_sql.rollup_from_engine(engine, *ALL_TIME, None, max_scan_bytes=10 * 10**9)  # type: ignore[arg-type]
    message = str(refused.value)
    assert "\n" not in message
    assert "12.00 GB" in message and "10.00 GB" in message and "--max-scan-gb" in message
    assert engine.fetched == 0


def test_an_estimate_within_budget_runs(tmp_path: Path) -> None:
    path = pushdown_data.write(tmp_path / "focus.parquet", count=4, hours=24)
    engine = CountingEngine(path, estimate=2 * 10**9)
    heard: list[str] = []
    _rollup, stats = billing_sql.rollup_from_engine(
        engine,
        *ALL_TIME,
        None,
        max_scan_bytes=8 * 10**9,
        announce=heard.append,  # type: ignore[arg-type]
    )
    assert engine.fetched == 4
    assert stats.bytes_estimated == 8 * 10**9
    assert len(heard) == 1 and "8.00 GB" in heard[0]


def test_a_table_of_no_known_shape_is_one_line_naming_what_it_lacks(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pushdown_data.frame(count=2, hours=2).drop("BilledCost", "ChargeClass").write_parquet(path)
    with pytest.raises(InputFileError) as refused:
        pushed_rollup(path)
    message = str(refused.value)
    assert message.startswith(f"duckdb://{path}: not a billing export costscan reads (focus")
    assert message.endswith("; as focus it lacks BilledCost, ChargeClass")
    assert "\n" not in message


def test_a_table_far_from_every_shape_is_one_line_naming_the_shapes(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pl.DataFrame({"cost": [1.0], "day": [date(2024, 9, 1)]}).write_parquet(path)
    with pytest.raises(InputFileError) as refused:
        pushed_rollup(path)
    known = ", ".join(shape.name for shape in shapes())
    assert str(refused.value) == f"duckdb://{path}: not a billing export costscan reads ({known})"


@pytest.mark.parametrize(
    "uri",
    ["duckdb://", "duckdb:///no/such/folder", "duckdb:///no/such/*.parquet"],
)
def test_a_bad_duckdb_uri_is_one_line(uri: str) -> None:
    with pytest.raises(InputFileError) as refused:
        open_engine(uri)
    assert str(refused.value).startswith(uri)
    assert "\n" not in str(refused.value)


def test_the_duckdb_engine_runs_nothing_but_a_select(tmp_path: Path) -> None:
    path = pushdown_data.write(tmp_path / "focus.parquet", count=2, hours=2)
    engine = open_engine(f"duckdb://{path}")
    with pytest.raises(InputFileError, match="one SELECT"):
        engine.fetch(f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'")
    with pytest.raises(InputFileError, match="one SELECT"):
        engine.fetch("SELECT 1; SELECT 2")
    assert not (tmp_path / "x.csv").exists()


# ---------------------------------------------------------------- the engine by URI scheme


def test_open_engine_picks_the_module_by_scheme(tmp_path: Path) -> None:
    path = pushdown_data.write(tmp_path / "focus.parquet", count=2, hours=2)
    engine = pushdown.open_engine(f"duckdb://{path}")
    assert (engine.dialect, engine.usd_per_tib) == ("duckdb", 0.0)
    assert pushdown.scheme_of(str(path)) is None
    assert pushdown.scheme_of("ATHENA://db.t") == "athena"


def test_an_unknown_scheme_is_one_line_naming_the_ones_there_are() -> None:
    with pytest.raises(InputFileError) as refused:
        pushdown.open_engine("snowflake://db.schema.table")
    message = str(refused.value)
    assert message.startswith("--billing snowflake://db.schema.table: snowflake://")
    assert "athena://" in message and "bigquery://" in message and "\n" not in message


def test_a_missing_sdk_is_one_line_with_its_pip_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = pushdown._installed
    monkeypatch.setattr(pushdown, "_installed", lambda name: name != "duckdb" and real(name))
    with pytest.raises(UsageError) as refused:
        pushdown.open_engine("duckdb:///x.parquet")
    assert str(refused.value) == (
        "--billing duckdb:// needs the DuckDB: pip install 'costscan[duckdb]' (duckdb is missing)"
    )
