"""Serverless collectors: Lambda functions and their CloudWatch figures. Reads only.

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

Prices come from ``providers.pricing.aws_serverless`` (bundled us-east-1, named fallback).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from costscan.providers.aws import metrics
from costscan.providers.aws.scan import RegionScan
from costscan.providers.pricing.aws_serverless import lambda_prices
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
