"""CloudWatch utilization: hourly series for many instances in few GetMetricData calls.

Every series is one query; queries go out in batches of at most 500 (the GetMetricData
limit, which we enforce ourselves because emulators do not), so a region with N
instances costs about ceil(4N / 500) calls instead of N GetMetricStatistics calls.
Percentiles are not asked of CloudWatch: the hourly Average and Maximum series come back
once and policies compute what they need in polars.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from costscan.scanner.contracts import schema

# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
MAX_QUERIES_PER_CALL = 500
PERIOD_SECONDS = 3600

EC2_NAMESPACE = "AWS/EC2"
# The CloudWatch agent's default namespace and memory metric (Linux; the agent's
# "mem_used_percent" measurement).
AGENT_NAMESPACE = "CWAgent"
AGENT_MEMORY_METRIC = "mem_used_percent"

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SeriesQuery:
    """One CloudWatch series and the utilization row labels its points get."""

    resource_id: str
    metric: str  # cpu | memory | network_in | network_out
    statistic: str  # average | maximum | sum
    namespace: str
    metric_name: str
    stat: str  # CloudWatch statistic name
    dimensions: Dimensions


# (our metric, our statistic, CloudWatch metric, CloudWatch statistic) for every instance.
EC2_SERIES: tuple[tuple[str, str, str, str], ...] = (
    ("cpu", "average", "CPUUtilization", "Average"),
    ("cpu", "maximum", "CPUUtilization", "Maximum"),
    ("network_in", "sum", "NetworkIn", "Sum"),
    ("network_out", "sum", "NetworkOut", "Sum"),
)
MEMORY_SERIES: tuple[tuple[str, str], ...] = (("average", "Average"), ("maximum", "Maximum"))


def lookback_window(now: datetime, lookback_days: int) -> tuple[datetime, datetime]:
    """[start, end) of the lookback, ending at ``now`` truncated to the hour, in UTC."""
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    end = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return end - timedelta(days=lookback_days), end


def memory_dimensions(cloudwatch: Any) -> dict[str, Dimensions]:
    """Instance id -> dimensions of its CWAgent memory series, from one ListMetrics sweep.

    The agent adds dimensions of its own (ImageId, InstanceType, AutoScalingGroupName), and
    GetMetricData matches dimensions exactly, so the listed set is what we query with.
    When an instance has several, the one with the fewest dimensions wins.
    """
    found: dict[str, Dimensions] = {}
    paginator = cloudwatch.get_paginator("list_metrics")
    for page in paginator.paginate(Namespace=AGENT_NAMESPACE, MetricName=AGENT_MEMORY_METRIC):
        for metric in page.get("Metrics", []):
            dims: Dimensions = tuple((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
            instance = dict(dims).get("InstanceId")
            if instance is None:
                continue
            held = found.get(instance)
            if held is None or len(dims) < len(held):
                found[instance] = dims
    return found


def plan_queries(
    instance_ids: Iterable[str], memory: Mapping[str, Dimensions] | None = None
) -> list[SeriesQuery]:
    """The series to fetch: four EC2 series per instance, two more where memory exists."""
    plan: list[SeriesQuery] = []
    memory = memory or {}
    for instance in instance_ids:
        dims: Dimensions = (("InstanceId", instance),)
        for metric, statistic, name, stat in EC2_SERIES:
            plan.append(SeriesQuery(instance, metric, statistic, EC2_NAMESPACE, name, stat, dims))
        agent_dims = memory.get(instance)
        if agent_dims is not None:
            for statistic, stat in MEMORY_SERIES:
                plan.append(
                    SeriesQuery(
                        instance,
                        "memory",
                        statistic,
                        AGENT_NAMESPACE,
                        AGENT_MEMORY_METRIC,
                        stat,
                        agent_dims,
                    )
                )
    return plan


def _query(query_id: str, series: SeriesQuery, period: int) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": series.namespace,
                "MetricName": series.metric_name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in series.dimensions],
            },
            "Period": period,
            "Stat": series.stat,
        },
        "ReturnData": True,
    }


def fetch_series(
    cloudwatch: Any,
    plan: Sequence[SeriesQuery],
    start: datetime,
    end: datetime,
    *,
    period: int = PERIOD_SECONDS,
    batch_size: int = MAX_QUERIES_PER_CALL,
    on_batch: Callable[[int], None] | None = None,
) -> pl.DataFrame:
    """Fetch ``plan`` with GetMetricData, ``batch_size`` queries a call, every page.

    Returns the ``utilization`` frame (hourly points; hours without data are absent).
    ``on_batch`` is told the size of each batch as it completes (progress reporting).
    """
    if not 1 <= batch_size <= MAX_QUERIES_PER_CALL:
        raise ValueError(f"batch_size must be 1..{MAX_QUERIES_PER_CALL}, got {batch_size}")
    ids: list[str] = []
    timestamps: list[list[datetime]] = []
    values: list[list[float]] = []
    for first in range(0, len(plan), batch_size):
        batch = plan[first : first + batch_size]
        queries = [_query(f"q{first + i}", s, period) for i, s in enumerate(batch)]
        request: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            page = cloudwatch.get_metric_data(**request)
            for result in page.get("MetricDataResults", []):
                ids.append(result["Id"])
                timestamps.append(result.get("Timestamps", []))
                values.append(result.get("Values", []))
            token = page.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
        if on_batch is not None:
            on_batch(len(batch))
    return _utilization_frame(plan, ids, timestamps, values)


def _utilization_frame(
    plan: Sequence[SeriesQuery],
    ids: list[str],
    timestamps: list[list[datetime]],
    values: list[list[float]],
) -> pl.DataFrame:
    labels = pl.DataFrame(
        {
            "id": [f"q{i}" for i in range(len(plan))],
            "resource_id": [s.resource_id for s in plan],
            "metric": [s.metric for s in plan],
            "statistic": [s.statistic for s in plan],
        },
        schema={
            "id": pl.String,
            "resource_id": pl.String,
            "metric": pl.String,
            "statistic": pl.String,
        },
    )
    # One row per result (a query continued over pages gives several), exploded to
    # one row per point in a single vectorised step.
    points = (
        pl.DataFrame(
            {"id": ids, "ts": timestamps, "value": values},
            schema={
                "id": pl.String,
                "ts": pl.List(schema.UTC_TS),
                "value": pl.List(pl.Float64),
            },
        )
        .explode(["ts", "value"])
        .drop_nulls(["ts", "value"])
    )
    joined = points.join(labels, on="id", how="inner")
    return schema.conform("utilization", joined).sort("resource_id", "metric", "statistic", "ts")


def collect_utilization(
    cloudwatch: Any,
    instance_ids: Sequence[str],
    *,
    now: datetime,
    lookback_days: int,
    with_memory: bool = True,
    on_batch: Callable[[int], None] | None = None,
) -> pl.DataFrame:
    """Hourly CPU, network and (where the agent reports it) memory for ``instance_ids``."""
    if not instance_ids:
        return schema.empty(schema.UTILIZATION)
    memory: dict[str, Dimensions] = {}
    if with_memory:
        wanted = set(instance_ids)
        memory = {k: v for k, v in memory_dimensions(cloudwatch).items() if k in wanted}
    start, end = lookback_window(now, lookback_days)
    return fetch_series(
        cloudwatch, plan_queries(instance_ids, memory), start, end, on_batch=on_batch
    )
