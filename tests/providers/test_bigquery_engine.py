"""The BigQuery engine through google-cloud-bigquery's real client, against the tests' fake
BigQuery (tests/bigquery_fake.py: its REST API answered by DuckDB over Parquet)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
import sqlglot
from sqlglot import exp

from costscan.providers.exports import bigquery
from costscan.providers.exports.read import read_billing
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.billing_query import EXPORT_TABLE
from costscan.scanner.contracts.errors import InputFileError, ReadOnlyViolation
from costscan.scanner.pipeline.billing_shapes import gcp_bigquery
from tests import gcp_bigquery_export as export
from tests.bigquery_fake import MIN_BILLED_PER_TABLE, FakeBigQuery

TABLE = "billing-proj.billing_export.gcp_billing_export_resource_v1_01A2B3"
URI = f"bigquery://{TABLE}"
SIZE = 3 << 30  # what a full scan of the export reads, as the fake says: 3 GiB
ROWS = 240


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export.write_nested(tmp_path_factory.mktemp("bq") / "export.parquet", count=ROWS)


@pytest.fixture
def fake(parquet: Path) -> Iterator[FakeBigQuery]:
    with FakeBigQuery() as server:
        server.add_table(
            TABLE, parquet, partition_time="date_trunc('day', export_time)", size_bytes=SIZE
        )
        server.add_table("billing-proj.billing_export.by_column", parquet,
                         partition="usage_start_time")  # fmt: skip
        server.add_table("billing-proj.billing_export.plain", parquet, partition=None)
        yield server


@pytest.fixture
def engine(fake: FakeBigQuery) -> bigquery.BigQueryEngine:
    return bigquery.open_engine(URI, fake.environment())


def _api(fake: FakeBigQuery, kind: str) -> list[str]:
    """The paths of the requests of one kind the fake received."""
    marks = {"results": "/queries/", "insert": "/jobs", "table": "/tables/"}
    return [
        r.path
        for r in fake.requests
        if marks[kind] in r.path and (kind != "insert" or r.method == "POST")
    ]


def test_engine_names_its_table_dialect_and_price(engine: bigquery.BigQueryEngine) -> None:
    assert engine.uri == URI
    assert engine.dialect == "bigquery"
    assert engine.table_parts() == (
        "billing-proj",
        "billing_export",
        "gcp_billing_export_resource_v1_01A2B3",
    )
    # On-demand: $6.25 per TiB (https://cloud.google.com/bigquery/pricing).
    assert engine.usd_per_tib == 6.25
    assert engine.bytes_scanned == 0


def test_columns_are_the_tables_top_level_fields_in_bigquery_types(
    engine: bigquery.BigQueryEngine,
) -> None:
    columns = engine.columns()
    assert columns["billing_account_id"] == "string"
    assert columns["cost"] == "float64"
    assert columns["usage_start_time"] == "timestamp"
    assert columns["service"] == "struct<id string, description string>"
    assert columns["labels"] == "array<struct<key string, value string>>"
    assert columns["credits"] == (
        "array<struct<name string, amount float64, full_name string, id string, type string>>"
    )
    # The ingestion-time pseudo-column is not a field, as in BigQuery.
    assert "_PARTITIONTIME" not in columns
    assert set(export.rows(1)[0]) == set(columns)


def test_partition_columns_follow_the_tables_time_partitioning(fake: FakeBigQuery) -> None:
    env = fake.environment()
    assert bigquery.open_engine(URI, env).partition_columns() == ("_PARTITIONTIME",)
    by_column = bigquery.open_engine("bigquery://billing-proj.billing_export.by_column", env)
    assert by_column.partition_columns() == ("usage_start_time",)
    plain = bigquery.open_engine("bigquery://billing-proj.billing_export.plain", env)
    assert plain.partition_columns() == ()


def test_dry_run_estimates_the_bytes_and_reads_no_rows(
    engine: bigquery.BigQueryEngine, fake: FakeBigQuery, parquet: Path
) -> None:
    whole = f"SELECT SUM(cost) AS cost FROM `{TABLE}`"
    assert engine.estimate_bytes(whole) == SIZE
    pruned = f"{whole} WHERE _PARTITIONTIME >= TIMESTAMP '2024-09-10 00:00:00+00'"
    # The partitions kept hold this share of the rows (counted here, in DuckDB itself).
    kept = (
        duckdb.connect()
        .execute(
            f"SELECT count(*) FROM read_parquet('{parquet}') "
            "WHERE date_trunc('day', export_time) >= TIMESTAMPTZ '2024-09-10 00:00:00+00'"
        )
        .fetchone()
    )
    assert kept is not None and 0 < kept[0] < ROWS
    assert engine.estimate_bytes(pruned) == math.ceil(SIZE * kept[0] / ROWS)
    dry = [q for q in fake.queries if q.dry_run]
    assert len(dry) == 2 and all(q.configuration["query"]["useQueryCache"] is False for q in dry)
    assert _api(fake, "results") == []
    assert engine.bytes_scanned == 0  # a dry run is free


def test_fetch_reads_every_page(engine: bigquery.BigQueryEngine, fake: FakeBigQuery) -> None:
    engine.page_size = 50
    got = engine.fetch(
        f"SELECT sku.id AS sku, cost FROM `{TABLE}` ORDER BY usage_start_time, sku.id, cost"
    )
    want = pl.DataFrame(export.rows(ROWS)).select(
        pl.col("sku").struct.field("id").alias("sku"), "cost", "usage_start_time"
    )
    want = want.sort("usage_start_time", "sku", "cost").drop("usage_start_time")
    assert got.height == ROWS
    assert got.equals(want)
    # 240 rows in pages of 50: five getQueryResults calls, each asking for 50.
    pages = [r for r in fake.requests if "/queries/" in r.path]
    assert len(pages) == math.ceil(ROWS / 50)
    assert all("maxResults=50" in r.query for r in pages)
    assert sum("pageToken=" in r.query for r in pages) == len(pages) - 1


def test_fetch_types_columns_from_the_result_schema(engine: bigquery.BigQueryEngine) -> None:
    got = engine.fetch(
        "SELECT 7 AS i, 1.5 AS f, CAST('12.25' AS NUMERIC) AS n, "
        "TIMESTAMP '2024-09-01 10:30:00+00' AS ts, DATE '2024-09-02' AS d, TRUE AS b, "
        "'x' AS s, CAST(NULL AS INT64) AS none_int, STRUCT(1 AS a, 'b' AS c) AS rec"
    )
    assert got.schema == pl.Schema(
        {
            "i": pl.Int64(),
            "f": pl.Float64(),
            "n": pl.Float64(),
            "ts": pl.Datetime("us", "UTC"),
            "d": pl.Date(),
            "b": pl.Boolean(),
            "s": pl.String(),
            "none_int": pl.Int64(),
            "rec": pl.String(),
        }
    )
    row = got.row(0, named=True)
    assert row["i"] == 7 and row["f"] == 1.5 and row["n"] == 12.25
    assert row["ts"] == datetime(2024, 9, 1, 10, 30, tzinfo=UTC)
    assert row["d"] == date(2024, 9, 2) and row["b"] is True and row["s"] == "x"
    assert row["none_int"] is None
    assert json.loads(row["rec"]) == {"a": 1, "c": "b"}


def test_an_empty_result_keeps_its_typed_columns(engine: bigquery.BigQueryEngine) -> None:
    got = engine.fetch(f"SELECT cost, usage_start_time FROM `{TABLE}` WHERE cost < 0")
    assert got.height == 0
    assert got.schema == pl.Schema(
        {"cost": pl.Float64(), "usage_start_time": pl.Datetime("us", "UTC")}
    )


def test_the_sql_sent_is_the_sql_given_and_writes_nothing(
    engine: bigquery.BigQueryEngine, fake: FakeBigQuery
) -> None:
    sql = f"SELECT COUNT(*) AS n FROM `{TABLE}`"
    assert engine.fetch(sql)["n"].to_list() == [ROWS]
    sent = [q for q in fake.queries if not q.dry_run]
    assert [q.sql for q in sent] == [sql]
    query = sent[0].configuration["query"]
    assert set(query) <= bigquery.ALLOWED_QUERY_KEYS
    assert "destinationTable" not in query and "writeDisposition" not in query
    assert query["useLegacySql"] is False
    assert {r.method for r in fake.requests} == {"GET", "POST"}
    assert all(r.path.endswith("/jobs") for r in fake.requests if r.method == "POST")


def test_bytes_scanned_adds_what_each_query_billed(
    engine: bigquery.BigQueryEngine,
) -> None:
    engine.fetch(f"SELECT SUM(cost) AS c FROM `{TABLE}`")
    assert engine.bytes_scanned == SIZE  # 3 GiB, a whole number of MiB
    engine.fetch("SELECT 1 AS one")  # no table: BigQuery bills nothing
    engine.fetch(f"SELECT 1 AS one FROM `{TABLE}` WHERE _PARTITIONTIME < TIMESTAMP '2000-01-01'")
    # A query reading no partition still bills BigQuery's 10 MB minimum for its table.
    assert engine.bytes_scanned == SIZE + MIN_BILLED_PER_TABLE


def _render(sql: str, parts: tuple[str, ...]) -> str:
    """A shape's DuckDB SQL for BigQuery, its export table named as the engine names it."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    for table in tree.find_all(exp.Table):
        if table.name == EXPORT_TABLE:
            table.replace(exp.table_(parts[2], parts[1], parts[0], quoted=True))
    return tree.sql(dialect="bigquery")


def test_the_gcp_shape_in_bigquery_gives_the_local_line_items(
    engine: bigquery.BigQueryEngine, fake: FakeBigQuery, parquet: Path
) -> None:
    engine.page_size = 64
    where = gcp_bigquery.period_filter(
        date(2024, 9, 1), date(2024, 10, 1), engine.partition_columns()
    )
    sql = _render(
        f"{gcp_bigquery.line_items(engine.columns())} WHERE {where}", engine.table_parts()
    )
    estimate = engine.estimate_bytes(sql)
    assert estimate is not None and 0 < estimate < SIZE  # August's partitions pruned
    got = engine.fetch(sql).sort("ChargePeriodStart", "SkuId", "BilledCost")
    september = datetime(2024, 9, 1, tzinfo=UTC)
    want = (
        read_billing([str(parquet)])
        .scan.filter(pl.col("BillingPeriodStart") == september)
        .collect()
        .sort("ChargePeriodStart", "SkuId", "BilledCost")
    )
    assert got.height == want.height > 0
    for column, dtype in schema.BILLING.items():
        if dtype == pl.Float64():
            assert ((got[column] - want[column]).abs().fill_null(0.0) < 1e-9).all(), column
        else:
            assert got[column].cast(dtype).to_list() == want[column].to_list(), column
    assert fake.queries[-1].sql == sql


# ---------------------------------------------------------------------- errors, one line


def _one_line(exc: pytest.ExceptionInfo[InputFileError], uri: str) -> str:
    message = str(exc.value)
    assert "\n" not in message
    assert uri in message
    return message


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("bigquery://billing-proj.billing_export", "PROJECT.DATASET.TABLE"),
        ("bigquery://a..b", "PROJECT.DATASET.TABLE"),
        ("bigquery://a.b.c.d", "PROJECT.DATASET.TABLE"),
        ("bigquery://a.b.c?workgroup=x", "unknown parameter 'workgroup'"),
        ("athena://db.table", "not a BigQuery table URI"),
    ],
)
def test_a_bad_uri_is_one_line(uri: str, says: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bigquery, "RETRY_SECONDS", 1.0)
    with pytest.raises(InputFileError) as exc:
        bigquery.open_engine(uri, {"COSTSCAN_BIGQUERY_ENDPOINT": "http://127.0.0.1:9"})
    assert says in _one_line(exc, uri)


def test_uri_parameters_choose_location_and_billing_project() -> None:
    parsed = bigquery.parse_uri(f"{URI}?location=EU&billing_project=finops-jobs")
    assert (parsed.project, parsed.location, parsed.billing_project) == (
        "billing-proj",
        "EU",
        "finops-jobs",
    )
    domain = bigquery.parse_uri("bigquery://example.com:proj.ds.tbl")
    assert (domain.project, domain.dataset, domain.table) == ("example.com:proj", "ds", "tbl")


def test_the_billing_project_runs_the_jobs(fake: FakeBigQuery) -> None:
    engine = bigquery.open_engine(f"{URI}?billing_project=finops-jobs", fake.environment())
    engine.fetch(f"SELECT 1 AS one FROM `{TABLE}` LIMIT 1")
    assert [q.project for q in fake.queries] == ["finops-jobs"]


def test_a_missing_table_is_one_line(fake: FakeBigQuery) -> None:
    uri = "bigquery://billing-proj.billing_export.nope"
    with pytest.raises(InputFileError) as exc:
        bigquery.open_engine(uri, fake.environment())
    assert "not found" in _one_line(exc, uri)


def test_a_denied_table_is_one_line_naming_the_permissions(fake: FakeBigQuery) -> None:
    fake.deny_table(TABLE)
    with pytest.raises(InputFileError) as exc:
        bigquery.open_engine(URI, fake.environment())
    message = _one_line(exc, URI)
    assert "access denied" in message and "bigquery.tables.getData" in message


def test_a_denied_query_is_one_line(engine: bigquery.BigQueryEngine, fake: FakeBigQuery) -> None:
    fake.deny_jobs("billing-proj")
    with pytest.raises(InputFileError) as exc:
        engine.estimate_bytes(f"SELECT cost FROM `{TABLE}`")
    assert "bigquery.jobs.create" in _one_line(exc, URI)
    with pytest.raises(InputFileError) as exc:
        engine.fetch(f"SELECT cost FROM `{TABLE}`")
    _one_line(exc, URI)


def test_a_failed_job_is_one_line(engine: bigquery.BigQueryEngine) -> None:
    with pytest.raises(InputFileError) as exc:
        engine.fetch(f"SELECT no_such_column FROM `{TABLE}`")
    assert "failed" in _one_line(exc, URI)


def test_an_unreachable_endpoint_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bigquery, "RETRY_SECONDS", 1.0)
    with pytest.raises(InputFileError) as exc:
        bigquery.open_engine(URI, {"COSTSCAN_BIGQUERY_ENDPOINT": "http://127.0.0.1:9"})
    _one_line(exc, URI)


@pytest.mark.parametrize(
    "sql",
    [
        f"DELETE FROM `{TABLE}` WHERE TRUE",
        f"CREATE TABLE x.y AS SELECT * FROM `{TABLE}`",
        f"SELECT 1; DROP TABLE `{TABLE}`",
        "EXPORT DATA OPTIONS(uri='gs://b/*.csv', format='CSV') AS SELECT 1",
        "not sql at all (",
    ],
)
def test_anything_but_one_select_is_refused_before_sending(
    engine: bigquery.BigQueryEngine, fake: FakeBigQuery, sql: str
) -> None:
    sent = len(fake.requests)
    for call in (engine.fetch, engine.estimate_bytes):
        with pytest.raises(InputFileError) as exc:
            call(sql)
        _one_line(exc, URI)
    assert len(fake.requests) == sent


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/bigquery/v2/projects/p/datasets/d/tables/t", None),
        ("PATCH", "/bigquery/v2/projects/p/datasets/d/tables/t", "{}"),
        ("POST", "/bigquery/v2/projects/p/datasets", "{}"),
        ("POST", "/bigquery/v2/projects/p/jobs/j/cancel", None),
        ("POST", "/bigquery/v2/projects/p/jobs",
         json.dumps({"configuration": {"query": {"query": "SELECT 1",
                     "destinationTable": {"projectId": "p", "datasetId": "d", "tableId": "t"},
                     "writeDisposition": "WRITE_TRUNCATE"}}})),
        ("POST", "/bigquery/v2/projects/p/jobs",
         json.dumps({"configuration": {"copy": {}}})),
        ("POST", "/bigquery/v2/projects/p/jobs",
         json.dumps({"configuration": {"query": {"query": "DROP TABLE d.t"}}})),
    ],
)  # fmt: skip
def test_the_session_refuses_every_write(method: str, path: str, body: str | None) -> None:
    with pytest.raises(ReadOnlyViolation):
        bigquery.guard_request(method, path, body)


def test_the_engines_own_client_cannot_write(
    engine: bigquery.BigQueryEngine, fake: FakeBigQuery
) -> None:
    """The guard sits on the session the engine's client sends through: a write the
    client offers is refused before a byte leaves (the fake never sees it)."""
    client = engine._client
    with pytest.raises(ReadOnlyViolation):
        client.delete_table(TABLE)
    with pytest.raises(ReadOnlyViolation):
        client.query(f"SELECT * FROM `{TABLE}`", job_config=_destination_config())
    assert {r.method for r in fake.requests} == {"GET"}  # the table lookup alone


def _destination_config() -> object:
    from google.cloud.bigquery import QueryJobConfig

    return QueryJobConfig(
        destination="billing-proj.billing_export.copy", write_disposition="WRITE_TRUNCATE"
    )


def test_no_credentials_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing-key.json"))
    with pytest.raises(InputFileError) as exc:
        bigquery.open_engine(URI, {})
    assert "no Google Cloud credentials" in _one_line(exc, URI)


def test_the_session_lets_reads_and_select_jobs_through() -> None:
    bigquery.guard_request("GET", "/bigquery/v2/projects/p/queries/j", None)
    job = {"configuration": {"query": {"query": "SELECT 1", "useLegacySql": False},
                             "dryRun": True}}  # fmt: skip
    bigquery.guard_request("POST", "/bigquery/v2/projects/p/jobs", json.dumps(job))
