"""Serverless collectors: Lambda functions, ECS services (Fargate) and their CloudWatch
figures. Reads only.

``scan_serverless_region`` (once per account and region):

- Lambda ListFunctions (every page): memory, architecture, runtime, timeout.
- CloudWatch ListMetrics once for the Lambda Insights ``used_memory_max`` series (the
  extension publishes it per function, in MB), so memory is asked only where it exists.
- One batched GetMetricData sweep (≤ 500 queries a call, daily points over the lookback)
  of AWS/Lambda Invocations, Duration (Sum and Maximum), Errors, Throttles and
  ConcurrentExecutions, and Insights memory where listed, summed (or maximised) in polars
  -> ``functions``.

Memory used from the REPORT lines of CloudWatch Logs would need a Logs Insights query
(StartQuery), which the read-only guard refuses by name; functions without Lambda
Insights therefore have no memory figure, and the memory policy leaves them alone.
Provisioned concurrency (ListProvisionedConcurrencyConfigs) is not collected yet: the
column stays null (unknown), never zero.

``scan_containers_region``: ECS ListClusters, ListServices, DescribeServices (10 a call),
DescribeTaskDefinition per task definition in use, ListMetrics for the services that
publish Container Insights, and one batched GetMetricData sweep of their CpuUtilized,
CpuReserved, MemoryUtilized and MemoryReserved (hourly), reduced in polars to p95 and
maximum shares of the reservation -> ``services``.

Prices come from ``providers.pricing.aws_serverless`` (bundled us-east-1, named fallback).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from costscan.providers.aws import metrics
from costscan.providers.aws.scan import RegionScan
from costscan.providers.pricing.aws_serverless import (
    FARGATE_SPOT_DISCOUNT,
    fargate_prices,
    lambda_prices,
)
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.vocab import ResourceType

DAY_SECONDS = 86400
LAMBDA_NAMESPACE = "AWS/Lambda"
# Lambda Insights: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Lambda-Insights-metrics.html
INSIGHTS_NAMESPACE = "LambdaInsights"
INSIGHTS_MEMORY_METRIC = "used_memory_max"
INSIGHTS_DIMENSION = "function_name"

# (frame column, CloudWatch metric, statistic, how days combine) per function.
# https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
LAMBDA_SERIES: tuple[tuple[str, str, str, str], ...] = (
    ("invocations", "Invocations", "Sum", "sum"),
    ("duration_ms_sum", "Duration", "Sum", "sum"),
    ("duration_ms_max", "Duration", "Maximum", "max"),
    ("errors", "Errors", "Sum", "sum"),
    ("throttles", "Throttles", "Sum", "sum"),
    ("concurrent_max", "ConcurrentExecutions", "Maximum", "max"),
)
_COMBINE = {column: how for column, _, _, how in LAMBDA_SERIES} | {"memory_used_mb_max": "max"}


def scan_serverless_region(run: RegionScan) -> None:
    """Lambda functions of one region, with their lookback figures -> ``functions``."""
    client = run.client("lambda")
    functions = run.attempt("lambda.functions", lambda: list_functions(client))
    if not functions:
        return
    names = [str(f["FunctionName"]) for f in functions]
    cloudwatch = run.client("cloudwatch")
    with_memory = run.attempt(
        "cloudwatch.lambda_insights_list", lambda: insights_functions(cloudwatch)
    )
    plan = metric_plan(names, with_memory or set())
    now, days = run.request.context.now, run.request.context.lookback_days
    start, end = metrics.lookback_window(now, days)
    figures = run.attempt(
        "cloudwatch.lambda_metrics",
        lambda: lookback_figures(cloudwatch, plan, start, end),
        resources=names,
    )
    frame = functions_frame(
        functions,
        account_id=run.account.account_id,
        region=run.region,
        figures=figures,
        lookback_hours=float(days * 24),
        memory_known=with_memory is not None,
    )
    run.inventory.add("functions", frame)


def list_functions(client: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("list_functions").paginate():
        found.extend(page.get("Functions", []))
    return found


def insights_functions(cloudwatch: Any) -> set[str]:
    """Names of the functions that publish Lambda Insights memory (one ListMetrics sweep)."""
    names: set[str] = set()
    paginator = cloudwatch.get_paginator("list_metrics")
    for page in paginator.paginate(Namespace=INSIGHTS_NAMESPACE, MetricName=INSIGHTS_MEMORY_METRIC):
        for metric in page.get("Metrics", []):
            for dim in metric.get("Dimensions", []):
                if dim.get("Name") == INSIGHTS_DIMENSION:
                    names.add(str(dim.get("Value")))
    return names


def metric_plan(names: Sequence[str], with_memory: set[str]) -> list[metrics.SeriesQuery]:
    """Six AWS/Lambda series per function, and Insights memory where it is published."""
    plan: list[metrics.SeriesQuery] = []
    for name in names:
        dims = (("FunctionName", name),)
        for column, metric_name, stat, _ in LAMBDA_SERIES:
            plan.append(
                metrics.SeriesQuery(
                    name, column, stat.lower(), LAMBDA_NAMESPACE, metric_name, stat, dims
                )
            )
        if name in with_memory:
            plan.append(
                metrics.SeriesQuery(
                    name,
                    "memory_used_mb_max",
                    "maximum",
                    INSIGHTS_NAMESPACE,
                    INSIGHTS_MEMORY_METRIC,
                    "Maximum",
                    ((INSIGHTS_DIMENSION, name),),
                )
            )
    return plan


def lookback_figures(
    cloudwatch: Any, plan: Sequence[metrics.SeriesQuery], start: datetime, end: datetime
) -> dict[tuple[str, str], float]:
    """(function, column) -> the lookback's sum or maximum, from daily points."""
    series = metrics.fetch_series(cloudwatch, plan, start, end, period=DAY_SECONDS)
    combined = series.group_by("resource_id", "metric").agg(
        pl.col("value").sum().alias("sum"), pl.col("value").max().alias("max")
    )
    return {
        (name, column): float(total if _COMBINE.get(column) == "sum" else peak)
        for name, column, total, peak in combined.iter_rows()
    }


def functions_frame(
    functions: Sequence[Mapping[str, Any]],
    *,
    account_id: str,
    region: str,
    figures: Mapping[tuple[str, str], float] | None,
    lookback_hours: float,
    memory_known: bool,
) -> pl.DataFrame:
    """One ``functions`` row per function, priced from the bundled Lambda list.

    When the metrics call failed every figure is null (unknown); when it answered, a
    function with no datapoints was not invoked: zero invocations, null memory.
    """
    priced = lambda_prices(region)
    price = priced.prices
    rows: list[dict[str, Any]] = []
    for function in functions:
        name = str(function["FunctionName"])
        architecture = (function.get("Architectures") or ["x86_64"])[0]
        row: dict[str, Any] = {
            "provider": "aws",
            "account_id": account_id,
            "region": region,
            "resource_id": function.get("FunctionArn") or name,
            "resource_name": name,
            "resource_type": ResourceType.LAMBDA_FUNCTION.value,
            "runtime": function.get("Runtime"),
            "architecture": architecture,
            "memory_mb": function.get("MemorySize"),
            "timeout_seconds": function.get("Timeout"),
            "package_type": function.get("PackageType"),
            "provisioned_concurrency": None,
            "lookback_hours": lookback_hours,
            "price_gb_second": (
                price.gb_second_arm64 if architecture == "arm64" else price.gb_second_x86_64
            ),
            "price_gb_second_x86_64": price.gb_second_x86_64,
            "price_gb_second_arm64": price.gb_second_arm64,
            "price_per_million_requests": price.per_million_requests,
            "price_provisioned_gb_second": (
                price.provisioned_gb_second_arm64
                if architecture == "arm64"
                else price.provisioned_gb_second_x86_64
            ),
            "price_region": priced.price_region,
            "price_source": "bundled",
            "price_reference": priced.reference,
        }
        if figures is not None:
            for column, _, _, how in LAMBDA_SERIES:
                # No datapoint in the window: nothing happened (a sum of zero), except for
                # a maximum, which stays unknown.
                row[column] = figures.get((name, column), 0.0 if how == "sum" else None)
            used = figures.get((name, "memory_used_mb_max"))
            row["memory_used_mb_max"] = used
            row["memory_source"] = "lambda_insights" if used is not None else "none"
        else:
            row["memory_source"] = "none" if memory_known else None
        rows.append(row)
    return schema.conform("functions", pl.DataFrame(rows, infer_schema_length=None))


# --------------------------------------------------------------------------- ECS and Fargate

CONTAINER_INSIGHTS = "ECS/ContainerInsights"
# (our label, Container Insights metric): service-level sums over its tasks, CPU in units
# (1,024 a vCPU) and memory in MiB; utilized / reserved is the share of the reservation.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html
INSIGHTS_SERIES: tuple[tuple[str, str], ...] = (
    ("cpu_used", "CpuUtilized"),
    ("cpu_reserved", "CpuReserved"),
    ("memory_used", "MemoryUtilized"),
    ("memory_reserved", "MemoryReserved"),
)
DESCRIBE_SERVICES_BATCH = 10  # DescribeServices takes at most 10 services a call


def scan_containers_region(run: RegionScan) -> None:
    """ECS services of one region, their task sizes and Container Insights -> ``services``."""
    ecs = run.client("ecs")
    services = run.attempt("ecs.services", lambda: describe_services(ecs))
    if not services:
        return
    definitions = run.attempt(
        "ecs.task_definitions",
        lambda: task_definitions(ecs, {str(s["taskDefinition"]) for s in services}),
    )
    cloudwatch = run.client("cloudwatch")
    with_insights = run.attempt(
        "cloudwatch.container_insights_list", lambda: insights_services(cloudwatch)
    )
    profile: pl.DataFrame | None = None
    if with_insights:
        plan = container_plan(services, with_insights)
        if plan:
            start, end = metrics.lookback_window(
                run.request.context.now, run.request.context.lookback_days
            )
            profile = run.attempt(
                "cloudwatch.container_utilization",
                lambda: container_profile(cloudwatch, plan, start, end),
                resources=sorted({q.resource_id for q in plan}),
            )
    frame = services_frame(
        services,
        definitions or {},
        account_id=run.account.account_id,
        region=run.region,
        profile=profile,
    )
    run.inventory.add("services", frame)


def describe_services(ecs: Any) -> list[dict[str, Any]]:
    """Every service of every cluster (ListClusters, ListServices, DescribeServices)."""
    clusters: list[str] = []
    for page in ecs.get_paginator("list_clusters").paginate():
        clusters.extend(page.get("clusterArns", []))
    found: list[dict[str, Any]] = []
    for cluster in clusters:
        arns: list[str] = []
        for page in ecs.get_paginator("list_services").paginate(cluster=cluster):
            arns.extend(page.get("serviceArns", []))
        for first in range(0, len(arns), DESCRIBE_SERVICES_BATCH):
            answer = ecs.describe_services(
                cluster=cluster, services=arns[first : first + DESCRIBE_SERVICES_BATCH]
            )
            found.extend(answer.get("services", []))
    return found


def task_definitions(ecs: Any, arns: set[str]) -> dict[str, dict[str, Any]]:
    """Task definition ARN -> its description (one DescribeTaskDefinition each)."""
    return {
        arn: ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        for arn in sorted(arns)
    }


def insights_services(cloudwatch: Any) -> set[tuple[str, str]]:
    """(cluster name, service name) pairs that publish Container Insights CPU."""
    found: set[tuple[str, str]] = set()
    paginator = cloudwatch.get_paginator("list_metrics")
    for page in paginator.paginate(Namespace=CONTAINER_INSIGHTS, MetricName="CpuUtilized"):
        for metric in page.get("Metrics", []):
            dims = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions", [])}
            if set(dims) == {"ClusterName", "ServiceName"}:
                found.add((str(dims["ClusterName"]), str(dims["ServiceName"])))
    return found


def _cluster_name(service: Mapping[str, Any]) -> str:
    return str(service.get("clusterArn", "")).rsplit("/", 1)[-1]


def container_plan(
    services: Sequence[Mapping[str, Any]], with_insights: set[tuple[str, str]]
) -> list[metrics.SeriesQuery]:
    plan: list[metrics.SeriesQuery] = []
    for service in services:
        key = (_cluster_name(service), str(service.get("serviceName")))
        if key not in with_insights:
            continue
        dims = (("ClusterName", key[0]), ("ServiceName", key[1]))
        for label, name in INSIGHTS_SERIES:
            plan.append(
                metrics.SeriesQuery(
                    str(service["serviceArn"]),
                    label,
                    "average",
                    CONTAINER_INSIGHTS,
                    name,
                    "Average",
                    dims,
                )
            )
    return plan


def container_profile(
    cloudwatch: Any, plan: Sequence[metrics.SeriesQuery], start: datetime, end: datetime
) -> pl.DataFrame:
    """Per service: p95 and maximum of the hourly used / reserved CPU and memory, percent."""
    series = metrics.fetch_series(cloudwatch, plan, start, end)
    wide = series.pivot(on="metric", index=["resource_id", "ts"], values="value")
    for label, _ in INSIGHTS_SERIES:
        if label not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(label))
    shares = wide.with_columns(
        (pl.col("cpu_used") / pl.col("cpu_reserved") * 100.0).alias("cpu"),
        (pl.col("memory_used") / pl.col("memory_reserved") * 100.0).alias("memory"),
    ).filter(pl.col("cpu").is_not_null() & pl.col("cpu").is_finite())
    return shares.group_by("resource_id").agg(
        pl.col("ts").n_unique().cast(pl.Float64).alias("metric_hours"),
        pl.col("cpu").quantile(0.95, interpolation="linear").alias("cpu_p95"),
        pl.col("cpu").max().alias("cpu_max"),
        pl.col("memory").quantile(0.95, interpolation="linear").alias("memory_p95"),
        pl.col("memory").max().alias("memory_max"),
    )


def services_frame(
    services: Sequence[Mapping[str, Any]],
    definitions: Mapping[str, Mapping[str, Any]],
    *,
    account_id: str,
    region: str,
    profile: pl.DataFrame | None,
) -> pl.DataFrame:
    """One ``services`` row per ECS service, with Fargate prices for its architecture."""
    priced = fargate_prices(region)
    price = priced.prices
    figures = {r["resource_id"]: r for r in profile.to_dicts()} if profile is not None else {}
    rows: list[dict[str, Any]] = []
    for service in services:
        arn = str(service["serviceArn"])
        definition = definitions.get(str(service.get("taskDefinition"))) or {}
        platform = definition.get("runtimePlatform") or {}
        architecture = str(platform.get("cpuArchitecture") or "X86_64")
        arm = architecture == "ARM64"
        providers = [
            str(s.get("capacityProvider")) for s in service.get("capacityProviderStrategy") or []
        ]
        measured = figures.get(arn, {})
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": arn,
                "resource_name": service.get("serviceName"),
                "resource_type": ResourceType.ECS_SERVICE.value,
                "cluster": _cluster_name(service),
                "launch_type": service.get("launchType"),
                "capacity_providers": ",".join(providers) or None,
                "task_definition": service.get("taskDefinition"),
                "task_cpu_units": _number(definition.get("cpu")),
                "task_memory_mb": _number(definition.get("memory")),
                "architecture": architecture,
                "desired_count": service.get("desiredCount"),
                "running_count": service.get("runningCount"),
                "cpu_p95": measured.get("cpu_p95"),
                "cpu_max": measured.get("cpu_max"),
                "memory_p95": measured.get("memory_p95"),
                "memory_max": measured.get("memory_max"),
                "metric_hours": measured.get("metric_hours"),
                "price_vcpu_hour": price.vcpu_hour_arm64 if arm else price.vcpu_hour_x86_64,
                "price_gb_hour": price.gb_hour_arm64 if arm else price.gb_hour_x86_64,
                "price_spot_vcpu_hour": price.vcpu_hour_x86_64 * (1 - FARGATE_SPOT_DISCOUNT),
                "price_spot_gb_hour": price.gb_hour_x86_64 * (1 - FARGATE_SPOT_DISCOUNT),
                "price_region": priced.price_region,
                "price_source": "bundled",
                "price_reference": priced.reference,
            }
        )
    return schema.conform("services", pl.DataFrame(rows, infer_schema_length=None))


def _number(value: Any) -> float | None:
    """Task CPU and memory are strings in the API ("1024", "2048")."""
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
