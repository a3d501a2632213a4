"""Observability collectors: CloudWatch Logs groups and the CloudWatch metric catalogue.

Per account and region:

- ``log_groups``: every log group (DescribeLogGroups, all pages) with its retention (absent
  means never expire), stored bytes, creation time and log class, plus the bytes it took in
  over the lookback, from the ``AWS/Logs`` ``IncomingBytes`` metric per ``LogGroupName``
  (daily sums through GetMetricData, at most 500 queries a call), scaled to 30 days.
- ``metric_series``: one row per namespace and metric name from one paginated ListMetrics
  sweep, with the number of distinct series and of distinct values per dimension key.
  Namespaces that do not start with ``AWS/`` are custom and billed per series.

Prices come from ``providers.pricing.aws_observability`` and travel on the rows, so the
policies need nothing else. Every call is a read (Describe, List, Get).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from costscan.providers.aws.metrics import SeriesQuery, fetch_series, lookback_window
from costscan.providers.aws.scan import RegionScan
from costscan.providers.pricing.aws_observability import custom_metric_tiers, log_prices
from costscan.scanner.contracts import schema

LOGS_NAMESPACE = "AWS/Logs"
INCOMING_BYTES = "IncomingBytes"
# Daily sums: one point per day and group keeps the answer small, and CloudWatch (and
# moto) compute Sum exactly at this period.
DAILY_SECONDS = 86_400
DAYS_PER_SCALED_MONTH = 30
AWS_NAMESPACE_PREFIX = "AWS/"
BUNDLED = "bundled"


def scan_observability_region(run: RegionScan) -> None:
    """Collect ``log_groups`` and ``metric_series`` for one account and region."""
    logs = run.client("logs")
    cloudwatch = run.client("cloudwatch")
    account, region = run.account.account_id, run.region
    context = run.request.context

    groups = run.attempt("logs.log_groups", lambda: describe_log_groups(logs))
    if groups:
        start, end = lookback_window(context.now, context.lookback_days)
        names = [str(g["logGroupName"]) for g in groups if g.get("logGroupName")]
        incoming = run.attempt(
            "cloudwatch.log_ingestion",
            lambda: incoming_bytes(cloudwatch, names, start, end),
            resources=names,
        )
        run.inventory.add(
            "log_groups",
            log_group_frame(
                groups,
                incoming,
                account_id=account,
                region=region,
                lookback_days=context.lookback_days,
            ),
        )

    listed = run.attempt("cloudwatch.metric_series", lambda: list_metrics(cloudwatch))
    if listed:
        run.inventory.add(
            "metric_series", metric_series_frame(listed, account_id=account, region=region)
        )


# --------------------------------------------------------------------------- logs


def describe_log_groups(logs: Any) -> list[dict[str, Any]]:
    """Every log group in the region, all pages."""
    found: list[dict[str, Any]] = []
    for page in logs.get_paginator("describe_log_groups").paginate():
        found.extend(page.get("logGroups", []))
    return found


def incoming_bytes(
    cloudwatch: Any, group_names: Sequence[str], start: datetime, end: datetime
) -> pl.DataFrame:
    """Bytes each log group took in over [start, end): columns ``log_group``, ``bytes``.

    Every group asked for gets a row; a group with no datapoints took in nothing.
    """
    plan = [
        SeriesQuery(
            resource_id=name,
            metric="ingested_bytes",
            statistic="sum",
            namespace=LOGS_NAMESPACE,
            metric_name=INCOMING_BYTES,
            stat="Sum",
            dimensions=(("LogGroupName", name),),
        )
        for name in group_names
    ]
    points = fetch_series(cloudwatch, plan, start, end, period=DAILY_SECONDS)
    totals = points.group_by("resource_id").agg(pl.col("value").sum().alias("bytes"))
    asked = pl.DataFrame({"log_group": list(group_names)}, schema={"log_group": pl.String})
    return (
        asked.join(totals, left_on="log_group", right_on="resource_id", how="left")
        .with_columns(pl.col("bytes").fill_null(0.0))
        .unique("log_group", keep="first", maintain_order=True)
    )


def _from_millis(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def _log_group_id(group: Mapping[str, Any]) -> str:
    # The ARN without the ":*" suffix is what billing exports carry as ResourceId.
    arn = group.get("logGroupArn") or str(group.get("arn") or "").removesuffix(":*")
    return str(arn or group.get("logGroupName"))


def log_group_frame(
    groups: Iterable[Mapping[str, Any]],
    incoming: pl.DataFrame | None,
    *,
    account_id: str,
    region: str,
    lookback_days: int,
) -> pl.DataFrame:
    """The ``log_groups`` frame for DescribeLogGroups output and the ingestion totals.

    ``incoming`` None (the metric call failed) leaves ``ingested_bytes_30d`` null: unknown,
    not zero.
    """
    prices = log_prices(region)
    rows = [
        {
            "provider": "aws",
            "account_id": account_id,
            "region": region,
            "resource_id": _log_group_id(g),
            "resource_name": g.get("logGroupName"),
            "resource_type": "log_group",
            "retention_days": g.get("retentionInDays"),
            "stored_bytes": g.get("storedBytes"),
            "created": _from_millis(g.get("creationTime")),
            # Absent on groups made before log classes existed: they are Standard.
            "log_class": str(g.get("logGroupClass") or "STANDARD"),
        }
        for g in groups
        if g.get("logGroupName")
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            **{c: schema.LOG_GROUPS[c] for c in schema.IDENTITY_COLUMNS},
            "retention_days": pl.Int64,
            "stored_bytes": pl.Float64,
            "created": schema.UTC_TS,
            "log_class": pl.String,
        },
    )
    if incoming is not None:
        scale = DAYS_PER_SCALED_MONTH / max(lookback_days, 1)
        frame = frame.join(
            incoming.select(
                pl.col("log_group").alias("resource_name"),
                (pl.col("bytes") * scale).alias("ingested_bytes_30d"),
            ),
            on="resource_name",
            how="left",
        )
    ingestion_price = pl.col("log_class").replace_strict(
        prices.ingestion_per_gb,
        default=prices.ingestion_per_gb["STANDARD"],
        return_dtype=pl.Float64,
    )
    frame = frame.with_columns(
        ingestion_price.alias("ingestion_price_per_gb"),
        pl.lit(prices.storage_per_gb_month).alias("storage_price_per_gb_month"),
        pl.lit(prices.price_region).alias("price_region"),
        pl.lit(BUNDLED).alias("price_source"),
        pl.lit(prices.reference).alias("price_reference"),
    )
    return schema.conform("log_groups", frame)


# --------------------------------------------------------------------------- metrics


def list_metrics(cloudwatch: Any) -> list[dict[str, Any]]:
    """Every metric the region lists (one paginated ListMetrics over all namespaces)."""
    found: list[dict[str, Any]] = []
    for page in cloudwatch.get_paginator("list_metrics").paginate():
        found.extend(page.get("Metrics", []))
    return found


def metric_series_frame(
    metrics: Iterable[Mapping[str, Any]], *, account_id: str, region: str
) -> pl.DataFrame:
    """The ``metric_series`` frame: series and distinct values per key, per metric name.

    A series is (namespace, name, sorted dimensions). Emulators can list one series once
    per datapoint, so series are deduplicated before anything is counted.
    """
    namespaces: list[str] = []
    names: list[str] = []
    series_keys: list[str] = []
    dimension_keys: list[list[str]] = []
    dimension_values: list[list[str]] = []
    for metric in metrics:
        dims = sorted(
            (str(d.get("Name")), str(d.get("Value"))) for d in metric.get("Dimensions") or ()
        )
        namespaces.append(str(metric.get("Namespace")))
        names.append(str(metric.get("MetricName")))
        # Unambiguous text key for the dimension set (names and values may hold any char).
        series_keys.append("\x1f".join(f"{k}\x1e{v}" for k, v in dims))
        dimension_keys.append([k for k, _ in dims])
        dimension_values.append([v for _, v in dims])
    listed = pl.DataFrame(
        {
            "namespace": namespaces,
            "metric_name": names,
            "series": series_keys,
            "key": dimension_keys,
            "value": dimension_values,
        },
        schema={
            "namespace": pl.String,
            "metric_name": pl.String,
            "series": pl.String,
            "key": pl.List(pl.String),
            "value": pl.List(pl.String),
        },
    ).unique(["namespace", "metric_name", "series"], keep="first")
    per_metric = ["namespace", "metric_name"]
    counts = listed.group_by(per_metric).agg(pl.len().cast(pl.Int64).alias("series_count"))
    cardinality = (
        listed.explode(["key", "value"])
        .drop_nulls("key")
        .group_by([*per_metric, "key"])
        .agg(pl.col("value").n_unique().cast(pl.Int64).alias("distinct_values"))
        .sort([*per_metric, "distinct_values", "key"], descending=[False, False, True, False])
        .group_by(per_metric, maintain_order=True)
        .agg(pl.struct("key", "distinct_values").alias("dimension_cardinality"))
    )
    tiers = custom_metric_tiers(region)
    tier_list = [{"first_metric": start, "price": price} for start, price in tiers.tiers]
    frame = (
        counts.join(cardinality, on=per_metric, how="left")
        .with_columns(
            pl.col("dimension_cardinality").fill_null(pl.lit([], dtype=_CARDINALITY)),
            pl.lit("aws").alias("provider"),
            pl.lit(account_id).alias("account_id"),
            pl.lit(region).alias("region"),
            pl.format("{}/{}", pl.col("namespace"), pl.col("metric_name")).alias("resource_id"),
            pl.format("{}/{}", pl.col("namespace"), pl.col("metric_name")).alias("resource_name"),
            pl.lit("cloudwatch_metric").alias("resource_type"),
            (~pl.col("namespace").str.starts_with(AWS_NAMESPACE_PREFIX)).alias("custom"),
            pl.lit(tier_list, dtype=schema.METRIC_SERIES["price_tiers"]).alias("price_tiers"),
            pl.lit(tiers.price_region).alias("price_region"),
            pl.lit(BUNDLED).alias("price_source"),
            pl.lit(tiers.reference).alias("price_reference"),
        )
        .sort(per_metric)
    )
    return schema.conform("metric_series", frame)


_CARDINALITY = schema.METRIC_SERIES["dimension_cardinality"]
