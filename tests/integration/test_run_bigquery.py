"""`costscan run --billing bigquery://...` against the tests' fake BigQuery (the real
google-cloud-bigquery client, queries run by DuckDB over the same Parquet): the same
findings and totals to the cent as `--billing FILE` over the same data, for a FOCUS table
and for GCP's own (nested) billing export; the report states what BigQuery scanned; a
budget, a missing table and a denied query are one line and exit 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from costscan.scanner.app.cli import main
from tests.bigquery_fake import MIN_BILLED_PER_TABLE, FakeBigQuery
from tests.gcp_bigquery_export import CREDIT, LABEL
from tests.integration.test_run_pushdown import assert_same_report, report
from tests.scanner import pushdown_data

PROJECT = "billing-proj"
FOCUS_TABLE = f"{PROJECT}.billing.focus_v1"
GCP_TABLE = f"{PROJECT}.billing.gcp_billing_export_resource_v1_01A2B3"
COUNT, HOURS = 24, 61 * 24


def gcp_export(focus: pl.DataFrame) -> pl.DataFrame:
    """The FOCUS twin's charges as GCP's detailed export holds them: committed use billed
    at list with a committed-use credit bringing it to the effective cost."""
    committed = pl.col("CommitmentDiscountId").is_not_null()
    credit = pl.struct(
        pl.lit("Committed use discount").alias("name"),
        (pl.col("EffectiveCost") - pl.col("ListCost")).alias("amount"),
        pl.lit(None, dtype=pl.String).alias("full_name"),
        pl.col("CommitmentDiscountId").alias("id"),
        pl.when(pl.col("CommitmentDiscountCategory") == "Spend")
        .then(pl.lit("COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE"))
        .otherwise(pl.lit("COMMITTED_USAGE_DISCOUNT"))
        .alias("type"),
    )
    tags = pl.col("Tags").str.json_decode(pl.Struct({"env": pl.String, "owner": pl.String}))
    labels = pl.concat_list(
        pl.struct(pl.lit(key).alias("key"), tags.struct.field(key).alias("value"))
        for key in ("env", "owner")
    ).list.eval(pl.element().filter(pl.element().struct.field("value").is_not_null()))
    return focus.select(
        pl.col("BillingAccountId").alias("billing_account_id"),
        pl.struct(pl.col("SkuId").alias("id"), pl.col("ServiceName").alias("description")).alias(
            "service"
        ),
        pl.struct(
            pl.col("SkuId").alias("id"), pl.col("ChargeDescription").alias("description")
        ).alias("sku"),
        pl.col("ChargePeriodStart").alias("usage_start_time"),
        pl.col("ChargePeriodEnd").alias("usage_end_time"),
        pl.struct(pl.col("SubAccountId").alias("id"), pl.col("SubAccountId").alias("name")).alias(
            "project"
        ),
        labels.cast(pl.List(LABEL)).alias("labels"),
        pl.struct(pl.col("RegionId").alias("location"), pl.col("RegionId").alias("region")).alias(
            "location"
        ),
        pl.struct(
            pl.col("ResourceName").alias("name"), pl.col("ResourceId").alias("global_name")
        ).alias("resource"),
        (pl.col("ChargePeriodStart") + pl.duration(hours=3)).alias("export_time"),
        pl.when(committed).then(pl.col("ListCost")).otherwise(pl.col("BilledCost")).alias("cost"),
        pl.col("BillingCurrency").alias("currency"),
        pl.struct(
            pl.col("ConsumedQuantity").alias("amount"),
            pl.col("ConsumedUnit").alias("unit"),
            pl.col("PricingQuantity").alias("amount_in_pricing_units"),
            pl.col("PricingUnit").alias("pricing_unit"),
        ).alias("usage"),
        pl.when(committed)
        .then(pl.concat_list(credit))
        .otherwise(pl.lit([], dtype=pl.List(CREDIT)))
        .cast(pl.List(CREDIT))
        .alias("credits"),
        pl.struct(pl.col("BillingPeriodStart").dt.strftime("%Y%m").alias("month")).alias("invoice"),
        pl.lit("regular").alias("cost_type"),
        pl.col("ListCost").alias("cost_at_list"),
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bq-run")
    focus = pushdown_data.write(folder / "focus.parquet", count=COUNT, hours=HOURS)
    gcp = folder / "gcp_billing_export.parquet"
    gcp_export(pl.read_parquet(focus)).write_parquet(gcp)
    return {"focus": focus, "gcp": gcp}


@pytest.fixture
def fake(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBigQuery]:
    with FakeBigQuery() as server:
        server.add_table(FOCUS_TABLE, files["focus"], partition=None)
        server.add_table(GCP_TABLE, files["gcp"], partition_time="date_trunc('day', export_time)")
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        yield server


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--provider", "focus", *args])
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


def local_and_bigquery(
    path: Path, table: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    return local_and_pushed(path, f"bigquery://{table}", tmp_path, capsys)


def local_and_pushed(
    path: Path, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    local_out, pushed_out = tmp_path / "local", tmp_path / "bigquery"
    code, err = run(["--billing", str(path), "--output-dir", str(local_out), "--format", "json"],
                    capsys)  # fmt: skip
    assert code == 0, err
    code, err = run(
        [
            "--billing",
            uri,
            "--billing-period",
            "2024-09:2024-10",
            "--max-scan-gb",
            "1",
            "--output-dir",
            str(pushed_out),
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, err
    return report(local_out), report(pushed_out)


@pytest.mark.parametrize(("kind", "table"), [("focus", FOCUS_TABLE), ("gcp", GCP_TABLE)])
def test_bigquery_gives_the_local_findings_and_totals(
    kind: str,
    table: str,
    files: dict[str, Path],
    fake: FakeBigQuery,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    local, pushed = local_and_bigquery(files[kind], table, tmp_path, capsys)
    assert len(local["findings"]) >= 3
    assert_same_report(local, pushed)
    block = pushed["summary"]["spend"]["pushdown"]
    assert block["engine"] == "bigquery"
    assert block["shape"] == ("focus" if kind == "focus" else "gcp_bigquery")
    # Four queries, each priced by a dry run before any ran, then each run once.
    dry = [q for q in fake.queries if q.dry_run]
    ran = [q for q in fake.queries if not q.dry_run]
    assert len(dry) == len(ran) == 4
    assert [q.sql for q in dry] == [q.sql for q in ran]
    assert all(f"`{table.replace('.', '`.`')}`" in q.sql for q in ran)
    assert block["bytes_scanned"] >= 4 * MIN_BILLED_PER_TABLE
    assert block["bytes_estimated"] > 0


def test_the_gcp_export_in_duckdb_gives_the_local_findings_and_totals(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same shape over the nested Parquet in DuckDB (duckdb://), no BigQuery at all."""
    local, pushed = local_and_pushed(files["gcp"], f"duckdb://{files['gcp']}", tmp_path, capsys)
    assert len(local["findings"]) >= 3
    assert_same_report(local, pushed)
    assert pushed["summary"]["spend"]["pushdown"]["shape"] == "gcp_bigquery"


def test_the_gcp_export_is_pruned_to_the_periods_partitions(
    files: dict[str, Path], fake: FakeBigQuery, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, err = run(
        ["--billing", f"bigquery://{GCP_TABLE}", "--billing-period", "2024-10",
         "--output-dir", str(out), "--format", "json"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    project, dataset, name = GCP_TABLE.split(".")
    whole = fake.tables[(project, dataset, name)].size_bytes
    block = report(out)["summary"]["spend"]["pushdown"]
    # October's invoice reads the partitions loaded from 30 September: about half.
    assert 0 < block["bytes_estimated"] < 4 * whole * 0.6
    assert all("_PARTITIONTIME >= " in q.sql for q in fake.queries)


def test_a_scan_over_budget_is_one_line_and_runs_nothing(
    fake: FakeBigQuery, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(
        ["--billing", f"bigquery://{GCP_TABLE}", "--billing-period", "2024-09",
         "--max-scan-gb", "0.000001", "--output-dir", str(tmp_path / "out")],
        capsys,
    )  # fmt: skip
    assert code == 2
    (line,) = err.strip().splitlines()
    assert f"bigquery://{GCP_TABLE}: the queries would scan" in line
    assert fake.queries and all(q.dry_run for q in fake.queries)


@pytest.mark.parametrize(
    ("table", "deny", "expected"),
    [
        (f"{PROJECT}.billing.nope", None, "not found"),
        (GCP_TABLE, "table", "access denied"),
        (GCP_TABLE, "jobs", "bigquery.jobs.create"),
    ],
)
def test_a_missing_table_or_denied_query_is_one_line_and_exit_2(
    table: str,
    deny: str | None,
    expected: str,
    fake: FakeBigQuery,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if deny == "table":
        fake.deny_table(table)
    elif deny == "jobs":
        fake.deny_jobs(PROJECT)
    out = tmp_path / "out"
    code, err = run(["--billing", f"bigquery://{table}", "--output-dir", str(out)], capsys)
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("costscan: error: ") and f"bigquery://{table}" in line
    assert expected in line
    assert not list(out.glob("costscan-*"))
    assert json.dumps(err)  # plain text, no traceback
