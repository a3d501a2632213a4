"""Small hand-built inventories for the observability policy tests.

Prices are CloudWatch's us-east-1 list prices (https://aws.amazon.com/cloudwatch/pricing/),
kept here so the tests never depend on the bundled catalogue. Billing frames are FOCUS
(``schema.BILLING``) with one row per resource and day, built vectorially.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory, RunContext

NOW = datetime(2024, 6, 17, tzinfo=UTC)
ACCOUNT = "123456789012"
REGION = "us-east-1"
GIB = float(2**30)
REFERENCE = "https://aws.amazon.com/cloudwatch/pricing/"
INGESTION_PRICE = 0.50
STORAGE_PRICE = 0.03
METRIC_TIERS: tuple[tuple[int, float], ...] = (
    (0, 0.30),
    (10_000, 0.10),
    (250_000, 0.05),
    (1_000_000, 0.02),
)


def tiered_cost(count: int) -> float:
    """Independent reference: monthly cost of ``count`` custom metrics at the tiers."""
    total = 0.0
    bounds = [start for start, _ in METRIC_TIERS[1:]] + [None]
    for (start, price), end in zip(METRIC_TIERS, bounds, strict=True):
        upper = count if end is None else min(count, end)
        total += max(0, upper - start) * price
    return total


def log_group(
    name: str,
    *,
    retention_days: int | None = None,
    stored_bytes: float = 0.0,
    ingested_bytes_30d: float | None = None,
    created: datetime | None = None,
    region: str = REGION,
    price_region: str = REGION,
    log_class: str = "STANDARD",
) -> dict[str, Any]:
    return {
        "provider": "aws",
        "account_id": ACCOUNT,
        "region": region,
        "resource_id": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}",
        "resource_name": name,
        "resource_type": "log_group",
        "retention_days": retention_days,
        "stored_bytes": stored_bytes,
        "ingested_bytes_30d": ingested_bytes_30d,
        "created": created,
        "log_class": log_class,
        "ingestion_price_per_gb": INGESTION_PRICE,
        "storage_price_per_gb_month": STORAGE_PRICE,
        "price_region": price_region,
        "price_source": "bundled",
        "price_reference": REFERENCE,
    }


def metric(
    namespace: str,
    name: str,
    series_count: int,
    cardinality: Mapping[str, int],
    *,
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    return {
        "provider": "aws",
        "account_id": account,
        "region": region,
        "resource_id": f"{namespace}/{name}",
        "resource_name": f"{namespace}/{name}",
        "resource_type": "cloudwatch_metric",
        "namespace": namespace,
        "metric_name": name,
        "custom": not namespace.startswith("AWS/"),
        "series_count": series_count,
        "dimension_cardinality": [{"key": k, "distinct_values": v} for k, v in cardinality.items()],
        "price_tiers": [{"first_metric": s, "price": p} for s, p in METRIC_TIERS],
        "price_region": REGION,
        "price_source": "bundled",
        "price_reference": REFERENCE,
    }


def inventory(
    *,
    log_groups: Sequence[Mapping[str, Any]] = (),
    metrics: Sequence[Mapping[str, Any]] = (),
    billing: pl.DataFrame | None = None,
    provider: str = "aws",
) -> Inventory:
    inv = Inventory(provider=provider, context=RunContext(now=NOW, lookback_days=14))
    if log_groups:
        inv.add("log_groups", pl.DataFrame(list(log_groups), schema=dict(schema.LOG_GROUPS)))
    if metrics:
        inv.add("metric_series", pl.DataFrame(list(metrics), schema=dict(schema.METRIC_SERIES)))
    if billing is not None:
        inv.add_scan("billing", schema.conform("billing", billing).lazy())
    return inv


def daily_charges(
    *,
    resource_id: str | None,
    service: str,
    first_day: datetime,
    days: int,
    cost_per_day: float,
    account: str = ACCOUNT,
    tags: str | None = None,
    category: str = "Usage",
    rows_per_day: int = 1,
) -> pl.DataFrame:
    """FOCUS rows: ``rows_per_day`` equal rows a day adding up to ``cost_per_day``."""
    starts = pl.datetime_range(
        first_day,
        first_day + timedelta(days=days) - timedelta(hours=24 // rows_per_day),
        interval=f"{24 // rows_per_day}h",
        time_zone="UTC",
        eager=True,
    )
    cost = cost_per_day / rows_per_day
    return schema.conform(
        "billing",
        pl.DataFrame({"ChargePeriodStart": starts}).with_columns(
            (pl.col("ChargePeriodStart") + pl.duration(hours=24 // rows_per_day)).alias(
                "ChargePeriodEnd"
            ),
            pl.lit(cost).alias("BilledCost"),
            pl.lit(cost).alias("EffectiveCost"),
            pl.lit(resource_id, dtype=pl.String).alias("ResourceId"),
            pl.lit(service).alias("ServiceName"),
            pl.lit(account).alias("SubAccountId"),
            pl.lit(REGION).alias("RegionId"),
            pl.lit(category).alias("ChargeCategory"),
            pl.lit(tags, dtype=pl.String).alias("Tags"),
            pl.lit("AWS").alias("ProviderName"),
            pl.lit("USD").alias("BillingCurrency"),
        ),
    )
