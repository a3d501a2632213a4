"""The demo account: seeded on its own moto server and scanned by the real provider."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import polars as pl
import pytest

from providers.aws import AwsProvider
from providers.demo import (
    DemoSeed,
    indexed_get_metric_data,
    install_indexed_get_metric_data,
    metric_client,
    publish_hourly_metrics,
    seed_demo_account,
    start_demo_server,
)
from providers.interface import ScanRequest
from scanner.inventory import Inventory, RunContext

NOW = datetime(2025, 6, 4, 10, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[DemoSeed, Inventory, float, float]]:
    from moto.cloudwatch.models import CloudWatchBackend

    # The demo swaps moto's GetMetricData for an indexed one, process-wide; put moto's
    # back afterwards so other tests keep running against moto as shipped.
    original = CloudWatchBackend.get_metric_data
    started = time.perf_counter()
    server, url = start_demo_server()
    try:
        # moto's state is per process, shared with the session's server: start empty.
        urllib.request.urlopen(
            urllib.request.Request(f"{url}/moto-api/reset", data=b"{}", method="POST"), timeout=30
        ).close()
        seed = seed_demo_account(url, NOW)
        seeded = time.perf_counter()
        inventory = AwsProvider().collect(
            ScanRequest(context=RunContext(now=NOW), regions=seed.regions, endpoint_url=url)
        )
        scanned = time.perf_counter()
        yield seed, inventory, seeded - started, scanned - seeded
    finally:
        server.stop()
        CloudWatchBackend.get_metric_data = original  # type: ignore[method-assign]


def _cpu(inv: Inventory, statistic: str) -> pl.DataFrame:
    return inv.frame("utilization").filter(
        (pl.col("metric") == "cpu") & (pl.col("statistic") == statistic)
    )


def test_demo_seeds_a_realistic_account_and_scans_quickly(
    demo: tuple[DemoSeed, Inventory, float, float],
) -> None:
    seed, inv, seed_seconds, scan_seconds = demo
    print(f"demo seed {seed_seconds:.1f}s, scan {scan_seconds:.1f}s")
    assert seed_seconds + scan_seconds < 60
    assert inv.errors == []
    assert inv.rejections == []
    assert 200 <= seed.instance_count <= 400
    assert 20 <= len(seed.with_metrics) <= 40
    compute = inv.frame("compute")
    assert compute.height == seed.instance_count
    assert set(compute["region"]) == set(seed.regions)
    assert dict(compute.select("resource_id", "region").iter_rows()) == dict(seed.instance_region)
    # Only the metric-bearing instances have utilization, 14 days of hourly points each.
    util = inv.frame("utilization")
    assert set(util["resource_id"]) == set(seed.with_metrics)
    per_series = util.group_by("resource_id", "metric", "statistic").len()
    assert set(per_series["len"]) == {seed.metrics_hours}
    assert set(util.filter(pl.col("metric") == "memory")["resource_id"]) == set(seed.with_memory)
    assert 0 < len(seed.with_memory) < len(seed.with_metrics)
    # Production ran before the lookback began (LaunchTime backdated on the in-process moto).
    lookback_start = NOW - timedelta(days=14)
    steady = compute.filter(pl.col("resource_id").is_in(list(seed.steady)))
    assert (steady["launch_time"] < lookback_start).all()


def test_demo_scenarios_have_their_shapes(demo: tuple[DemoSeed, Inventory, float, float]) -> None:
    seed, inv, _, _ = demo
    peak = _cpu(inv, "maximum").group_by("resource_id").agg(pl.col("value").max())
    peaks = dict(peak.iter_rows())
    p95 = dict(
        _cpu(inv, "average").group_by("resource_id").agg(pl.col("value").quantile(0.95)).iter_rows()
    )
    mean = dict(
        _cpu(inv, "average").group_by("resource_id").agg(pl.col("value").mean()).iter_rows()
    )
    assert all(peaks[i] < 1.0 for i in seed.idle)
    assert all(3.0 <= mean[i] <= 10.0 for i in seed.oversized)
    assert all(p95[i] > 85.0 for i in seed.above_alert)
    assert all(40.0 <= p95[i] <= 70.0 for i in seed.busy)

    compute = inv.frame("compute")
    types = dict(compute.select("resource_id", "instance_type").iter_rows())
    assert {types[i].split(".")[0] for i in seed.previous_generation} <= {"m4", "c4", "r4"}
    assert any(types[i] == "m5.4xlarge" for i in seed.oversized)

    tags = inv.frame("tags")
    dev = set(
        tags.filter((pl.col("key") == "environment") & (pl.col("value") == "dev"))["resource_id"]
    )
    assert set(seed.office_hours) | set(seed.scheduled) <= dev
    scheduled = set(tags.filter(pl.col("key") == "Schedule")["resource_id"])
    assert scheduled == set(seed.scheduled)

    # Office-hours machines: busy on weekday working hours, near idle otherwise.
    hours = _cpu(inv, "average").filter(pl.col("resource_id").is_in(list(seed.office_hours)))
    working = (pl.col("ts").dt.weekday() <= 5) & pl.col("ts").dt.hour().is_between(8, 17)
    shape = hours.group_by(working.alias("working")).agg(pl.col("value").mean())
    by_kind = dict(shape.iter_rows())
    assert by_kind[True] > 25.0 > 5.0 > by_kind[False]

    group = compute.filter(pl.col("group") == seed.autoscaling_group)
    assert sorted(group["resource_id"]) == sorted(seed.autoscaling)
    assert inv.frame("spot_prices").height > 0


def test_indexed_get_metric_data_answers_like_moto(endpoint_url: str) -> None:
    from moto.cloudwatch.models import CloudWatchBackend

    start = NOW.replace(minute=0) - timedelta(hours=30)
    cloudwatch = metric_client(endpoint_url, "eu-west-1")
    for n, instance in enumerate(("i-aaa", "i-bbb", "i-ccc")):
        publish_hourly_metrics(
            cloudwatch,
            instance,
            [float(h % 7 + n) for h in range(30)],
            start=start,
            cpu_max_by_hour=[float(h % 7 + n + 2) for h in range(30)],
            network_in_by_hour=[float(h * 100 + n) for h in range(30)],
            memory_by_hour=[float(30 + n)] * 30 if n else None,
        )
    queries: list[dict[str, Any]] = []
    for instance in ("i-aaa", "i-bbb", "i-ccc", "i-none"):
        for name, stat, namespace in (
            ("CPUUtilization", "Average", "AWS/EC2"),
            ("CPUUtilization", "Maximum", "AWS/EC2"),
            ("NetworkIn", "Sum", "AWS/EC2"),
            ("mem_used_percent", "Maximum", "CWAgent"),
        ):
            queries.append(
                {
                    "Id": f"q{len(queries)}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": namespace,
                            "MetricName": name,
                            "Dimensions": [{"Name": "InstanceId", "Value": instance}],
                        },
                        "Period": 3600,
                        "Stat": stat,
                    },
                }
            )
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends["123456789012"]["eu-west-1"]
    current = CloudWatchBackend.get_metric_data
    moto_own = getattr(current, "_costscan_original", current)
    # moto keeps naive UTC timestamps inside; its HTTP layer strips the zone the same way.
    window = (
        (start + timedelta(hours=2)).replace(tzinfo=None),
        (start + timedelta(hours=40)).replace(tzinfo=None),
    )
    for scan_by in ("TimestampAscending", "TimestampDescending"):
        expected = moto_own(backend, queries, *window, scan_by)
        assert indexed_get_metric_data(backend, queries, *window, scan_by) == expected
    assert any(r["values"] for r in expected)
    # And through HTTP with the swap installed, the same numbers come back.
    answer = boto3.client("cloudwatch", region_name="eu-west-1", endpoint_url=endpoint_url)
    install_indexed_get_metric_data()
    try:
        got = answer.get_metric_data(
            MetricDataQueries=queries,
            StartTime=window[0],
            EndTime=window[1],
            ScanBy="TimestampAscending",
        )
        assert getattr(CloudWatchBackend.get_metric_data, "_costscan_indexed", False)
    finally:
        CloudWatchBackend.get_metric_data = current  # type: ignore[method-assign]
    assert [r["Values"] for r in got["MetricDataResults"]] == [
        r["values"] for r in moto_own(backend, queries, *window)
    ]
