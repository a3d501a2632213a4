"""The AWS provider against moto in server mode: real boto3 clients over real HTTP."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import polars as pl
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import EndpointConnectionError

from costscan.demo.account import metric_client, publish_hourly_metrics
from costscan.providers.aws import AwsProvider
from costscan.providers.aws import provider as provider_module
from costscan.providers.aws.metrics import MAX_QUERIES_PER_CALL, fetch_series, plan_queries
from costscan.providers.aws.session import (
    ClientFactory,
    client_config,
    guarded_session,
    is_read_operation,
)
from costscan.providers.interface import ScanRequest
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import ReadOnlyViolation
from costscan.scanner.contracts.inventory import RunContext
from tests.moto_server import RecordingMotoServer
from tests.read_only import request_is_read

NOW = datetime(2025, 6, 4, 10, 30, tzinfo=UTC)
HOUR_END = datetime(2025, 6, 4, 10, 0, tzinfo=UTC)
AMI = "ami-12345678"


def _ec2(endpoint_url: str, region: str = "us-east-1") -> Any:
    return boto3.client("ec2", region_name=region, endpoint_url=endpoint_url)


def _run(
    endpoint_url: str,
    instance_type: str,
    tags: dict[str, str],
    *,
    region: str = "us-east-1",
    count: int = 1,
    **extra: Any,
) -> list[str]:
    if tags:
        extra["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    answer = _ec2(endpoint_url, region).run_instances(
        ImageId=AMI,
        InstanceType=instance_type,
        MinCount=count,
        MaxCount=count,
        **extra,
    )
    return [i["InstanceId"] for i in answer["Instances"]]


def _request(endpoint_url: str, regions: Sequence[str], lookback_days: int = 2) -> ScanRequest:
    return ScanRequest(
        context=RunContext(now=NOW, lookback_days=lookback_days),
        regions=tuple(regions),
        endpoint_url=endpoint_url,
    )


def _bundled(region: str) -> pl.DataFrame:
    from costscan.providers.pricing.aws import bundled_ec2_prices

    return bundled_ec2_prices([region])


def _fail_with(code: str, status: int) -> Any:
    """A before-call handler that answers like AWS refusing the call (botocore's own
    error path then raises ClientError, as Stubber does)."""

    def handler(**_kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = {"Error": {"Code": code, "Message": f"simulated {code}"}}
        meta = {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}
        return AWSResponse("http://fake", status, HTTPHeaders(), None), {
            **body,
            "ResponseMetadata": meta,
        }

    return handler


# ------------------------------------------------------------------ inventory frames


def test_compute_tags_and_prices_frames(endpoint_url: str) -> None:
    (web,) = _run(endpoint_url, "m5.large", {"Name": "web-1", "environment": "prod"})
    (spot,) = _run(
        endpoint_url,
        "c5.xlarge",
        {"Name": "batch"},
        InstanceMarketOptions={"MarketType": "spot"},
    )
    (odd,) = _run(endpoint_url, "bogus.type", {"team": "x"})

    inv = AwsProvider(max_attempts=1).collect(_request(endpoint_url, ["us-east-1"]))

    assert inv.errors == []
    assert inv.rejections == []
    assert inv.accounts == ["123456789012"]
    assert inv.regions == ["us-east-1"]
    compute = inv.frame("compute")
    assert compute.schema == pl.Schema(schema.COMPUTE)
    rows = {r["resource_id"]: r for r in compute.to_dicts()}
    assert set(rows) == {web, spot, odd}

    bundled = _bundled("us-east-1")
    m5 = bundled.filter(pl.col("instance_type") == "m5.large").row(0, named=True)
    assert rows[web] | {"launch_time": None} == {
        "provider": "aws",
        "account_id": "123456789012",
        "region": "us-east-1",
        "resource_id": web,
        "resource_name": "web-1",
        "resource_type": "ec2_instance",
        "instance_type": "m5.large",
        "vcpus": 2.0,
        "memory_gib": 8.0,
        "state": "running",
        "lifecycle": "on-demand",
        "launch_time": None,
        "group": None,
        "platform": "linux",
        "architecture": "x86_64",
        "hourly_price": m5["hourly_price"],
        "price_source": "bundled",
    }
    assert rows[web]["launch_time"].tzinfo is not None
    assert rows[spot]["lifecycle"] == "spot"
    assert rows[spot]["vcpus"] == 4.0
    # A type nobody prices keeps its row, with no price: it costs confidence, not the scan.
    assert rows[odd]["hourly_price"] is None
    assert rows[odd]["price_source"] == "none"
    assert rows[odd]["resource_name"] is None

    tags = inv.frame("tags").sort("resource_id", "key")
    assert sorted(tags.rows()) == sorted(
        [
            (web, "Name", "web-1"),
            (web, "environment", "prod"),
            (spot, "Name", "batch"),
            (odd, "team", "x"),
        ]
    )

    prices = inv.frame("prices")
    assert prices.schema == pl.Schema(schema.PRICES)
    assert set(prices["region"]) == {"us-east-1"}
    assert set(prices["source"]) == {"bundled"}
    # Every priced type the region offers, with the API's facts and the catalog's price.
    assert prices.height > 50
    assert prices["instance_type"].n_unique() == prices.height
    m5_row = prices.filter(pl.col("instance_type") == "m5.large").row(0, named=True)
    assert (m5_row["vcpus"], m5_row["memory_gib"], m5_row["family"], m5_row["size"]) == (
        2.0,
        8.0,
        "m5",
        "large",
    )
    assert m5_row["hourly_price"] == m5["hourly_price"]
    # Generation and burstable flags are the API's answer for the region.
    answer = _ec2(endpoint_url).describe_instance_types(InstanceTypes=["m5.large", "t3.micro"])
    flags = {
        t["InstanceType"]: (t["CurrentGeneration"], t["BurstablePerformanceSupported"])
        for t in answer["InstanceTypes"]
    }
    got = prices.filter(pl.col("instance_type").is_in(["m5.large", "t3.micro"]))
    assert {
        r[0]: (r[1], r[2])
        for r in got.select("instance_type", "current_generation", "burstable").rows()
    } == flags
    assert flags["t3.micro"][1] is True


def test_autoscaling_members_get_their_group_and_spot_prices(endpoint_url: str) -> None:
    ec2 = _ec2(endpoint_url)
    autoscaling = boto3.client("autoscaling", region_name="us-east-1", endpoint_url=endpoint_url)
    ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": AMI, "InstanceType": "m5.large"}
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Latest"},
        MinSize=3,
        MaxSize=3,
        DesiredCapacity=3,
        AvailabilityZones=["us-east-1a"],
    )
    (alone,) = _run(endpoint_url, "m5.large", {"Name": "alone"})

    inv = AwsProvider(max_attempts=1).collect(_request(endpoint_url, ["us-east-1"]))

    compute = inv.frame("compute")
    grouped = compute.filter(pl.col("group") == "web-asg")
    assert grouped.height == 3
    assert compute.filter(pl.col("resource_id") == alone)["group"].to_list() == [None]
    spot = inv.frame("spot_prices")
    assert spot.height > 0
    assert set(spot["instance_type"]) == {"m5.large"}
    assert spot.select(pl.struct("availability_zone", "instance_type").is_unique().all()).item()


# ------------------------------------------------------------------ utilization


def test_utilization_round_trips_exactly(endpoint_url: str) -> None:
    (instance,) = _run(endpoint_url, "m5.large", {"Name": "probe"})
    hours = 48
    start = HOUR_END - timedelta(hours=hours)
    cpu = [round(0.5 + (h % 24) * 1.7 + (h // 24) * 0.25, 3) for h in range(hours)]
    cpu_max = [c + 3.25 for c in cpu]
    net_in = [1000.0 * (h + 1) for h in range(hours)]
    net_out = [7.5 * (h + 3) for h in range(hours)]
    memory = [40.0 + h / 8 for h in range(hours)]
    memory_max = [m + 1.5 for m in memory]
    publish_hourly_metrics(
        metric_client(endpoint_url, "us-east-1"),
        instance,
        cpu,
        start=start,
        cpu_max_by_hour=cpu_max,
        network_in_by_hour=net_in,
        network_out_by_hour=net_out,
        memory_by_hour=memory,
        memory_max_by_hour=memory_max,
    )

    inv = AwsProvider(max_attempts=1).collect(_request(endpoint_url, ["us-east-1"], 2))

    stamps = [start + timedelta(hours=h) for h in range(hours)]
    expected = pl.concat(
        [
            pl.DataFrame(
                {
                    "resource_id": instance,
                    "metric": metric,
                    "statistic": statistic,
                    "ts": stamps,
                    "value": values,
                },
                schema=dict(schema.UTILIZATION),
            )
            for metric, statistic, values in (
                ("cpu", "average", cpu),
                ("cpu", "maximum", cpu_max),
                ("memory", "average", memory),
                ("memory", "maximum", memory_max),
                ("network_in", "sum", net_in),
                ("network_out", "sum", net_out),
            )
        ]
    )
    got = inv.frame("utilization").sort("metric", "statistic", "ts")
    assert got.equals(expected.sort("metric", "statistic", "ts"))


def test_get_metric_data_sends_at_most_500_queries_a_call(
    endpoint_url: str, moto: RecordingMotoServer
) -> None:
    instances = _run(endpoint_url, "t3.micro", {"fleet": "bulk"}, count=130)
    calls: list[tuple[str, int]] = []

    def count(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        calls.append((context["client_region"], len(params["MetricDataQueries"])))

    provider = AwsProvider(
        max_attempts=1, hooks=[("before-parameter-build.cloudwatch.GetMetricData", count)]
    )
    moto.clear_log()
    inv = provider.collect(_request(endpoint_url, ["us-east-1"]))

    series = 4 * len(instances)  # cpu average and maximum, network in and out
    assert inv.errors == []
    assert calls == [("us-east-1", MAX_QUERIES_PER_CALL), ("us-east-1", series - 500)]
    assert len(calls) == math.ceil(series / MAX_QUERIES_PER_CALL)
    # The server saw the same number of calls, and no per-resource statistics calls.
    seen = [r.operation for r in moto.operations() if r.service == "monitoring"]
    assert seen.count("GetMetricData") == len(calls)
    assert "GetMetricStatistics" not in seen


def test_fetch_series_refuses_batches_above_the_api_limit(endpoint_url: str) -> None:
    cloudwatch = metric_client(endpoint_url, "us-east-1")
    with pytest.raises(ValueError, match="batch_size"):
        fetch_series(cloudwatch, plan_queries(["i-1"]), HOUR_END, HOUR_END, batch_size=501)


def test_memory_is_queried_only_where_the_agent_reports_it(
    endpoint_url: str, moto: RecordingMotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the compute collectors: observability lists metrics for its own reasons.
    monkeypatch.setattr(provider_module, "REGIONAL_COLLECTORS", ())
    monkeypatch.setattr(provider_module, "ACCOUNT_COLLECTORS", ())
    with_agent, without_agent = _run(endpoint_url, "m5.large", {}, count=2)
    start = HOUR_END - timedelta(hours=6)
    cloudwatch = metric_client(endpoint_url, "us-east-1")
    # The agent's usual extra dimension: the query must use the listed set to match.
    agent_dims = [
        {"Name": "InstanceId", "Value": with_agent},
        {"Name": "InstanceType", "Value": "m5.large"},
    ]
    publish_hourly_metrics(
        cloudwatch,
        with_agent,
        [10.0] * 6,
        start=start,
        memory_by_hour=[55.0] * 6,
        agent_dimensions=agent_dims,
    )
    publish_hourly_metrics(cloudwatch, without_agent, [20.0] * 6, start=start)
    queried: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        queried.extend(
            q["MetricStat"]["Metric"]["MetricName"]
            + ":"
            + q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
            for q in params["MetricDataQueries"]
        )

    moto.clear_log()
    inv = AwsProvider(
        max_attempts=1, hooks=[("before-parameter-build.cloudwatch.GetMetricData", record)]
    ).collect(_request(endpoint_url, ["us-east-1"], 1))

    memory = inv.frame("utilization").filter(pl.col("metric") == "memory")
    assert set(memory["resource_id"]) == {with_agent}
    assert memory.height == 12  # six hours, average and maximum
    assert set(memory["value"]) == {55.0}
    assert f"mem_used_percent:{with_agent}" in queried
    assert f"mem_used_percent:{without_agent}" not in queried
    cpu = inv.frame("utilization").filter(pl.col("metric") == "cpu")
    assert set(cpu["resource_id"]) == {with_agent, without_agent}
    # One ListMetrics sweep for the region, not one per instance.
    listed = [r for r in moto.operations() if r.operation == "ListMetrics"]
    assert len(listed) == 1


# ------------------------------------------------------------------ failures


def test_failing_collectors_become_errors_and_the_scan_completes(endpoint_url: str) -> None:
    (east,) = _run(endpoint_url, "m5.large", {"Name": "east"}, region="us-east-1")
    (west,) = _run(endpoint_url, "m5.large", {"Name": "west"}, region="eu-west-1")
    start = HOUR_END - timedelta(hours=3)
    for region, instance in (("us-east-1", east), ("eu-west-1", west)):
        publish_hourly_metrics(
            metric_client(endpoint_url, region), instance, [5.0] * 3, start=start
        )

    def unreachable(context: dict[str, Any], **_: Any) -> None:
        if context["client_region"] == "eu-west-1":
            raise EndpointConnectionError(endpoint_url="https://monitoring.eu-west-1.amazonaws.com")

    provider = AwsProvider(
        max_attempts=1,
        hooks=[
            ("before-call.ec2.DescribeInstanceTypes", _fail_with("UnauthorizedOperation", 403)),
            ("before-call.autoscaling.DescribeAutoScalingGroups", _fail_with("AccessDenied", 403)),
            ("before-parameter-build.cloudwatch.GetMetricData", unreachable),
        ],
    )
    inv = provider.collect(_request(endpoint_url, ["us-east-1", "eu-west-1"], 1))

    failed = {(e.collector, e.region) for e in inv.errors}
    assert failed == {
        ("ec2.instance_type_facts", "us-east-1"),
        ("ec2.instance_type_facts", "eu-west-1"),
        ("autoscaling.group_membership", "us-east-1"),
        ("autoscaling.group_membership", "eu-west-1"),
        ("cloudwatch.instance_utilization", "eu-west-1"),
    }
    for error in inv.errors:
        assert error.account_id == "123456789012"
        assert "\n" not in error.message
    denied = next(e for e in inv.errors if e.collector.startswith("autoscaling"))
    assert "AccessDenied" in denied.message
    # Everything else still arrived: both instances, with catalog facts and prices in
    # place of the API's, and us-east-1's utilization.
    compute = inv.frame("compute")
    assert set(compute["resource_id"]) == {east, west}
    assert compute["vcpus"].to_list() == [2.0, 2.0]
    assert set(compute["price_source"]) == {"bundled"}
    assert set(inv.frame("utilization")["resource_id"]) == {east}


def test_no_credentials_at_all_is_a_provider_error(
    endpoint_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from costscan.scanner.contracts.errors import ProviderError

    provider = AwsProvider(
        max_attempts=1,
        hooks=[("before-call.sts.GetCallerIdentity", _fail_with("InvalidClientTokenId", 403))],
    )
    with pytest.raises(ProviderError, match="InvalidClientTokenId"):
        provider.collect(_request(endpoint_url, ["us-east-1"]))


# ------------------------------------------------------------------ read-only


@pytest.mark.parametrize(
    ("service", "operation", "allowed"),
    [
        ("ec2", "DescribeInstances", True),
        ("cloudwatch", "GetMetricData", True),
        ("cloudwatch", "ListMetrics", True),
        ("sts", "AssumeRole", True),
        ("sts", "GetCallerIdentity", True),
        ("ec2", "TerminateInstances", False),
        ("ec2", "RunInstances", False),
        ("ec2", "CreateTags", False),
        ("s3", "PutObject", False),
        ("cloudwatch", "PutMetricData", False),
        ("ec2", "ModifyInstanceAttribute", False),
    ],
)
def test_read_operations_are_told_apart(service: str, operation: str, allowed: bool) -> None:
    assert is_read_operation(service, operation) is allowed


def test_guard_refuses_writes_before_any_request_is_sent(
    endpoint_url: str, moto: RecordingMotoServer
) -> None:
    (instance,) = _run(endpoint_url, "m5.large", {"Name": "keep-me"})
    factory = ClientFactory(guarded_session(), endpoint_url=endpoint_url, config=client_config(1))
    ec2 = factory.client("ec2", "us-east-1")
    s3 = factory.client("s3", "us-east-1")
    moto.clear_log()

    with pytest.raises(ReadOnlyViolation, match="ec2:TerminateInstances"):
        ec2.terminate_instances(InstanceIds=[instance])
    with pytest.raises(ReadOnlyViolation, match="s3:PutObject"):
        s3.put_object(Bucket="any", Key="k", Body=b"x")
    # A client made straight from a guarded session (not through the factory) is guarded too.
    with pytest.raises(ReadOnlyViolation):
        guarded_session().client(
            "ec2", region_name="us-east-1", endpoint_url=endpoint_url
        ).stop_instances(InstanceIds=[instance])

    assert moto.operations() == []
    state = _ec2(endpoint_url).describe_instances(InstanceIds=[instance])
    assert state["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"


@pytest.mark.slow
def test_a_scan_sends_only_reads(endpoint_url: str, moto: RecordingMotoServer) -> None:
    instances = _run(endpoint_url, "m5.large", {"environment": "dev"}, count=3)
    _run(endpoint_url, "c5.large", {}, region="eu-west-1")
    publish_hourly_metrics(
        metric_client(endpoint_url, "us-east-1"),
        instances[0],
        [3.0] * 4,
        start=HOUR_END - timedelta(hours=4),
        memory_by_hour=[30.0] * 4,
    )
    org = boto3.client("organizations", region_name="us-east-1", endpoint_url=endpoint_url)
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(AccountName="member", Email="member@example.com")
    member_id = member["CreateAccountStatus"]["AccountId"]
    moto.clear_log()

    request = ScanRequest(
        context=RunContext(now=NOW, lookback_days=1),
        regions=("us-east-1", "eu-west-1"),
        endpoint_url=endpoint_url,
        org_role="CostscanReadOnly",
    )
    inv = AwsProvider(max_attempts=1).collect(request)

    assert inv.errors == []
    assert sorted(inv.accounts) == sorted(["123456789012", member_id])
    sent = moto.operations()
    operations = {(r.service, r.operation) for r in sent}
    assert {
        ("sts", "GetCallerIdentity"),
        ("organizations", "ListAccounts"),
        ("sts", "AssumeRole"),
        ("ec2", "DescribeInstances"),
        ("ec2", "DescribeInstanceTypes"),
        ("monitoring", "ListMetrics"),
        ("monitoring", "GetMetricData"),
    } <= operations
    writes = [r for r in sent if not request_is_read(r)]
    assert writes == []
    # Both accounts' regions were scanned with their own credentials.
    assert {r.region for r in sent if r.operation == "DescribeInstances"} == {
        "us-east-1",
        "eu-west-1",
    }
    # Two accounts x two regions for compute (storage may look up stopped instances too).
    assert sum(r.operation == "DescribeInstances" for r in sent) >= 4
