"""Observability collectors against moto in server mode, and the end-to-end "done when":
a seeded account's never-expiring log group and high-cardinality custom namespace get
one counted finding each, at the saving their formulas give, with only reads made."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
import polars as pl
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from costscan.demo.observability import (
    CUSTOM_NAMESPACE,
    HEAVY_BYTES_PER_DAY,
    HEAVY_GROUP,
    NO_RETENTION_GROUP,
    QUIET_GROUP,
    seed_observability,
)
from costscan.providers.aws import AwsProvider
from costscan.providers.aws.metrics import MAX_QUERIES_PER_CALL
from costscan.providers.aws.observability import metric_series_frame
from costscan.providers.aws.session import is_read_operation
from costscan.providers.interface import ScanRequest
from costscan.reports.ranking import rank
from costscan.scanner.app import catalog
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.moto_server import RecordingMotoServer

NOW = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
LOOKBACK_DAYS = 14
GIB = float(2**30)
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def only_observability_collectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole provider with this family's collector alone, so other families'
    collectors (and what moto lacks for them) do not enter these tests."""
    import costscan.providers.aws.provider as aws_provider
    from costscan.providers.aws.observability import scan_observability_region

    monkeypatch.setattr(aws_provider, "REGIONAL_COLLECTORS", (scan_observability_region,))
    monkeypatch.setattr(aws_provider, "ACCOUNT_COLLECTORS", ())


def _request(endpoint_url: str, regions: Sequence[str]) -> ScanRequest:
    return ScanRequest(
        context=RunContext(now=NOW, lookback_days=LOOKBACK_DAYS),
        regions=tuple(regions),
        endpoint_url=endpoint_url,
    )


def _fail_with(code: str, status: int) -> Any:
    def handler(**_kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = {"Error": {"Code": code, "Message": f"simulated {code}"}}
        meta = {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}
        return AWSResponse("http://fake", status, HTTPHeaders(), None), {
            **body,
            "ResponseMetadata": meta,
        }

    return handler


def _findings(inv: Inventory, policy_id: str) -> pl.DataFrame:
    pol = catalog.policy_by_id(policy_id)
    return pol.run(inv, pol.build_params({})).collect()


def _my_errors(inv: Inventory) -> list[Any]:
    mine = ("logs.", "cloudwatch.log_ingestion", "cloudwatch.metric_series")
    return [e for e in inv.errors if e.collector.startswith(mine)]


def test_metric_series_are_deduplicated_before_counting() -> None:
    listed = [
        {
            "Namespace": "Shop",
            "MetricName": "Latency",
            "Dimensions": [
                {"Name": "Endpoint", "Value": f"/e{i % 3}"},
                {"Name": "CustomerId", "Value": f"c{i % 50}"},
            ],
        }
        for i in range(150)
    ]
    # An emulator listing each series once per datapoint, dimensions in another order.
    repeated = [{**m, "Dimensions": list(reversed(m["Dimensions"]))} for m in listed[:40]]
    frame = metric_series_frame(listed + repeated, account_id="1", region=REGION)
    row = frame.row(0, named=True)
    assert row["series_count"] == 150
    assert row["custom"] is True
    assert row["dimension_cardinality"] == [
        {"key": "CustomerId", "distinct_values": 50},
        {"key": "Endpoint", "distinct_values": 3},
    ]


def test_seeded_account_gets_one_counted_finding_each_at_its_formula(
    moto: RecordingMotoServer, endpoint_url: str
) -> None:
    seed_observability(endpoint_url, NOW, [REGION], lookback_days=LOOKBACK_DAYS)
    moto.clear_log()

    inv = AwsProvider(max_attempts=1).collect(_request(endpoint_url, [REGION]))

    assert _my_errors(inv) == []
    operations = moto.operations()
    assert operations, "the scan reached moto"
    assert all(is_read_operation(op.service, op.operation) for op in operations), [
        (op.service, op.operation)
        for op in operations
        if not is_read_operation(op.service, op.operation)
    ]
    assert {"DescribeLogGroups", "ListMetrics", "GetMetricData"} <= {
        op.operation for op in operations
    }

    groups = {r["resource_name"]: r for r in inv.frame("log_groups").to_dicts()}
    assert set(groups) == {NO_RETENTION_GROUP, HEAVY_GROUP, QUIET_GROUP}
    trickle = groups[NO_RETENTION_GROUP]
    assert trickle["retention_days"] is None
    assert trickle["stored_bytes"] == 200 * 1000
    assert trickle["ingested_bytes_30d"] == pytest.approx(1000.0 * 30)
    assert groups[HEAVY_GROUP]["retention_days"] == 14
    assert groups[HEAVY_GROUP]["ingested_bytes_30d"] == pytest.approx(HEAVY_BYTES_PER_DAY * 30)
    assert trickle["storage_price_per_gb_month"] == 0.03

    series = {r["resource_id"]: r for r in inv.frame("metric_series").to_dicts()}
    latency = series[f"{CUSTOM_NAMESPACE}/Latency"]
    assert latency["series_count"] == 1200
    assert latency["custom"] is True
    assert latency["dimension_cardinality"][0] == {"key": "CustomerId", "distinct_values": 400}
    assert series[f"{CUSTOM_NAMESPACE}/Orders"]["series_count"] == 3
    assert not series["AWS/Logs/IncomingBytes"]["custom"]

    retention = _findings(inv, "observability.log-retention")
    cardinality = _findings(inv, "observability.metric-cardinality")
    ingestion = _findings(inv, "observability.log-ingestion")
    ranked = rank(pl.concat([retention, cardinality, ingestion]), hourly_rate=100.0)
    counted = ranked.findings.filter(pl.col("counted"))
    by_policy = {r["policy_id"]: r for r in ranked.findings.to_dicts()}
    # The trickle group's retention saves a fraction of a cent: shown, never counted; the
    # ingestion cut rests on an assumed reduction share (confidence 0.4): possible.
    assert counted["policy_id"].to_list() == ["observability.metric-cardinality"]
    assert by_policy["observability.log-retention"]["net_monthly_savings"] == 0.0
    assert by_policy["observability.log-ingestion"]["category"] == "possible"

    # Retention: 30,000 of the 200,000 stored bytes are younger than 30 days.
    older_share = 1 - 30_000 / 200_000
    (saving,) = retention["monthly_savings"].to_list()
    assert saving == pytest.approx(200_000 / GIB * 0.15 * older_share * 0.03)
    assert by_policy["observability.log-retention"]["resource_name"] == NO_RETENTION_GROUP

    # Cardinality: 1,203 custom series in the account; dropping CustomerId leaves 3.
    metric = by_policy["observability.metric-cardinality"]
    assert metric["resource_id"] == f"{CUSTOM_NAMESPACE}/Latency"
    assert metric["monthly_savings"] == pytest.approx(1197 * 0.30)
    assert json.loads(metric["evidence"])["dimension"] == "CustomerId"

    heavy = by_policy["observability.log-ingestion"]
    assert heavy["resource_name"] == HEAVY_GROUP
    assert heavy["monthly_savings"] == pytest.approx(HEAVY_BYTES_PER_DAY * 30 / GIB * 0.50 * 0.5)


def test_incoming_bytes_are_fetched_in_batches_of_at_most_500(
    moto: RecordingMotoServer, endpoint_url: str
) -> None:
    logs = boto3.client("logs", region_name=REGION, endpoint_url=endpoint_url)
    for i in range(MAX_QUERIES_PER_CALL + 1):
        logs.create_log_group(logGroupName=f"/bulk/{i:04d}")
    moto.clear_log()

    inv = AwsProvider(max_attempts=1).collect(_request(endpoint_url, [REGION]))

    frame = inv.frame("log_groups")
    assert frame.height == MAX_QUERIES_PER_CALL + 1
    assert frame["ingested_bytes_30d"].to_list() == [0.0] * frame.height
    calls = [
        op for op in moto.operations() if op.operation == "GetMetricData" and op.region == REGION
    ]
    # Two calls for 501 log groups (the compute collector asks nothing: no instances).
    assert len(calls) == 2


def test_a_refused_log_call_costs_only_log_groups(
    moto: RecordingMotoServer, endpoint_url: str
) -> None:
    seed_observability(endpoint_url, NOW, [REGION], lookback_days=LOOKBACK_DAYS)
    provider = AwsProvider(
        max_attempts=1,
        hooks=[("before-call.cloudwatch-logs.DescribeLogGroups", _fail_with("AccessDenied", 403))],
    )
    inv = provider.collect(_request(endpoint_url, [REGION]))

    assert [(e.collector, e.region) for e in _my_errors(inv)] == [("logs.log_groups", REGION)]
    assert "AccessDenied" in _my_errors(inv)[0].message
    assert inv.frame("log_groups").height == 0
    assert inv.frame("log_groups").schema == pl.Schema(schema.LOG_GROUPS)
    assert inv.frame("metric_series").height > 0


def test_ingestion_is_unknown_not_zero_when_the_metric_call_fails(
    moto: RecordingMotoServer, endpoint_url: str
) -> None:
    seed_observability(endpoint_url, NOW, [REGION], lookback_days=LOOKBACK_DAYS)
    provider = AwsProvider(
        max_attempts=1,
        hooks=[("before-call.cloudwatch.GetMetricData", _fail_with("Throttling", 400))],
    )
    inv = provider.collect(_request(endpoint_url, [REGION]))

    assert ("cloudwatch.log_ingestion", REGION) in {
        (e.collector, e.region) for e in _my_errors(inv)
    }
    frame = inv.frame("log_groups")
    assert frame.height == 3
    assert frame["ingested_bytes_30d"].null_count() == 3
    # The retention policy falls back to the group's age (moto stamps creation "now",
    # so nothing is old yet) instead of treating ingestion as zero.
    assert _findings(inv, "observability.log-retention").height == 0


def test_unbundled_region_falls_back_to_us_east_1_prices(
    moto: RecordingMotoServer, endpoint_url: str
) -> None:
    seed_observability(endpoint_url, NOW, ["eu-west-1"], lookback_days=LOOKBACK_DAYS)
    inv = AwsProvider(max_attempts=1).collect(_request(endpoint_url, ["eu-west-1"]))
    frame = inv.frame("log_groups")
    assert set(frame["price_region"]) == {"us-east-1"}
    assert all("no bundled price for eu-west-1" in r for r in frame["price_reference"])
    (row,) = _findings(inv, "observability.metric-cardinality").to_dicts()
    assert row["confidence"] == pytest.approx(0.6 * 0.8)
    assert "eu-west-1" in json.loads(row["evidence"])["price"]["reference"]
