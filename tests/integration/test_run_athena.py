"""`costscan run --billing athena://...` against moto: the same findings and totals to the
cent as `--billing` on the same export's files.

The export is the push-down's synthetic data set (tests/scanner/pushdown_data.py), as AWS's
CUR 2.0 data export writes it (``cur2_twin``) and as FOCUS, one Parquet file per
``BILLING_PERIOD=YYYY-MM`` partition. Glue's table and partitions and the files in S3 are
seeded through the APIs. Athena's answers to the rollup's four queries are what DuckDB
gives for the same queries over the same files (the push-down's own engine), set through
moto's API in the order the run sends them; the Trino SQL the run sends is checked
against the rollup's one definition rendered for Trino.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pytest

from costscan.providers.exports import duckdb_engine
from costscan.scanner.contracts.billing_query import ExportShape
from costscan.scanner.pipeline import billing_sql
from costscan.scanner.pipeline.billing_shapes import cur2, focus, shape_of
from tests.integration.test_run_pushdown import assert_same_report, report, run
from tests.moto_server import RecordingMotoServer
from tests.providers.athena_front import AthenaFront
from tests.read_only import request_is_read
from tests.scanner import cur2_twin, pushdown_data

REGION = "us-east-1"
BUCKET = "cur-exports"
PREFIX = "cur2/data"
OUTPUT = "s3://costscan-results/athena/"
URI = f"athena://billing.cur2?workgroup=finops&output={OUTPUT}"
PERIODS = ("2024-09", "2024-10")
START, END = date(2024, 9, 1), date(2024, 11, 1)


@pytest.fixture
def front(moto: RecordingMotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[AthenaFront]:
    layer = AthenaFront(moto.endpoint_url)
    layer.start()
    # The run builds its own clients: AWS_ENDPOINT_URL points them at the front.
    monkeypatch.setenv("AWS_ENDPOINT_URL", layer.endpoint_url)
    from costscan.providers.exports import athena

    monkeypatch.setattr(athena, "FIRST_POLL", 0.01)
    yield layer
    layer.stop()


SHAPES: dict[str, ExportShape] = {"cur2": cur2.SHAPE, "focus": focus.SHAPE}


def _export(folder: Path, kind: str = "cur2") -> dict[str, Path]:
    """One Parquet file per billing period, as the data exports deliver them: the synthetic
    data set as CUR 2.0 (``cur2_twin``) or as FOCUS (``pushdown_data``)."""
    files = {}
    if kind == "cur2":
        whole = cur2_twin.frame()
        period = pl.col("bill_billing_period_start_date")
    else:
        whole = pushdown_data.frame()
        period = pl.col("BillingPeriodStart")
    for month in PERIODS:
        rows = whole.filter(period.dt.strftime("%Y-%m") == month)
        path = folder / f"{month}.parquet"
        if kind == "cur2":
            cur2_twin.write_frame(rows, path)
        else:
            rows.write_parquet(path)
        files[month] = path
    return files


def _glue_type(kind: str) -> str:
    """DuckDB's type name as Glue names it for the same Parquet column."""
    if kind.startswith("map("):
        return "map<string,string>"
    if kind.startswith("timestamp"):
        return "timestamp"
    return {"varchar": "string"}.get(kind, kind)


def _seed(front: AthenaFront, files: dict[str, Path], columns: dict[str, str]) -> None:
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=front.moto_url)
    for bucket in (BUCKET, "costscan-results"):
        s3.create_bucket(Bucket=bucket)
    glue = boto3.client("glue", region_name=REGION, endpoint_url=front.moto_url)
    glue.create_database(DatabaseInput={"Name": "billing"})
    # Glue keeps column names in lower case.
    described = [{"Name": n.lower(), "Type": _glue_type(t)} for n, t in columns.items()]
    glue.create_table(
        DatabaseName="billing",
        TableInput={
            "Name": "cur2",
            "StorageDescriptor": {"Columns": described, "Location": f"s3://{BUCKET}/{PREFIX}/"},
            "PartitionKeys": [{"Name": "billing_period", "Type": "string"}],
        },
    )
    for period, path in files.items():
        key = f"{PREFIX}/BILLING_PERIOD={period}/{path.name}"
        s3.upload_file(str(path), BUCKET, key)
        glue.create_partition(
            DatabaseName="billing",
            TableName="cur2",
            PartitionInput={
                "Values": [period],
                "StorageDescriptor": {
                    "Columns": described,
                    "Location": f"s3://{BUCKET}/{PREFIX}/BILLING_PERIOD={period}",
                },
            },
        )
    athena = boto3.client("athena", region_name=REGION, endpoint_url=front.endpoint_url)
    athena.create_work_group(Name="finops")


_ATHENA_TYPES = {pl.String: "varchar", pl.Float64: "double", pl.Boolean: "boolean"}


def _athena_type(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "bigint"
    if isinstance(dtype, pl.Datetime):
        return "timestamp"
    return _ATHENA_TYPES[dtype.base_type()]  # type: ignore[index]


def _athena_text(series: pl.Series) -> list[str | None]:
    """A column's cells as Athena's VarCharValue writes them."""
    if isinstance(series.dtype, pl.Datetime):
        series = series.dt.strftime("%Y-%m-%d %H:%M:%S%.3f")
    elif series.dtype == pl.Float64:
        return [None if v is None else repr(v) for v in series.to_list()]
    elif series.dtype == pl.Boolean:
        series = series.cast(pl.String).str.to_lowercase()
    return series.cast(pl.String).to_list()


def _as_athena_result(frame: pl.DataFrame) -> dict[str, Any]:
    """``frame`` as GetQueryResults answers: names lower case (Trino's), a header row."""
    names = [c.lower() for c in frame.columns]
    columns = [_athena_text(frame[c]) for c in frame.columns]
    rows = [names, *([col[i] for col in columns] for i in range(frame.height))]
    return {
        "rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in r]} for r in rows],
        "column_info": [
            {"Name": n, "Label": n, "Type": _athena_type(frame.schema[c])}
            for n, c in zip(names, frame.columns, strict=True)
        ],
    }


def _set_results(endpoint_url: str, frames: list[pl.DataFrame]) -> None:
    body = {"region": REGION, "results": [_as_athena_result(f) for f in frames]}
    request = urllib.request.Request(
        f"{endpoint_url}/moto-api/static/athena/query-results",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 201


@pytest.mark.parametrize("kind", ["cur2", "focus"])
def test_athena_pushdown_gives_the_local_findings_and_totals(
    front: AthenaFront,
    moto: RecordingMotoServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    shape = SHAPES[kind]
    folder = tmp_path / "export"
    folder.mkdir()
    files = _export(folder, kind)
    # What DuckDB answers to the rollup's queries over the same files: Athena's answers.
    local_engine = duckdb_engine.open_engine(f"duckdb://{folder}")
    duck_columns = dict(local_engine.columns())
    found = shape_of(duck_columns)
    assert found is not None and found.name == kind
    canonical = billing_sql.canonical_queries(shape, duck_columns, START, END)
    answers = [
        local_engine.fetch(billing_sql.render(sql, "duckdb", local_engine.table_parts()))
        for sql in canonical.values()
    ]
    assert answers[0].height > 1_000  # the daily rows come back over several pages
    # Glue keeps column names in lower case.
    glue_columns = {n.lower(): _glue_type(t) for n, t in duck_columns.items()}
    _seed(front, files, duck_columns)
    _set_results(moto.endpoint_url, answers)
    moto.clear_log()

    local_out, pushed_out = tmp_path / "local", tmp_path / "pushed"
    code, err = run(
        ["--billing", str(folder), "--output-dir", str(local_out), "--format", "json"], capsys
    )
    assert code == 0, err
    code, err = run(
        [
            "--billing",
            URI,
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
    local, pushed = report(local_out), report(pushed_out)
    assert len(local["findings"]) >= 3
    assert_same_report(local, pushed)

    # The queries sent are the rollup's definition rendered for Trino over the Glue table.
    expected = [
        billing_sql.render(sql, "trino", ("billing", "cur2"))
        for sql in billing_sql.canonical_queries(
            shape,
            {**glue_columns, "billing_period": "string"},
            START,
            END,
            ("billing_period",),
        ).values()
    ]
    athena = boto3.client("athena", region_name=REGION, endpoint_url=front.endpoint_url)
    ids = athena.list_query_executions(WorkGroup="finops")["QueryExecutionIds"]
    sent = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]
    assert sorted(q["Query"] for q in sent) == sorted(expected)
    assert all(q["ResultConfiguration"]["OutputLocation"].startswith(OUTPUT) for q in sent)
    assert all("\"billing_period\" IN ('2024-09', '2024-10')" in q for q in expected)
    assert front.pages_served > 4

    size = sum(p.stat().st_size for p in files.values())
    # One line before the queries run, with the estimate and its cost.
    (line,) = [r.getMessage() for r in caplog.records if "will scan" in r.getMessage()]
    assert line.startswith(f"costscan: {URI}: 4 queries over the {kind} billing of 2024-09 ")
    assert f"will scan {4 * size / 1e6:,.2f} MB (about $" in line
    block = pushed["summary"]["spend"]["pushdown"]
    assert block["shape"] == kind
    assert block["engine"] == "trino"
    assert block["bytes_estimated"] == 4 * size
    assert block["bytes_scanned"] == 4 * 10 * (1 << 20)  # moto scans 0: 10 MB each, billed
    assert [r for r in moto.operations() if not request_is_read(r)] == []


def test_an_athena_scan_over_budget_sends_no_query(
    front: AthenaFront,
    moto: RecordingMotoServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    files = _export(folder)
    columns = dict(duckdb_engine.open_engine(f"duckdb://{folder}").columns())
    _seed(front, files, columns)
    moto.clear_log()
    out = tmp_path / "out"
    code, err = run(
        [
            "--billing",
            URI,
            "--billing-period",
            "2024-09",
            "--max-scan-gb",
            "0.000001",
            "--output-dir",
            str(out),
        ],
        capsys,
    )
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith(f"costscan: error: {URI}: the queries would scan")
    assert not [r for r in moto.operations() if r.operation == "POST /query-executions"]
    assert not list(out.glob("costscan-*"))


def test_a_missing_athena_table_is_one_line_and_exit_2(
    front: AthenaFront, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(["--billing", URI, "--output-dir", str(tmp_path / "out")], capsys)
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("costscan: error: --billing athena://billing.cur2")
    assert "billing.cur2 is not in the Glue Data Catalog" in line
