"""The Athena engine (providers/exports/athena.py) against moto in server mode.

Glue's table and partitions and the S3 objects under them are seeded through the APIs;
query results are set through moto's own API (POST /moto-api/static/athena/query-results),
and ``AthenaFront`` pages them as Athena does and fails the queries a test asks it to.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pytest

from costscan.providers.aws.session import (
    ClientFactory,
    client_config,
    guarded_session,
    is_read_operation,
)
from costscan.providers.exports import athena
from costscan.scanner.contracts.errors import InputFileError, ReadOnlyViolation
from tests.moto_server import RecordingMotoServer
from tests.providers.athena_front import AthenaFront
from tests.read_only import request_is_read

REGION = "us-east-1"
OUTPUT = "s3://costscan-results/athena/"
URI = f"athena://billing.cur2?workgroup=finops&output={OUTPUT}"
EXPORT = "s3://cur-exports/cur2/data"
# Object sizes per billing period partition (several objects in one).
SIZES = {"2024-09": (1_000, 2_345), "2024-10": (7_000,), "2024-11": (50, 60, 70)}
COLUMNS = {
    "line_item_line_item_type": "string",
    "line_item_unblended_cost": "double",
    "line_item_usage_start_date": "timestamp",
    "line_item_usage_account_id": "string",
    "resource_tags": "map<string,string>",
}


@pytest.fixture
def front(moto: RecordingMotoServer) -> Iterator[AthenaFront]:
    layer = AthenaFront(moto.endpoint_url)
    layer.start()
    yield layer
    layer.stop()


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(athena, "FIRST_POLL", 0.01)


def _seeder(endpoint_url: str, service: str) -> Any:
    """An unguarded client: the test seeds what the account holds."""
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint_url)


def _seed(front: AthenaFront, *, partitioned: bool = True) -> None:
    endpoint_url = front.moto_url
    s3 = _seeder(endpoint_url, "s3")
    for bucket in ("cur-exports", "costscan-results"):
        s3.create_bucket(Bucket=bucket)
    glue = _seeder(endpoint_url, "glue")
    glue.create_database(DatabaseInput={"Name": "billing"})
    columns = [{"Name": n, "Type": t} for n, t in COLUMNS.items()]
    table: dict[str, Any] = {
        "Name": "cur2",
        "StorageDescriptor": {"Columns": columns, "Location": f"{EXPORT}/"},
        "TableType": "EXTERNAL_TABLE",
    }
    if partitioned:
        table["PartitionKeys"] = [{"Name": "billing_period", "Type": "string"}]
    glue.create_table(DatabaseName="billing", TableInput=table)
    for period, sizes in SIZES.items():
        location = f"{EXPORT}/BILLING_PERIOD={period}"
        for n, size in enumerate(sizes):
            key = f"cur2/data/BILLING_PERIOD={period}/part-{n}.snappy.parquet"
            s3.put_object(Bucket="cur-exports", Key=key, Body=b"x" * size)
        if partitioned:
            glue.create_partition(
                DatabaseName="billing",
                TableName="cur2",
                PartitionInput={
                    "Values": [period],
                    "StorageDescriptor": {"Columns": columns, "Location": location},
                },
            )
    # Another export beside it, under a longer prefix: never counted.
    s3.put_object(Bucket="cur-exports", Key="cur2/data-old/part-0.parquet", Body=b"x" * 999)
    _seeder(front.endpoint_url, "athena").create_work_group(Name="finops")


def _set_results(endpoint_url: str, *results: dict[str, Any]) -> None:
    body = json.dumps({"region": REGION, "results": list(results)}).encode()
    request = urllib.request.Request(
        f"{endpoint_url}/moto-api/static/athena/query-results",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 201


def _result(header: list[str], types: list[str], rows: list[list[str | None]]) -> dict[str, Any]:
    def row(values: list[str | None]) -> dict[str, Any]:
        return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}

    return {
        "rows": [row(list(header)), *(row(r) for r in rows)],
        "column_info": [
            {"Name": name.lower(), "Label": name.lower(), "Type": kind}
            for name, kind in zip(header, types, strict=True)
        ],
    }


def _engine(front: AthenaFront, uri: str = URI) -> athena.AthenaEngine:
    return athena.open_engine(uri, endpoint_url=front.endpoint_url)


# ------------------------------------------------------------------ the table


def test_columns_and_partitions_come_from_glue(front: AthenaFront) -> None:
    _seed(front)
    engine = _engine(front)
    assert dict(engine.columns()) == {**COLUMNS, "billing_period": "string"}
    assert engine.partition_columns() == ("billing_period",)
    assert engine.table_parts() == ("billing", "cur2")
    # Glue's names are lower case; the URI may spell them otherwise.
    assert _engine(front, URI.replace("billing.cur2", "Billing.CUR2")).table_parts() == (
        "billing",
        "cur2",
    )
    assert engine.dialect == "trino"
    assert engine.usd_per_tib == 5.0


# ------------------------------------------------------------------ estimates


@pytest.mark.parametrize(
    ("where", "periods"),
    [
        ("\"billing_period\" IN ('2024-10')", ["2024-10"]),
        ("billing_period = '2024-09' AND line_item_unblended_cost > 0", ["2024-09"]),
        ("billing_period IN ('2024-09', '2024-11')", ["2024-09", "2024-11"]),
        ("billing_period >= '2024-10'", ["2024-10", "2024-11"]),
        ("line_item_unblended_cost > 0", ["2024-09", "2024-10", "2024-11"]),
    ],
)
def test_the_estimate_is_the_bytes_under_the_partitions_read(
    front: AthenaFront, where: str, periods: list[str]
) -> None:
    _seed(front)
    sql = f'SELECT sum(line_item_unblended_cost) AS "total" FROM "billing"."cur2" WHERE {where}'
    expected = sum(sum(SIZES[p]) for p in periods)
    assert _engine(front).estimate_bytes(sql) == expected


def test_each_location_is_listed_once_per_engine(
    front: AthenaFront, moto: RecordingMotoServer
) -> None:
    _seed(front)
    engine = _engine(front)
    sql = "SELECT count(*) AS n FROM billing.cur2 WHERE billing_period = '2024-09'"
    moto.clear_log()
    assert engine.estimate_bytes(sql) == engine.estimate_bytes(sql) == sum(SIZES["2024-09"])
    listings = [r for r in moto.operations() if r.service == "s3"]
    assert len(listings) == 1


def test_an_unpartitioned_table_is_estimated_whole(front: AthenaFront) -> None:
    _seed(front, partitioned=False)
    sql = "SELECT count(*) AS n FROM billing.cur2"
    everything = sum(sum(sizes) for sizes in SIZES.values())
    assert _engine(front).estimate_bytes(sql) == everything


def test_the_cur2_shapes_period_filter_prunes_to_its_months(front: AthenaFront) -> None:
    import sqlglot

    from costscan.scanner.pipeline.billing_shapes import cur2

    _seed(front)
    period = cur2.period_filter(date(2024, 10, 1), date(2024, 11, 1), ("billing_period",))
    sql = sqlglot.transpile(
        f"SELECT count(*) AS n FROM billing.cur2 WHERE {period}", read="duckdb", write="trino"
    )[0]
    assert _engine(front).estimate_bytes(sql) == sum(SIZES["2024-10"])


def test_partition_expression_reads_each_scan_of_the_table() -> None:
    sql = (
        "SELECT a FROM (SELECT a FROM db.cur2 WHERE billing_period = '2024-09' AND x > 1) "
        "UNION ALL SELECT a FROM db.cur2 WHERE billing_period >= '2024-10'"
    )
    assert athena.partition_expression(sql, ("billing_period",), "cur2") == (
        "(billing_period >= '2024-10') OR (billing_period = '2024-09')"
    )
    # A predicate Glue's expressions cannot say is left out: more partitions, never fewer.
    cast = "SELECT a FROM db.cur2 WHERE CAST(billing_period AS DATE) > DATE '2024-09-01'"
    assert athena.partition_expression(cast, ("billing_period",), "cur2") is None
    mixed = cast + " AND billing_period IN ('2024-10', '2024-11')"
    assert athena.partition_expression(mixed, ("billing_period",), "cur2") == (
        "billing_period IN ('2024-10', '2024-11')"
    )
    # One scan without a period predicate reads every partition.
    both = sql + " UNION ALL SELECT a FROM db.cur2"
    assert athena.partition_expression(both, ("billing_period",), "cur2") is None


# ------------------------------------------------------------------ queries


HEADER = ["ResourceId", "day", "cost", "line_items", "first_day", "covered", "note"]
TYPES = ["varchar", "timestamp", "double", "bigint", "date", "boolean", "varchar"]


def _rows(n: int) -> list[list[str | None]]:
    return [
        [
            f"i-{i:05d}",
            f"2024-09-{1 + i % 28:02d} 00:00:00.000",
            f"{i * 0.25:.2f}",
            str(i),
            "2024-09-01",
            "true" if i % 2 else "false",
            None if i % 3 else "x",
        ]
        for i in range(n)
    ]


def test_a_query_is_sent_as_written_and_its_rows_come_back_typed(
    front: AthenaFront, moto: RecordingMotoServer
) -> None:
    _seed(front)
    _set_results(moto.endpoint_url, _result(HEADER, TYPES, _rows(4)))
    engine = _engine(front)
    sql = (
        'SELECT "ResourceId", "day", "cost", "line_items", "first_day", "covered", "note" '
        'FROM "billing"."cur2" WHERE "billing_period" IN (\'2024-09\')'
    )
    frame = engine.fetch(sql)

    (query_id,) = engine.query_ids
    sent = _seeder(front.endpoint_url, "athena").get_query_execution(QueryExecutionId=query_id)
    execution = sent["QueryExecution"]
    assert execution["Query"] == sql
    assert execution["QueryExecutionContext"] == {
        "Database": "billing",
        "Catalog": "AwsDataCatalog",
    }
    assert execution["WorkGroup"] == "finops"
    assert execution["ResultConfiguration"]["OutputLocation"].startswith(OUTPUT)

    assert frame.schema == pl.Schema(
        {
            "ResourceId": pl.String(),
            "day": pl.Datetime("us", "UTC"),
            "cost": pl.Float64(),
            "line_items": pl.Int64(),
            "first_day": pl.Date(),
            "covered": pl.Boolean(),
            "note": pl.String(),
        }
    )
    assert frame.row(1) == (
        "i-00001",
        datetime(2024, 9, 2, tzinfo=UTC),
        0.25,
        1,
        date(2024, 9, 1),
        True,
        None,
    )
    assert frame["note"].to_list() == ["x", None, None, "x"]


def test_every_page_of_the_results_is_read(front: AthenaFront, moto: RecordingMotoServer) -> None:
    _seed(front)
    rows = _rows(2_345)
    _set_results(moto.endpoint_url, _result(HEADER, TYPES, rows))
    frame = _engine(front).fetch(
        'SELECT "ResourceId", "day", "cost", "line_items", "first_day", "covered", "note" '
        'FROM "billing"."cur2"'
    )
    # 2,346 rows with the header, at most 1,000 a page.
    assert front.pages_served == 3
    assert frame.height == 2_345
    assert frame["ResourceId"].to_list() == [r[0] for r in rows]
    assert frame["line_items"].sum() == sum(range(2_345))


def test_an_empty_result_keeps_its_typed_columns(
    front: AthenaFront, moto: RecordingMotoServer
) -> None:
    _seed(front)
    _set_results(moto.endpoint_url, _result(HEADER, TYPES, []))
    frame = _engine(front).fetch(
        'SELECT "ResourceId", "day", "cost", "line_items", "first_day", "covered", "note" '
        'FROM "billing"."cur2"'
    )
    assert frame.height == 0
    assert frame.schema["day"] == pl.Datetime("us", "UTC")
    assert frame.schema["line_items"] == pl.Int64()


def test_bytes_scanned_is_what_athena_bills(front: AthenaFront, moto: RecordingMotoServer) -> None:
    _seed(front)
    front.scanned = {"big": 123_456_789, "small": 5}
    engine = _engine(front)
    engine.fetch("SELECT 1 AS big")
    mib = 1 << 20
    # Rounded up to the megabyte: 117.7 MiB is billed as 118.
    assert engine.bytes_scanned == 118 * mib
    engine.fetch("SELECT 1 AS small")
    # A query is billed 10 MB at least.
    assert engine.bytes_scanned == 118 * mib + 10 * mib


# ------------------------------------------------------------------ errors, one line each


def test_a_uri_names_the_table_workgroup_output_region_and_catalog() -> None:
    full = athena.parse_uri(
        "athena://Billing.CUR2?workgroup=finops&output=s3://r/p/&region=eu-west-1&catalog=lake"
    )
    assert (full.database, full.table, full.workgroup, full.output) == (
        "billing",
        "cur2",
        "finops",
        "s3://r/p/",
    )
    assert (full.region, full.catalog) == ("eu-west-1", "lake")
    plain = athena.parse_uri("athena://billing.cur2?output=s3://r/p")
    assert (plain.workgroup, plain.region, plain.catalog) == ("primary", None, "AwsDataCatalog")


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("athena://billing?output=s3://b/p", "is not DATABASE.TABLE"),
        ("athena://a.b.c?output=s3://b/p", "is not DATABASE.TABLE"),
        ("athena://billing.cur2?workgroup=wg", "output= is missing"),
        ("athena://billing.cur2?output=https://bucket/prefix", "is not an s3:// location"),
        ("athena://billing.cur2?output=s3://", "is not an s3:// location"),
        ("athena://billing.cur2?output=s3://b/p&color=red", "unknown parameter 'color'"),
        ("athena://billing.cur2?output=s3://b/p&output=s3://c/q", "output given twice"),
        ("athena://billing.cur2/extra?output=s3://b/p", "unexpected path"),
        ("bigquery://p.d.t", "not an athena:// URI"),
    ],
)
def test_a_bad_uri_is_one_line_naming_it(uri: str, why: str) -> None:
    with pytest.raises(InputFileError) as raised:
        athena.open_engine(uri)
    message = str(raised.value)
    assert why in message
    assert uri in message
    assert "\n" not in message


def _one_line_error(excinfo: pytest.ExceptionInfo[InputFileError], *parts: str) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    assert URI in message
    for part in parts:
        assert part in message, message
    return message


def test_a_missing_table_or_database_is_one_line(front: AthenaFront) -> None:
    _seed(front)
    missing_table = URI.replace("billing.cur2", "billing.cur3")
    with pytest.raises(InputFileError) as raised:
        _engine(front, missing_table).columns()
    assert "billing.cur3 is not in the Glue Data Catalog" in str(raised.value)
    assert missing_table in str(raised.value)
    missing_db = URI.replace("billing.cur2", "finance.cur2")
    with pytest.raises(InputFileError) as raised:
        _engine(front, missing_db).columns()
    assert "finance.cur2 is not in the Glue Data Catalog" in str(raised.value)


def test_a_denied_query_is_one_line(front: AthenaFront, moto: RecordingMotoServer) -> None:
    _seed(front)
    moto.faults.add("deny", service="athena", operation="POST /query-executions")
    with pytest.raises(InputFileError) as raised:
        _engine(front).fetch("SELECT 1 AS n")
    _one_line_error(raised, "access denied to athena:StartQueryExecution")


def test_a_workgroup_that_writes_results_elsewhere_is_refused_before_any_query(
    front: AthenaFront, moto: RecordingMotoServer
) -> None:
    _seed(front)
    _seeder(front.endpoint_url, "athena").create_work_group(
        Name="locked",
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://someone-elses-bucket/results/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    moto.clear_log()
    locked = URI.replace("workgroup=finops", "workgroup=locked")
    with pytest.raises(InputFileError) as raised:
        _engine(front, locked).fetch("SELECT 1 AS n")
    message = str(raised.value)
    assert "workgroup locked writes every result to s3://someone-elses-bucket/results/" in message
    assert locked in message and "\n" not in message
    assert not [r for r in moto.operations() if r.operation == "POST /query-executions"]
    # The same location named as output= is fine.
    same = locked.replace(OUTPUT, "s3://someone-elses-bucket/results")
    assert _engine(front, same).fetch("SELECT 1 AS n").height == 0


def test_a_denied_listing_names_the_permission(
    front: AthenaFront, moto: RecordingMotoServer
) -> None:
    _seed(front)
    moto.faults.add("deny", service="s3")
    with pytest.raises(InputFileError) as raised:
        _engine(front).estimate_bytes("SELECT count(*) AS n FROM billing.cur2")
    _one_line_error(raised, "access denied to s3:ListBucket")


def test_a_failed_query_gives_athenas_reason(front: AthenaFront, moto: RecordingMotoServer) -> None:
    _seed(front)
    front.failures["nosuchcolumn"] = (
        "COLUMN_NOT_FOUND: line 1:8: Column 'nosuchcolumn' cannot be resolved\nat more"
    )
    engine = _engine(front)
    with pytest.raises(InputFileError) as raised:
        engine.fetch("SELECT nosuchcolumn FROM billing.cur2")
    _one_line_error(raised, "failed: COLUMN_NOT_FOUND", engine.query_ids[0])


def test_a_query_that_never_finishes_stops_at_the_deadline(
    front: AthenaFront, moto: RecordingMotoServer
) -> None:
    _seed(front)
    front.running.add("forever")
    engine = _engine(front)
    never = athena.AthenaEngine(engine.target, engine._client, timeout=0.05)
    with pytest.raises(InputFileError) as raised:
        never.fetch("SELECT 1 AS forever")
    _one_line_error(raised, "did not finish within 0.05 s", "still RUNNING")


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE billing.cur2",
        "INSERT INTO billing.cur2 SELECT * FROM billing.cur2",
        "CREATE TABLE x AS SELECT 1 AS n",
        "UNLOAD (SELECT 1) TO 's3://elsewhere/' WITH (format = 'PARQUET')",
        "SELECT 1; DROP TABLE billing.cur2",
        "SELECT (",
    ],
)
def test_only_a_select_is_ever_sent(
    front: AthenaFront, moto: RecordingMotoServer, sql: str
) -> None:
    _seed(front)
    moto.clear_log()
    with pytest.raises(InputFileError) as raised:
        _engine(front).fetch(sql)
    _one_line_error(raised, "not a single SELECT")
    assert not [r for r in moto.operations() if r.operation == "POST /query-executions"]


# ------------------------------------------------------------------ read-only


@pytest.mark.parametrize(
    ("operation", "allowed"),
    [
        ("StartQueryExecution", True),
        ("GetQueryExecution", True),
        ("GetQueryResults", True),
        ("StopQueryExecution", False),
        ("CreateWorkGroup", False),
        ("DeleteWorkGroup", False),
        ("CreateNamedQuery", False),
        ("UpdateWorkGroup", False),
    ],
)
def test_athena_reads_are_told_apart(operation: str, allowed: bool) -> None:
    assert is_read_operation("athena", operation) is allowed


@pytest.mark.parametrize(
    ("params", "why"),
    [
        (
            {
                "QueryString": "DROP TABLE billing.cur2",
                "ResultConfiguration": {"OutputLocation": OUTPUT},
            },
            "not a single SELECT",
        ),
        (
            {"QueryString": "INSERT INTO t VALUES (1)", "WorkGroup": "finops"},
            "not a single SELECT",
        ),
        ({"QueryString": "SELECT 1", "WorkGroup": "finops"}, "no s3:// output location"),
    ],
)
def test_the_guard_lets_a_select_through_and_nothing_else(
    front: AthenaFront, moto: RecordingMotoServer, params: dict[str, Any], why: str
) -> None:
    factory = ClientFactory(
        guarded_session(), endpoint_url=front.endpoint_url, config=client_config(1)
    )
    client = factory.client("athena", REGION)
    moto.clear_log()
    with pytest.raises(ReadOnlyViolation, match=why):
        client.start_query_execution(**params)
    with pytest.raises(ReadOnlyViolation):
        client.create_work_group(Name="x")
    assert moto.operations() == []


def test_a_whole_query_sends_only_reads(front: AthenaFront, moto: RecordingMotoServer) -> None:
    _seed(front)
    _set_results(moto.endpoint_url, _result(HEADER, TYPES, _rows(3)))
    moto.clear_log()
    engine = _engine(front)
    sql = "SELECT count(*) AS n FROM billing.cur2 WHERE billing_period = '2024-09'"
    engine.columns()
    engine.estimate_bytes(sql)
    engine.fetch(sql)
    sent = moto.operations()
    operations = {
        r.operation.split("/")[0] + r.operation.split("/")[1] for r in sent if r.service == "athena"
    }
    assert operations == {"GET workgroups", "POST query-executions", "GET query-executions"}
    assert {r.operation for r in sent if r.service == "glue"} == {"GetTable", "GetPartitions"}
    assert [r for r in sent if not request_is_read(r)] == []


def test_a_catalog_other_than_glue_is_described_by_athena() -> None:
    """moto has no GetTableMetadata: botocore's Stubber answers it, checked against the
    service model."""
    from botocore.stub import Stubber

    client = boto3.client("athena", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "get_table_metadata",
        {
            "TableMetadata": {
                "Name": "cur2",
                "Columns": [{"Name": "line_item_unblended_cost", "Type": "double"}],
                "PartitionKeys": [{"Name": "billing_period", "Type": "string"}],
            }
        },
        {"CatalogName": "lake", "DatabaseName": "billing", "TableName": "cur2"},
    )
    target = athena.parse_uri(f"{URI}&catalog=lake")
    engine = athena.AthenaEngine(target, lambda service: client)
    with stubber:
        assert dict(engine.columns()) == {
            "line_item_unblended_cost": "double",
            "billing_period": "string",
        }
        assert engine.partition_columns() == ("billing_period",)
        # Its partitions' sizes are not Glue's to tell: no estimate.
        assert engine.estimate_bytes("SELECT 1 AS n") is None
    stubber.assert_no_pending_responses()


def test_no_aws_credentials_is_the_providers_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # No credentials anywhere in the chain: what to set, before any call (it was botocore's
    # "Unable to locate credentials" at the first one).
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    uri = "athena://db.t?workgroup=primary&output=s3://b/p"
    with pytest.raises(InputFileError) as refused:
        athena.open_engine(uri)
    message = str(refused.value)
    assert message.startswith(f"--billing {uri}: ") and "no AWS credentials found" in message
    assert "\n" not in message
